// Building DOM without HTML strings (nothing from the chain is ever parsed as markup), and a confirmation dialog.
import { t } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "i18n") { el.dataset.i18n = value; el.textContent = t(value); }
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Text that is data, not language (a hash, an address, a name from a contract): never translated.
export function raw(text, tag = "code") {
  return h(tag, { class: "raw" }, text);
}

export function label(key) {
  return h("span", { i18n: key });
}

// Resolves true when the user confirms `messageKey` (with `values`), false otherwise; keyboard-usable (<dialog>).
export function confirmAction(messageKey, values = {}) {
  return new Promise((resolve) => {
    const ok = h("button", { type: "submit", value: "ok", class: "primary", i18n: "common.confirm" });
    const cancel = h("button", { type: "submit", value: "cancel", i18n: "common.cancel" });
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-text" },
      h("form", { method: "dialog" }, h("p", { id: "confirm-text" }, t(messageKey, values)), h("menu", {}, cancel, ok)));
    dialog.addEventListener("close", () => { dialog.remove(); resolve(dialog.returnValue === "ok"); });
    document.body.append(dialog);
    dialog.showModal();
    ok.focus();
  });
}

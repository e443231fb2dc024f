// The explorer: a hash router over views (home, block, transaction, address, dev panel, search), each a module
// that renders into <main> from the node's JSON-RPC API on this same origin.
import { initI18n, languagePicker, onLanguageChange, t } from "./common/i18n.js";
import { Rpc } from "./common/rpc.js";
import { h } from "./common/dom.js";
import { homeView } from "./home.js";
import { blockView } from "./block.js";
import { txView } from "./tx.js";
import { addressView } from "./address.js";
import { devView } from "./dev.js";
import { resolveSearch } from "./search.js";

const rpc = new Rpc(location.origin + "/");
const view = document.getElementById("view");
let cleanup = null;

const routes = [
  [/^#?\/?$/, () => homeView],
  [/^#\/block\/(\w+)$/, () => blockView],
  [/^#\/tx\/(0x[0-9a-fA-F]{64})$/, () => txView],
  [/^#\/address\/(0x[0-9a-fA-F]{40})$/, () => addressView],
  [/^#\/dev$/, () => devView],
];

export async function render() {
  if (cleanup) { cleanup(); cleanup = null; }
  const hash = location.hash || "#/";
  view.replaceChildren();
  for (const [pattern, get] of routes) {
    const match = hash.match(pattern);
    if (match) {
      try {
        cleanup = (await get()(view, rpc, match[1])) || null;
      } catch (error) {
        view.replaceChildren(h("p", { class: "error" }, t("common.failed", { message: error.message })));
      }
      view.dataset.ready = hash;
      return;
    }
  }
  view.replaceChildren(h("p", { class: "error", i18n: "explorer.notFound" }));
  view.dataset.ready = hash;
}

async function main() {
  await initI18n("common/");
  document.getElementById("language").append(languagePicker());
  document.getElementById("search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = event.target.elements.q;
    const target = await resolveSearch(rpc, input.value.trim());
    if (target) { input.value = ""; location.hash = target; }
    else view.replaceChildren(h("p", { class: "error", i18n: "explorer.search.none" }));
  });
  window.addEventListener("hashchange", render);
  onLanguageChange(render);
  await render();
}

main();

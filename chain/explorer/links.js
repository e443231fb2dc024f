// Links to the explorer's pages, showing the value as data (never translated).
import { h } from "./common/dom.js";
import { short } from "./common/format.js";

export function blockLink(number) {
  const n = typeof number === "string" && number.startsWith("0x") ? BigInt(number).toString() : String(number);
  return h("a", { href: `#/block/${n}`, class: "raw" }, n);
}

export function txLink(hash, keep = 8) {
  return h("a", { href: `#/tx/${hash}`, class: "raw", title: hash }, short(hash, keep));
}

export function addressLink(address, name = null, keep = 8) {
  if (!address) return h("span", { class: "muted" }, "—");
  return h("a", { href: `#/address/${address}`, class: "raw", title: address }, name || short(address, keep));
}

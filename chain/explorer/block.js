// A block: its header fields and its transactions.
import { h, raw } from "./common/dom.js";
import { gwei, integer, time, units } from "./common/format.js";
import { t } from "./common/i18n.js";
import { fields } from "./fields.js";
import { addressLink, txLink } from "./links.js";

export async function blockView(view, rpc, id) {
  const block = id.startsWith("0x") && id.length === 66
    ? await rpc.call("eth_getBlockByHash", [id, true])
    : await rpc.call("eth_getBlockByNumber", ["0x" + BigInt(id).toString(16), true]);
  if (!block) {
    view.append(h("p", { class: "error" }, t("explorer.blockNotFound", { id })));
    return;
  }
  const number = BigInt(block.number);
  const nav = h("div", { class: "pager" },
    number > 0n ? h("a", { href: `#/block/${number - 1n}`, i18n: "explorer.previous" }) : null,
    h("a", { href: `#/block/${number + 1n}`, i18n: "explorer.next" }));
  view.append(h("section", { class: "panel" }, h("h2", {}, t("explorer.blockTitle", { number: integer(number) })),
    fields([
      ["explorer.hash", raw(block.hash)],
      ["explorer.parent", number > 0n ? h("a", { href: `#/block/${block.parentHash}`, class: "raw" }, block.parentHash)
        : raw(block.parentHash)],
      ["explorer.timestamp", time(BigInt(block.timestamp))],
      ["explorer.miner", addressLink(block.miner)],
      ["explorer.gasUsed", `${integer(BigInt(block.gasUsed))} / ${integer(BigInt(block.gasLimit))}`],
      ["explorer.baseFee", block.baseFeePerGas ? gwei(BigInt(block.baseFeePerGas)) : undefined],
      ["explorer.transactions", integer(block.transactions.length)],
    ]), nav));
  const rows = block.transactions.map((tx) => h("tr", {}, h("td", {}, txLink(tx.hash)),
    h("td", {}, addressLink(tx.from)), h("td", {}, tx.to ? addressLink(tx.to) : h("span", { i18n: "explorer.creation" })),
    h("td", {}, units(BigInt(tx.value)))));
  view.append(h("section", { class: "panel" }, h("h2", { i18n: "explorer.transactions" }),
    rows.length ? h("div", { class: "scroll" }, h("table", {}, h("thead", {}, h("tr", {},
      h("th", { i18n: "explorer.transaction" }), h("th", { i18n: "explorer.from" }), h("th", { i18n: "explorer.to" }),
      h("th", { i18n: "explorer.value" }))), h("tbody", {}, rows)))
      : h("p", { class: "muted", i18n: "explorer.noTransactions" })));
  return null;
}

// Home: chain id, gas price, mining mode, the latest blocks and transactions, kept live by newHeads.
import { h, label, raw } from "./common/dom.js";
import { ago, gwei, integer, units } from "./common/format.js";
import { t } from "./common/i18n.js";
import { addressLink, blockLink, txLink } from "./links.js";

const SHOWN = 10;

export async function homeView(view, rpc) {
  const [info, gasPrice, head] = await Promise.all([
    rpc.call("bourse_explorerInfo"), rpc.call("eth_gasPrice"), rpc.call("eth_blockNumber")]);
  const headCell = h("span", { class: "raw", id: "head-number" }, integer(head));
  const mode = info.miningMode === "interval"
    ? t("explorer.mode.interval", { seconds: info.blockTime }) : t(`explorer.mode.${info.miningMode}`);
  const stats = h("section", { class: "panel" }, h("div", { class: "stats" },
    h("div", {}, label("explorer.chainId"), raw(BigInt(info.chainId).toString(), "span")),
    h("div", {}, label("explorer.latestBlock"), headCell),
    h("div", {}, label("explorer.gasPrice"), h("span", { id: "gas-price" }, gwei(gasPrice))),
    h("div", {}, label("explorer.miningMode"), h("span", { id: "mining-mode" }, mode))));
  const blockRows = h("tbody", { id: "home-blocks" });
  const txRows = h("tbody", { id: "home-txs" });
  view.append(stats, h("div", { class: "grid" },
    h("section", { class: "panel" }, h("h2", { i18n: "explorer.latestBlocks" }), h("div", { class: "scroll" },
      h("table", {}, h("thead", {}, h("tr", {}, h("th", { i18n: "explorer.block" }),
        h("th", { i18n: "explorer.age" }), h("th", { i18n: "explorer.transactions" }),
        h("th", { i18n: "explorer.gasUsed", class: "hide-narrow" }))), blockRows))),
    h("section", { class: "panel" }, h("h2", { i18n: "explorer.latestTransactions" }), h("div", { class: "scroll" },
      h("table", {}, h("thead", {}, h("tr", {}, h("th", { i18n: "explorer.transaction" }),
        h("th", { i18n: "explorer.from" }), h("th", { i18n: "explorer.to" }),
        h("th", { i18n: "explorer.value" }))), txRows)))));

  const addBlock = (block) => {
    blockRows.prepend(h("tr", { dataset: { number: BigInt(block.number).toString() } }, h("td", {}, blockLink(block.number)),
      h("td", { class: "age", dataset: { ts: BigInt(block.timestamp).toString() } }, ago(BigInt(block.timestamp))),
      h("td", {}, integer(block.transactions.length)),
      h("td", { class: "hide-narrow" }, integer(BigInt(block.gasUsed)))));
    for (const tx of block.transactions) {
      txRows.prepend(h("tr", { dataset: { hash: tx.hash } }, h("td", {}, txLink(tx.hash)),
        h("td", {}, addressLink(tx.from)), h("td", {}, tx.to ? addressLink(tx.to) : label("explorer.creation")),
        h("td", {}, units(BigInt(tx.value)))));
    }
    while (blockRows.children.length > SHOWN) blockRows.lastChild.remove();
    while (txRows.children.length > SHOWN) txRows.lastChild.remove();
    headCell.textContent = integer(BigInt(block.number));
  };

  const latest = Number(BigInt(head));
  const numbers = [];
  for (let n = Math.max(0, latest - SHOWN + 1); n <= latest; n++) numbers.push(n);
  const blocks = await Promise.all(numbers.map((n) => rpc.call("eth_getBlockByNumber", ["0x" + n.toString(16), true])));
  blocks.filter(Boolean).forEach(addBlock);

  let seen = latest;
  const stop = rpc.subscribe("newHeads", async (header) => {
    const number = Number(BigInt(header.number));
    if (number <= seen) return;
    seen = number;
    const block = await rpc.call("eth_getBlockByNumber", [header.number, true]);
    if (block) addBlock(block);
    rpc.call("eth_gasPrice").then((price) => { document.getElementById("gas-price").textContent = gwei(price); });
  });
  const ticker = setInterval(() => {
    for (const cell of blockRows.querySelectorAll("td.age")) cell.textContent = ago(BigInt(cell.dataset.ts));
  }, 5000);
  return () => { stop(); clearInterval(ticker); };
}

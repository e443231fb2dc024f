// An address: balance, nonce, code (with its verified source when an artifact is known), the platform token and
// wrapped coin balances, and its transactions from the node's address index (Otterscan's ots_ API), paged.
import { h, label, raw } from "./common/dom.js";
import { integer, units } from "./common/format.js";
import { t } from "./common/i18n.js";
import { fields } from "./fields.js";
import { explorerInfo } from "./info.js";
import { addressLink, blockLink, txLink } from "./links.js";

const PAGE = 25;
const BALANCE_OF = "0x70a08231";  // balanceOf(address)
const TOKENS = [["PlatformToken", "BRS"], ["WrappedNative", "WBNB"]];

async function tokenBalances(rpc, info, address) {
  const rows = [];
  for (const [name, symbol] of TOKENS) {
    const token = info.platform.find((c) => c.name === name);
    if (!token) continue;
    const data = BALANCE_OF + address.slice(2).toLowerCase().padStart(64, "0");
    try {
      const result = await rpc.call("eth_call", [{ to: token.address, data }, "latest"]);
      rows.push(h("div", {}, units(BigInt(result)), " ", h("a", { href: `#/address/${token.address}`, class: "raw" },
        symbol)));
    } catch (error) {
      rows.push(h("div", { class: "muted" }, raw(symbol), " ", t("common.failed", { message: error.message })));
    }
  }
  return rows.length ? h("div", { id: "token-balances" }, rows) : undefined;
}

function txTable(address, page) {
  const receipts = new Map(page.receipts.map((r) => [r.transactionHash, r]));
  const rows = page.txs.map((tx) => {
    const receipt = receipts.get(tx.hash);
    const out = tx.from.toLowerCase() === address.toLowerCase();
    return h("tr", {}, h("td", {}, txLink(tx.hash)), h("td", {}, blockLink(tx.blockNumber)),
      h("td", {}, h("span", { class: out ? "pill down" : "pill up", i18n: out ? "explorer.out" : "explorer.in" })),
      h("td", {}, addressLink(out ? tx.to || (receipt && receipt.contractAddress) : tx.from)),
      h("td", {}, units(BigInt(tx.value))),
      h("td", {}, receipt && receipt.status === "0x0" ? h("span", { class: "fail", i18n: "explorer.failed" }) : ""));
  });
  return h("table", {}, h("thead", {}, h("tr", {}, h("th", { i18n: "explorer.transaction" }),
    h("th", { i18n: "explorer.block" }), h("th", { i18n: "explorer.direction" }),
    h("th", { i18n: "explorer.counterparty" }), h("th", { i18n: "explorer.value" }), h("th", {}))), h("tbody", {}, rows));
}

export async function addressView(view, rpc, address) {
  const [info, balance, nonce, code, contract] = await Promise.all([explorerInfo(rpc),
    rpc.call("eth_getBalance", [address, "latest"]), rpc.call("eth_getTransactionCount", [address, "latest"]),
    rpc.call("eth_getCode", [address, "latest"]), rpc.call("bourse_contractInfo", [address])]);
  const codeSize = (code.length - 2) / 2;
  view.append(h("section", { class: "panel" }, h("h2", {}, contract ? raw(contract.name, "span") : label(
    codeSize ? "explorer.contract" : "explorer.account")), fields([
    ["explorer.address", raw(address)],
    ["explorer.balance", h("span", { id: "balance" }, t("explorer.amountNative", { amount: units(BigInt(balance), 18, 18),
      symbol: info.nativeSymbol }))],
    ["explorer.nonce", integer(BigInt(nonce))],
    ["explorer.tokens", await tokenBalances(rpc, info, address)],
    ["explorer.code", codeSize ? t("explorer.codeSize", { bytes: integer(codeSize) }) : t("explorer.noCode")],
  ])));
  if (codeSize) {
    const section = h("section", { class: "panel", id: "code" }, h("h2", { i18n: "explorer.code" }));
    if (contract) {
      section.append(h("p", { class: "ok" }, t("explorer.verified", { name: contract.name })));
      for (const source of contract.sources) {
        section.append(h("details", {}, h("summary", {}, raw(source.path)), h("pre", {}, source.content)));
      }
    } else {
      section.append(h("p", { class: "muted", i18n: "explorer.unverified" }));
    }
    section.append(h("details", {}, h("summary", { i18n: "explorer.bytecode" }), h("pre", {}, code)));
    view.append(section);
  }

  const list = h("div", { class: "scroll" });
  const pager = h("div", { class: "pager" });
  const history = [0];  // the "before block" cursor of each page shown so far (0: the newest)
  const show = async () => {
    const page = await rpc.call("ots_searchTransactionsBefore", [address, history[history.length - 1], PAGE]);
    list.replaceChildren(page.txs.length ? txTable(address, page) : h("p", { class: "muted",
      i18n: "explorer.noTransactions" }));
    pager.replaceChildren();
    if (history.length > 1) {
      pager.append(h("button", { type: "button", i18n: "explorer.newer",
        onclick: () => { history.pop(); show(); } }));
    }
    if (!page.lastPage && page.txs.length) {
      const oldest = page.txs[page.txs.length - 1].blockNumber;
      pager.append(h("button", { type: "button", i18n: "explorer.older",
        onclick: () => { history.push(Number(BigInt(oldest))); show(); } }));
    }
  };
  view.append(h("section", { class: "panel", id: "address-txs" }, h("h2", { i18n: "explorer.transactions" }),
    list, pager));
  await show();
  return null;
}

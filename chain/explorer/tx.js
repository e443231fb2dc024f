// A transaction: status, value, fee, its decoded call and logs, the revert reason and the call tree, as far as the
// node knows the contracts (bourse_decodeTransaction); raw data where it does not.
import { h, label, raw } from "./common/dom.js";
import { gwei, integer, units } from "./common/format.js";
import { t } from "./common/i18n.js";
import { fields } from "./fields.js";
import { explorerInfo } from "./info.js";
import { addressLink, blockLink } from "./links.js";

function argValue(arg) {
  if (arg.type === "address") return addressLink(arg.value, arg.value, 20);
  return raw(Array.isArray(arg.value) ? JSON.stringify(arg.value) : String(arg.value));
}

function args(list) {
  return h("table", { class: "args" }, h("tbody", {}, list.map((arg) => h("tr", {},
    h("td", {}, raw(arg.name || "—")), h("td", { class: "muted" }, raw(arg.type)), h("td", {}, argValue(arg))))));
}

function decodedCall(call) {
  return h("div", { class: "decoded-call" }, h("div", {}, raw(call.signature)), args(call.args));
}

function logView(log, receiptLog) {
  const who = addressLink(log.address, log.contract);
  if (!log.event) {
    return h("div", { class: "log" }, h("div", {}, raw(`#${BigInt(log.logIndex)}`), " ", who),
      h("div", { class: "muted" }, label("explorer.undecodedLog")),
      h("pre", {}, [...receiptLog.topics, receiptLog.data].join("\n")));
  }
  return h("div", { class: "log" }, h("div", {}, raw(`#${BigInt(log.logIndex)}`), " ", who, " ",
    raw(log.event.signature)), args(log.event.args));
}

function tree(call) {
  const what = call.call ? call.call.name : call.selector || (call.type === "CREATE" ? "" : "");
  const node = h("li", { class: "call" },
    h("span", { class: "pill raw" }, call.type), " ", addressLink(call.to, call.contract), " ",
    what ? raw(what, "span") : null, " ",
    call.value && BigInt(call.value) > 0n ? h("span", { class: "what" }, units(BigInt(call.value))) : null, " ",
    call.error ? h("span", { class: "fail raw" }, call.error) : null);
  if (call.calls.length) node.append(h("ul", {}, call.calls.map(tree)));
  return node;
}

export async function txView(view, rpc, hash) {
  const [tx, receipt, info] = await Promise.all([rpc.call("eth_getTransactionByHash", [hash]),
    rpc.call("eth_getTransactionReceipt", [hash]), explorerInfo(rpc)]);
  const symbol = info.nativeSymbol;
  if (!tx) {
    view.append(h("p", { class: "error" }, t("explorer.txNotFound", { hash })));
    return null;
  }
  let decoded = null;
  try {
    decoded = await rpc.call("bourse_decodeTransaction", [hash]);
  } catch (error) {
    decoded = null;
  }
  const status = !receipt ? h("span", { class: "muted", i18n: "explorer.pending" })
    : receipt.status === "0x1" ? h("span", { class: "ok", id: "tx-status", i18n: "explorer.success" })
      : h("span", { class: "fail", id: "tx-status", i18n: "explorer.failed" });
  const fee = receipt ? BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice) : null;
  view.append(h("section", { class: "panel" }, h("h2", { i18n: "explorer.transaction" }), fields([
    ["explorer.hash", raw(tx.hash)],
    ["explorer.status", status],
    ["explorer.block", tx.blockNumber ? blockLink(tx.blockNumber) : label("explorer.pending")],
    ["explorer.from", addressLink(tx.from, null, 20)],
    ["explorer.to", tx.to ? addressLink(tx.to, decoded && decoded.contract ? decoded.contract : null, 20)
      : h("span", {}, label("explorer.creation"), " ", receipt && receipt.contractAddress
        ? addressLink(receipt.contractAddress, decoded && decoded.contract, 20) : null)],
    ["explorer.value", t("explorer.amountNative", { amount: units(BigInt(tx.value), 18, 18), symbol })],
    ["explorer.fee", fee !== null ? t("explorer.amountNative", { amount: units(fee, 18, 18), symbol }) : undefined],
    ["explorer.gasPrice", receipt ? gwei(BigInt(receipt.effectiveGasPrice)) : undefined],
    ["explorer.gasUsed", receipt ? `${integer(BigInt(receipt.gasUsed))} / ${integer(BigInt(tx.gas))}` : undefined],
    ["explorer.nonce", integer(BigInt(tx.nonce))],
  ])));

  if (decoded && decoded.revert) {
    const reason = decoded.revert.reason;
    const text = reason ? (reason.message !== undefined ? reason.message
      : `${reason.signature} ${JSON.stringify(reason.args.map((a) => a.value))}`) : decoded.revert.message;
    view.append(h("section", { class: "panel", id: "revert" }, h("h2", { i18n: "explorer.revertReason" }),
      h("p", { class: "fail" }, raw(text || t("explorer.noReason"), "span")),
      decoded.revert.data && decoded.revert.data !== "0x" ? h("pre", {}, decoded.revert.data) : null));
  }

  const input = h("section", { class: "panel", id: "input" }, h("h2", { i18n: "explorer.input" }));
  if (decoded && decoded.call) input.append(decodedCall(decoded.call));
  else if (tx.input && tx.input !== "0x") input.append(h("p", { class: "muted", i18n: "explorer.undecodedInput" }));
  else input.append(h("p", { class: "muted", i18n: "explorer.noInput" }));
  if (tx.input && tx.input !== "0x") {
    input.append(h("details", {}, h("summary", { i18n: "explorer.rawInput" }), h("pre", {}, tx.input)));
  }
  view.append(input);

  if (receipt) {
    const logs = h("section", { class: "panel", id: "logs" }, h("h2", {}, t("explorer.logsTitle",
      { count: integer(receipt.logs.length) })));
    if (!receipt.logs.length) logs.append(h("p", { class: "muted", i18n: "explorer.noLogs" }));
    receipt.logs.forEach((log, i) => {
      const known = decoded ? decoded.logs[i] : { logIndex: log.logIndex, address: log.address, event: null };
      logs.append(logView(known, log));
    });
    view.append(logs);
  }

  const trace = h("section", { class: "panel", id: "trace" }, h("h2", { i18n: "explorer.callTree" }));
  if (decoded && decoded.trace) {
    trace.append(h("div", { class: "tree calls" }, h("ul", {}, tree(decoded.trace))));
    if (decoded.traceCut) trace.append(h("p", { class: "muted", i18n: "explorer.traceCut" }));
  } else {
    trace.append(h("p", { class: "muted", i18n: "explorer.noTrace" }));
  }
  view.append(trace);
  return null;
}

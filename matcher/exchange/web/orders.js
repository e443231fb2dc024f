// The account's open orders (each with cancel: an EIP-712 Cancel), its order history, and its fills with their
// settlement state (PENDING, SUBMITTED, CONFIRMED or FAILED) and the settling transaction in the explorer.
import { h, raw } from "./common/dom.js";
import { timeMs } from "./common/format.js";
import { t } from "./common/i18n.js";
import { api } from "./exchange.js";
import { formatUnits, trim } from "./decimal.js";
import { exchangeTyped } from "./signing.js";
import { assets } from "./assets.js";

const TABS = ["open", "history", "fills", "withdrawals"];

export function ordersPanel(root, ctx) {
  const known = assets(ctx.info);
  const amountOf = (asset, value) => formatUnits(BigInt(value), known.get(asset)?.decimals ?? 0);
  let tab = "open";
  const content = h("div", { class: "scroll", id: "orders-body" });
  const message = h("p", { class: "error", id: "cancel-error", role: "alert" });
  const buttons = TABS.map((name) => h("button", { type: "button", role: "tab", id: `tab-${name}`, value: name,
    "aria-selected": String(name === tab), i18n: `trade.tab.${name}`,
    onclick: () => { tab = name; for (const b of buttons) b.setAttribute("aria-selected", String(b.value === tab));
      render(ctx.account); } }));
  root.append(h("div", { class: "tabs", role: "tablist" }, buttons), content, message);

  const cancel = async (order) => {
    message.textContent = "";
    try {
      const timestamp = await api.serverTime();
      const typed = exchangeTyped("Cancel", { maker: ctx.wallet.account, symbol: order.symbol, orderId: order.orderId,
        clientOrderId: "", timestamp }, ctx.info.chainId, ctx.info.settlementVault);
      const signature = await ctx.wallet.signTypedData(typed);
      await api.del("/api/v3/order", { symbol: order.symbol, orderId: order.orderId, address: ctx.wallet.account,
        timestamp, signature });
      ctx.account.refresh();
    } catch (error) {
      message.textContent = t("common.failed", { message: error.message });
    }
  };

  const head = (...keys) => h("thead", {}, h("tr", {}, keys.map((key) => h("th", key ? { i18n: key } : {}))));
  const orderRow = (o, withCancel) => h("tr", { dataset: { orderId: String(o.orderId) } },
    h("td", {}, timeMs(o.time)), h("td", { class: o.side === "BUY" ? "up" : "down", i18n: `trade.side.${o.side}` }),
    h("td", { i18n: `trade.type.${o.type}` }), h("td", { class: "num" }, trim(o.price)),
    h("td", { class: "num" }, `${trim(o.executedQty)} / ${trim(o.origQty)}`),
    h("td", { i18n: `trade.status.${o.status}` }),
    withCancel ? h("td", {}, h("button", { type: "button", class: "cancel", i18n: "trade.cancel",
      onclick: () => cancel(o) })) : null);

  const render = (account) => {
    if (!ctx.wallet.account) {
      content.replaceChildren(h("p", { class: "muted", i18n: "trade.connectFirst" }));
      return;
    }
    if (tab === "open" || tab === "history") {
      const orders = tab === "open" ? account.openOrders : account.allOrders;
      content.replaceChildren(orders.length ? h("table", { id: `${tab}-orders` }, head("trade.time", "trade.side",
        "trade.orderType", "trade.price", "trade.filled", "trade.status", tab === "open" ? "" : null),
      h("tbody", {}, orders.map((o) => orderRow(o, tab === "open"))))
        : h("p", { class: "muted", i18n: "trade.noOrders" }));
      return;
    }
    if (tab === "withdrawals") {
      content.replaceChildren(account.withdrawals.length ? h("table", { id: "withdrawals" }, head("trade.time",
        "trade.asset", "trade.amount", "trade.settlement", "trade.transaction"), h("tbody", {}, account.withdrawals.map(
        (w) => h("tr", { dataset: { id: String(w.id), state: w.state } }, h("td", {}, timeMs(w.created_ms)),
          h("td", {}, raw(w.asset, "span")), h("td", { class: "num" }, amountOf(w.asset, w.amount)),
          h("td", { i18n: `trade.settlement.${w.state}` }),
          h("td", {}, w.tx_hash ? h("a", { class: "tx-link", href: `${ctx.config.explorerUrl}#/tx/${w.tx_hash}`,
            target: "_blank", rel: "noopener", i18n: "trade.viewTx" }) : "—")))))
        : h("p", { class: "muted", i18n: "trade.noWithdrawals" }));
      return;
    }
    content.replaceChildren(account.trades.length ? h("table", { id: "fills" }, head("trade.time", "trade.side",
      "trade.price", "trade.amount", "trade.fee", "trade.settlement", "trade.transaction"),
    h("tbody", {}, account.trades.map((x) => h("tr", { dataset: { tradeId: String(x.id), state: x.settlement } },
      h("td", {}, timeMs(x.time)), h("td", { class: x.isBuyer ? "up" : "down", i18n: x.isBuyer ? "trade.side.BUY"
        : "trade.side.SELL" }), h("td", { class: "num" }, trim(x.price)), h("td", { class: "num" }, trim(x.qty)),
      h("td", { class: "num" }, trim(x.commission), " ", raw(x.commissionAsset, "span")),
      h("td", { class: "settlement", i18n: `trade.settlement.${x.settlement}` }),
      h("td", {}, x.txHash ? h("a", { class: "tx-link", href: `${ctx.config.explorerUrl}#/tx/${x.txHash}`,
        target: "_blank", rel: "noopener", i18n: "trade.viewTx" }) : "—", " ",
      x.block !== null && x.block !== undefined ? h("a", { class: "block-link raw", target: "_blank", rel: "noopener",
        href: `${ctx.config.explorerUrl}#/block/${x.block}` }, `#${x.block}`) : null)))))
      : h("p", { class: "muted", i18n: "trade.noFills" }));
  };
  ctx.account.onChange(render);
  ctx.onMarket((market) => ctx.account.setSymbol(market.symbol));
  ctx.wallet.onChange(() => render(ctx.account));
  render(ctx.account);
}

// Recent trades of the selected market (@trade stream over the REST list).
import { h } from "./common/dom.js";
import { timeMs } from "./common/format.js";
import { api } from "./exchange.js";
import { trim } from "./decimal.js";

const SHOWN = 30;

export function tradesPanel(root, ctx) {
  let stop = null;
  ctx.onMarket(async (market) => {
    if (stop) stop();
    const body = h("tbody", { id: "trade-rows" });
    root.replaceChildren(h("table", {}, h("thead", {}, h("tr", {}, h("th", { i18n: "trade.price" }),
      h("th", { class: "num", i18n: "trade.amount" }), h("th", { class: "num", i18n: "trade.time" }))), body));
    const add = (price, qty, time, buyerMaker, id) => {
      body.prepend(h("tr", { dataset: { id: String(id) } }, h("td", { class: buyerMaker ? "down" : "up" }, trim(price)),
        h("td", { class: "num" }, trim(qty)), h("td", { class: "num" }, timeMs(time))));
      while (body.children.length > SHOWN) body.lastChild.remove();
    };
    const recent = await api.get("/api/v3/trades", { symbol: market.symbol, limit: SHOWN });
    for (const x of recent) add(x.price, x.qty, x.time, x.isBuyerMaker, x.id);
    stop = ctx.streams.subscribe(`${market.symbol.toLowerCase()}@trade`, (x) => add(x.p, x.q, x.T, x.m, x.t));
  });
}

// Every market with its last price, 24 h change and volume, kept current by !miniTicker@arr; a click selects one.
import { h, raw } from "./common/dom.js";
import { api } from "./exchange.js";
import { trim } from "./decimal.js";

function change(open, close) {
  const o = Number(open);
  if (!o) return ["", ""];
  const pct = ((Number(close) - o) / o) * 100;  // a display ratio, not money
  return [`${pct >= 0 ? "+" : ""}${pct.toFixed(2)}%`, pct >= 0 ? "up" : "down"];
}

export function marketList(root, ctx) {
  const rows = new Map();
  const table = h("table", {}, h("thead", {}, h("tr", {}, h("th", { i18n: "trade.pair" }),
    h("th", { class: "num", i18n: "trade.last" }), h("th", { class: "num", i18n: "trade.change24h" }),
    h("th", { class: "num hide-narrow", i18n: "trade.volume" }))), h("tbody", {}));
  root.append(table);
  const update = (symbol, last, open, volume) => {
    const row = rows.get(symbol);
    if (!row) return;
    const [text, cls] = change(open, last);
    row.cells[1].textContent = trim(last);
    row.cells[2].textContent = text;
    row.cells[2].className = `num ${cls}`;
    row.cells[3].textContent = trim(volume);
  };
  for (const market of ctx.info.symbols) {
    const row = h("tr", { dataset: { symbol: market.symbol } },
      h("td", {}, h("a", { href: `#${market.symbol}` }, raw(`${market.baseAsset}/${market.quoteAsset}`, "span"))),
      h("td", { class: "num" }), h("td", { class: "num" }), h("td", { class: "num hide-narrow" }));
    rows.set(market.symbol, row);
    table.tBodies[0].append(row);
  }
  api.get("/api/v3/ticker/24hr").then((tickers) => {
    for (const x of tickers) update(x.symbol, x.lastPrice, x.openPrice, x.volume);
  });
  ctx.streams.subscribe("!miniTicker@arr", (tickers) => {
    for (const x of tickers) update(x.s, x.c, x.o, x.v);
  });
  ctx.onMarket((market) => {
    for (const [symbol, row] of rows) row.classList.toggle("selected", symbol === market.symbol);
  });
}

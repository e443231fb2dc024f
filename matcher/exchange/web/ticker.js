// The selected market's 24 h ticker (@ticker stream).
import { h, raw } from "./common/dom.js";
import { api } from "./exchange.js";
import { trim } from "./decimal.js";

export function tickerPanel(root, ctx) {
  let stop = null;
  const cell = (key, id) => h("div", {}, h("span", { class: "name", i18n: key }), h("span", { id }));
  const show = (x) => {
    document.getElementById("ticker-last").textContent = trim(x.lastPrice);
    const pct = Number(x.priceChangePercent);
    const change = document.getElementById("ticker-change");
    change.textContent = `${pct >= 0 ? "+" : ""}${pct.toFixed(2)}%`;
    change.className = pct >= 0 ? "up" : "down";
    document.getElementById("ticker-high").textContent = trim(x.highPrice);
    document.getElementById("ticker-low").textContent = trim(x.lowPrice);
    document.getElementById("ticker-volume").textContent = trim(x.volume);
    document.getElementById("ticker-quote-volume").textContent = trim(x.quoteVolume);
  };
  ctx.onMarket(async (market) => {
    if (stop) stop();
    root.replaceChildren(h("div", { class: "ticker-stats" },
      raw(`${market.baseAsset}/${market.quoteAsset}`, "strong"), h("span", { class: "last raw", id: "ticker-last" }),
      cell("trade.change24h", "ticker-change"), cell("trade.high24h", "ticker-high"), cell("trade.low24h", "ticker-low"),
      cell("trade.volume", "ticker-volume"), cell("trade.quoteVolume", "ticker-quote-volume")));
    show(await api.get("/api/v3/ticker/24hr", { symbol: market.symbol }));
    stop = ctx.streams.subscribe(`${market.symbol.toLowerCase()}@ticker`, (x) => show({
      lastPrice: x.c, priceChangePercent: x.P, highPrice: x.h, lowPrice: x.l, volume: x.v, quoteVolume: x.q }));
  });
}

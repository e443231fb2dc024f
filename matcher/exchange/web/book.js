// The order book from the diff-depth stream (@depth@100ms) over a REST snapshot, synchronised by update ids as
// Binance documents it; re-rendered at most 10 times a second however fast the stream runs.
import { h } from "./common/dom.js";
import { api } from "./exchange.js";
import { mul, parseUnits, sub, trim } from "./decimal.js";

const LEVELS = 12;
const cmp = (a, b) => { const d = parseUnits(a, 8) - parseUnits(b, 8); return d < 0n ? -1 : d > 0n ? 1 : 0; };
const FRAME_MS = 100;

export function bookPanel(root, ctx) {
  let stop = null;
  let generation = 0;
  ctx.onMarket((market) => {
    if (stop) stop();
    const mine = ++generation;
    const bids = new Map();
    const asks = new Map();
    let lastId = null;
    let buffer = [];
    let scheduled = false;
    root.dataset.renders = "0";
    const render = () => {
      scheduled = false;
      const top = (side, descending) => [...side.entries()].sort((a, b) => cmp(a[0], b[0]) * (descending ? -1 : 1))
        .slice(0, LEVELS);
      const askRows = top(asks, false).reverse();
      const bidRows = top(bids, true);
      const row = (cls, [price, qty]) => h("tr", { class: cls }, h("td", { class: cls === "ask" ? "down" : "up" },
        trim(price)), h("td", {}, trim(qty)), h("td", {}, mul(price, qty)));
      const head = h("tr", {}, h("th", { i18n: "trade.price" }), h("th", { i18n: "trade.amount" }),
        h("th", { i18n: "trade.total" }));
      const spread = askRows.length && bidRows.length
        ? sub(askRows[askRows.length - 1][0], bidRows[0][0]) : "—";
      root.replaceChildren(h("table", { class: "book-table" }, h("thead", {}, head),
        h("tbody", { id: "asks" }, askRows.map((level) => row("ask", level))),
        h("tbody", {}, h("tr", {}, h("td", { class: "book-mid", colspan: 3 }, h("span", { i18n: "trade.spread" }), " ",
          spread))),
        h("tbody", { id: "bids" }, bidRows.map((level) => row("bid", level)))));
      root.dataset.renders = String(Number(root.dataset.renders) + 1);
      root.dataset.updateId = String(lastId);
    };
    const schedule = () => {
      if (!scheduled) {
        scheduled = true;
        setTimeout(render, FRAME_MS);
      }
    };
    const apply = (event) => {
      for (const [price, qty] of event.b) { if (parseUnits(qty, 8) === 0n) bids.delete(price); else bids.set(price, qty); }
      for (const [price, qty] of event.a) { if (parseUnits(qty, 8) === 0n) asks.delete(price); else asks.set(price, qty); }
      lastId = event.u;
    };
    const resync = async () => {
      const snapshot = await api.get("/api/v3/depth", { symbol: market.symbol, limit: 1000 });
      if (mine !== generation) return;
      bids.clear();
      asks.clear();
      for (const [price, qty] of snapshot.bids) bids.set(price, qty);
      for (const [price, qty] of snapshot.asks) asks.set(price, qty);
      lastId = snapshot.lastUpdateId;
      const pending = buffer.filter((event) => event.u > lastId);
      buffer = null;
      for (const event of pending) apply(event);
      schedule();
    };
    stop = ctx.streams.subscribe(`${market.symbol.toLowerCase()}@depth@100ms`, (event) => {
      if (buffer !== null) { buffer.push(event); return; }
      if (event.u <= lastId) return;
      if (event.U > lastId + 1) {  // a gap: start again from a snapshot
        buffer = [event];
        resync();
        return;
      }
      apply(event);
      schedule();
    });
    resync();
  });
}

// Candles drawn on a canvas from klines (REST), kept current by the kline stream of the chosen interval.
import { h } from "./common/dom.js";
import { api } from "./exchange.js";

const INTERVALS = ["1s", "1m", "1h", "1d"];
const SHOWN = 90;

function draw(canvas, candles) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 300;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const g = canvas.getContext("2d");
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  canvas.dataset.candles = String(candles.length);
  if (!candles.length) return;
  const styles = getComputedStyle(document.body);
  const up = styles.getPropertyValue("--up").trim() || "#0ecb81";
  const down = styles.getPropertyValue("--down").trim() || "#f6465d";
  const muted = styles.getPropertyValue("--muted").trim() || "#9aa3b2";
  const high = Math.max(...candles.map((c) => c.high));
  const low = Math.min(...candles.map((c) => c.low));
  const pad = 16;
  const axis = 64;
  const span = high - low || high * 0.01 || 1;
  const y = (price) => pad + ((high - price) / span) * (height - 2 * pad);
  const step = (width - axis) / SHOWN;
  const body = Math.max(1, step * 0.6);
  candles.forEach((c, i) => {
    const x = i * step + step / 2;
    g.strokeStyle = g.fillStyle = c.close >= c.open ? up : down;
    g.beginPath();
    g.moveTo(x, y(c.high));
    g.lineTo(x, y(c.low));
    g.stroke();
    const top = y(Math.max(c.open, c.close));
    g.fillRect(x - body / 2, top, body, Math.max(1, y(Math.min(c.open, c.close)) - top));
  });
  g.fillStyle = muted;
  g.font = "11px system-ui";
  for (const price of [high, (high + low) / 2, low]) g.fillText(String(+price.toPrecision(6)), width - axis + 4, y(price) + 4);
}

export function chartPanel(root, ctx) {
  let interval = "1m";
  let stop = null;
  const canvas = h("canvas", { id: "candles", role: "img", "data-i18n-aria-label": "trade.chart" });
  const buttons = INTERVALS.map((name) => h("button", { type: "button", "aria-pressed": String(name === interval),
    onclick: () => { interval = name; for (const b of buttons) b.setAttribute("aria-pressed", String(b.value === name));
      load(); }, value: name, class: "raw" }, name));
  root.append(h("div", { class: "intervals" }, buttons), canvas);
  let candles = [];
  const load = async () => {
    if (stop) stop();
    const market = ctx.market;
    const rows = await api.get("/api/v3/klines", { symbol: market.symbol, interval, limit: SHOWN });
    candles = rows.map((k) => ({ time: k[0], open: +k[1], high: +k[2], low: +k[3], close: +k[4] }));
    draw(canvas, candles);
    stop = ctx.streams.subscribe(`${market.symbol.toLowerCase()}@kline_${interval}`, (event) => {
      const k = event.k;
      const candle = { time: k.t, open: +k.o, high: +k.h, low: +k.l, close: +k.c };
      if (candles.length && candles[candles.length - 1].time === candle.time) candles[candles.length - 1] = candle;
      else candles.push(candle);
      if (candles.length > SHOWN) candles.shift();
      draw(canvas, candles);
    });
  };
  ctx.onMarket(load);
  window.addEventListener("resize", () => draw(canvas, candles));
}

// The order form: LIMIT, MARKET and stop-limit orders, checked against the market's filters before anything is
// signed; the order is the vault's EIP-712 Order, signed by the connected wallet, and posted as the API takes it.
import { h, label } from "./common/dom.js";
import { t } from "./common/i18n.js";
import { api } from "./exchange.js";
import { parseUnits, trim } from "./decimal.js";
import { checkOrder } from "./filters.js";
import { freshNonce, orderTyped } from "./signing.js";

const TYPES = ["LIMIT", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"];
const ORDER_TTL_S = 30 * 86400;

async function protection(market, side) {
  if (side === "SELL") return "0";
  const ticker = await api.get("/api/v3/ticker/bookTicker", { symbol: market.symbol });
  const ask = parseUnits(ticker.askPrice, market.quotePrecision);
  if (!ask) throw new Error(t("trade.noAsks"));
  const decimals = market.quotePrecision;
  const doubled = ask * 2n;
  return `${doubled / 10n ** BigInt(decimals)}.${(doubled % 10n ** BigInt(decimals)).toString().padStart(decimals, "0")}`;
}

export function orderForm(root, ctx) {
  let side = "BUY";
  const sideButtons = ["BUY", "SELL"].map((name) => h("button", { type: "button", class: name.toLowerCase(),
    "aria-pressed": String(name === side), value: name, i18n: `trade.side.${name}`,
    onclick: () => { side = name; for (const b of sideButtons) b.setAttribute("aria-pressed", String(b.value === side));
      submit.className = side === "BUY" ? "primary buy" : "primary sell";
      submit.dataset.i18n = `trade.place.${side}`; submit.textContent = t(`trade.place.${side}`); } }));
  const typeSelect = h("select", { name: "type", id: "order-type" },
    TYPES.map((type) => h("option", { value: type, i18n: `trade.type.${type}` })));
  const price = h("input", { name: "price", id: "order-price", inputmode: "decimal", autocomplete: "off" });
  const stop = h("input", { name: "stopPrice", id: "order-stop", inputmode: "decimal", autocomplete: "off" });
  const quantity = h("input", { name: "quantity", id: "order-quantity", inputmode: "decimal", autocomplete: "off" });
  const error = h("p", { class: "error", id: "order-error", role: "alert" });
  const result = h("p", { class: "ok", id: "order-result", role: "status" });
  const submit = h("button", { type: "submit", class: "primary buy", id: "order-submit", i18n: "trade.place.BUY" });
  const priceRow = h("label", {}, label("trade.price"), price);
  const stopRow = h("label", {}, label("trade.stopPrice"), stop);
  const form = h("form", { class: "order", id: "order" }, h("div", { class: "sides" }, sideButtons),
    h("label", {}, label("trade.orderType"), typeSelect), stopRow, priceRow, h("label", {}, label("trade.quantity"),
      quantity), error, submit, result);
  const showFields = () => {
    const type = typeSelect.value;
    priceRow.hidden = type === "MARKET";
    stopRow.hidden = !(type.startsWith("STOP") || type.startsWith("TAKE"));
  };
  typeSelect.addEventListener("change", showFields);
  showFields();
  root.append(h("h2", { i18n: "trade.placeOrder" }), form);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    result.textContent = "";
    const market = ctx.market;
    const type = typeSelect.value;
    const fields = { type, price: price.value.trim(), quantity: quantity.value.trim(), stopPrice: stop.value.trim() };
    const broken = checkOrder(market, fields);
    if (broken) { error.textContent = t(broken[0], broken[1]); return; }
    if (!ctx.wallet.account) { error.textContent = t("trade.connectFirst"); return; }
    submit.disabled = true;
    try {
      const limitPrice = type === "MARKET" ? await protection(market, side) : fields.price;
      const quoteUnits = parseUnits(limitPrice, market.quotePrecision);
      const order = {
        maker: ctx.wallet.account, baseToken: market.baseToken, quoteToken: market.quoteToken, isBuy: side === "BUY",
        baseAmount: parseUnits(fields.quantity, market.baseAssetPrecision),
        price: (quoteUnits * 10n ** 18n) / 10n ** BigInt(market.baseAssetPrecision),
        expiry: BigInt(Math.floor(Date.now() / 1000) + ORDER_TTL_S), nonce: freshNonce(),
        maxFeeBps: BigInt(Math.max(market.makerFeeBps, market.takerFeeBps)), maxPlatformFeeRate: 0n,
      };
      const signature = await ctx.wallet.signTypedData(orderTyped(order, ctx.info.chainId, ctx.info.settlementVault));
      const body = { symbol: market.symbol, side, type, quantity: fields.quantity, price: limitPrice,
        address: order.maker, nonce: order.nonce.toString(), expiry: order.expiry.toString(),
        maxFeeBps: order.maxFeeBps.toString(), signature, newOrderRespType: "RESULT" };
      if (type !== "MARKET") body.timeInForce = "GTC";
      if (stopRow.hidden === false) body.stopPrice = fields.stopPrice;
      const placed = await api.post("/api/v3/order", body);
      result.textContent = t("trade.placed", { id: placed.orderId, status: t(`trade.status.${placed.status}`),
        filled: trim(placed.executedQty) });
      ctx.account.refresh();
    } catch (failure) {
      error.textContent = failure.code !== undefined ? t("trade.rejected", { code: failure.code, message: failure.message })
        : t("common.failed", { message: failure.message });
    } finally {
      submit.disabled = false;
    }
  });
  ctx.onMarket(() => { error.textContent = ""; result.textContent = ""; });
}

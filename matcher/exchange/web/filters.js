// The market's filters from exchangeInfo, checked before an order is signed and sent, so a violation is shown at
// once (the exchange checks them again). Returns [messageKey, values] for the first one broken, or null.
import { parseUnits, trim } from "./decimal.js";

function filter(market, type) {
  return market.filters.find((f) => f.filterType === type);
}

export function checkOrder(market, { type, price, quantity, stopPrice }) {
  const quoteDecimals = market.quotePrecision;
  const baseDecimals = market.baseAssetPrecision;
  const qty = parseUnits(quantity, baseDecimals);
  if (qty === null || qty <= 0n) return ["trade.filter.quantity", {}];
  const lot = filter(market, type === "MARKET" ? "MARKET_LOT_SIZE" : "LOT_SIZE");
  if (lot) {
    const step = parseUnits(lot.stepSize, baseDecimals);
    if (qty < parseUnits(lot.minQty, baseDecimals) || qty > parseUnits(lot.maxQty, baseDecimals)) {
      return ["trade.filter.lotRange", { name: lot.filterType, min: trim(lot.minQty), max: trim(lot.maxQty) }];
    }
    if (step > 0n && qty % step !== 0n) return ["trade.filter.lotStep", { name: lot.filterType, step: trim(lot.stepSize) }];
  }
  const priced = type !== "MARKET";
  const prices = priced ? [["price", price]] : [];
  if (type.startsWith("STOP_LOSS") || type.startsWith("TAKE_PROFIT")) prices.push(["stopPrice", stopPrice]);
  const tick = filter(market, "PRICE_FILTER");
  for (const [name, text] of prices) {
    const value = parseUnits(text, quoteDecimals);
    if (value === null || value <= 0n) return ["trade.filter.price", { field: name }];
    if (tick) {
      if (value < parseUnits(tick.minPrice, quoteDecimals) || value > parseUnits(tick.maxPrice, quoteDecimals)) {
        return ["trade.filter.priceRange", { min: trim(tick.minPrice), max: trim(tick.maxPrice) }];
      }
      if (value % parseUnits(tick.tickSize, quoteDecimals) !== 0n) {
        return ["trade.filter.tick", { tick: trim(tick.tickSize) }];
      }
    }
  }
  if (priced) {
    const notional = (parseUnits(price, quoteDecimals) * qty) / 10n ** BigInt(baseDecimals);
    const minimum = filter(market, "NOTIONAL") || filter(market, "MIN_NOTIONAL");
    if (minimum && notional < parseUnits(minimum.minNotional, quoteDecimals)) {
      return ["trade.filter.minNotional", { min: trim(minimum.minNotional), asset: market.quoteAsset }];
    }
    const maximum = filter(market, "NOTIONAL");
    if (maximum && maximum.maxNotional && notional > parseUnits(maximum.maxNotional, quoteDecimals)) {
      return ["trade.filter.maxNotional", { max: trim(maximum.maxNotional), asset: market.quoteAsset }];
    }
  }
  return null;
}

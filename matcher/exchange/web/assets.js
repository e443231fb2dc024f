// The exchange's assets (symbol, token, decimals) from exchangeInfo, each once.

export function assets(info) {
  const found = new Map();
  for (const m of info.symbols) {
    found.set(m.baseAsset, { symbol: m.baseAsset, token: m.baseToken, decimals: m.baseAssetPrecision });
    found.set(m.quoteAsset, { symbol: m.quoteAsset, token: m.quoteToken, decimals: m.quotePrecision });
  }
  return found;
}

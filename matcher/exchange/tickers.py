"""Market statistics in Binance's shapes: the 24 h ticker, rolling-window tickers, trading-day tickers and the
5-minute average price, all summed from stored candles (history.window), never by scanning fills."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from . import history
from .errors import ILLEGAL_PARAM, ApiError
from .intervals import DAY, HOUR, MINUTE, bucket
from .markets import Market

AVG_PRICE_MINUTES = 5
_WINDOW = re.compile(r"^(\d{1,2})([mhd])$")
_WINDOW_RANGE = {"m": (1, 59, MINUTE), "h": (1, 23, HOUR), "d": (1, 7, DAY)}


def window_size(text: object) -> int:
    """Binance's `windowSize` (1m-59m, 1h-23h, 1d-7d; default 1d) in ms."""
    if text is None:
        return DAY
    match = _WINDOW.match(str(text))
    if match:
        low, high, unit = _WINDOW_RANGE[match.group(2)]
        if low <= int(match.group(1)) <= high:
            return int(match.group(1)) * unit
    raise ApiError(ILLEGAL_PARAM, f"Invalid windowSize: {text!r} (1m-59m, 1h-23h or 1d-7d).")


def rolling(db: sqlite3.Connection, market: Market, start: int, end: int, last_price: int,
            full: bool) -> dict[str, Any]:
    """The fills from `start` to `end` as Binance's rolling ticker (`full`) or its MINI form."""
    stats = history.window(db, market.symbol, start, end)
    price, qty, quote = market.price_text, market.qty_text, market.quote_text
    if stats is None:
        zero = price(0)
        body: dict[str, Any] = {"symbol": market.symbol, "openPrice": zero, "highPrice": zero, "lowPrice": zero,
                                "lastPrice": price(last_price), "volume": qty(0), "quoteVolume": quote(0),
                                "openTime": start, "closeTime": end, "firstId": -1, "lastId": -1, "count": 0}
        if full:
            body = {"symbol": market.symbol, "priceChange": zero, "priceChangePercent": "0.000",
                    "weightedAvgPrice": zero, **body}
        return body
    body = {"symbol": market.symbol, "openPrice": price(stats.open), "highPrice": price(stats.high),
            "lowPrice": price(stats.low), "lastPrice": price(stats.close), "volume": qty(stats.volume),
            "quoteVolume": quote(stats.quote), "openTime": start, "closeTime": end, "firstId": stats.first_id,
            "lastId": stats.last_id, "count": stats.count}
    if full:
        change = stats.close - stats.open
        body = {"symbol": market.symbol, "priceChange": price(change),
                "priceChangePercent": _thousandths(change * 100_000 // stats.open if stats.open else 0),
                "weightedAvgPrice": market.derived_price_text(weighted_price(market, stats.quote, stats.volume)),
                **body}
    return body


def day_ticker(db: sqlite3.Connection, market: Market, now: int, engine: Any, full: bool) -> dict[str, Any]:
    """`/api/v3/ticker/24hr`: the rolling day plus the book's best prices, the last fill and the previous close."""
    start = now - DAY
    body = rolling(db, market, start, now, engine.last_price.get(market.symbol, 0), full)
    if not full:
        return body
    bid, bid_qty, ask, ask_qty = engine.book_ticker(market.symbol)
    before = db.execute("SELECT close FROM candles WHERE symbol = ? AND base = ? AND open_ms < ? ORDER BY open_ms "
                        "DESC LIMIT 1", (market.symbol, MINUTE, bucket(start, MINUTE))).fetchone()
    last = db.execute("SELECT qty FROM trades WHERE symbol = ? ORDER BY trade_id DESC LIMIT 1",
                      (market.symbol,)).fetchone()
    out = {key: body[key] for key in ("symbol", "priceChange", "priceChangePercent", "weightedAvgPrice")}
    out.update({"prevClosePrice": market.price_text(int(before[0]) if before else 0),
                "lastPrice": body["lastPrice"], "lastQty": market.qty_text(int(last[0]) if last else 0),
                "bidPrice": market.price_text(bid), "bidQty": market.qty_text(bid_qty),
                "askPrice": market.price_text(ask), "askQty": market.qty_text(ask_qty)})
    out.update({key: body[key] for key in ("openPrice", "highPrice", "lowPrice", "volume", "quoteVolume",
                                           "openTime", "closeTime", "firstId", "lastId", "count")})
    return out


def avg_price(db: sqlite3.Connection, market: Market, now: int, last_price: int) -> dict[str, Any]:
    """Binance's `avgPrice`: the volume-weighted price of the last 5 minutes (the last price when none)."""
    stats = history.window(db, market.symbol, now - AVG_PRICE_MINUTES * MINUTE, now)
    last = db.execute("SELECT time_ms FROM trades WHERE symbol = ? ORDER BY trade_id DESC LIMIT 1",
                      (market.symbol,)).fetchone()
    price = market.derived_price_text(weighted_price(market, stats.quote, stats.volume)) if stats else \
        market.price_text(last_price)
    return {"mins": AVG_PRICE_MINUTES, "price": price, "closeTime": last[0] if last else 0}


def weighted_price(market: Market, quote_units: int, lots: int) -> int:
    """Quote units per one whole base unit, rounded down."""
    base_units = market.spec.base_units(lots)
    return quote_units * 10**market.spec.base.decimals // base_units if base_units else 0


def _thousandths(value: int) -> str:
    sign = "-" if value < 0 else ""
    whole, rest = divmod(abs(value), 1000)
    return f"{sign}{whole}.{rest:03d}"


__all__ = ["avg_price", "day_ticker", "rolling", "weighted_price", "window_size"]

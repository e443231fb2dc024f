"""Binance's public market-data endpoints: exchange info, book, trades, aggregate trades, klines, tickers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import history, store, tickers
from .errors import ILLEGAL_PARAM, ApiError
from .intervals import DAY, bucket, close_time, interval, time_zone
from .params import choice, integer, limit, params, symbol_list
from .responses import json_response
from .views import agg_trade_view, kline_view, trade_view

MAX_LIMIT = 1000
MAX_DEPTH = 5000
PERMISSIONS = ("SPOT",)
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


class PublicHandlers:
    def __init__(self, service: Any) -> None:
        self.service = service
        self.core = service.core
        self.markets = service.markets

    def routes(self, app: web.Application) -> None:
        get = app.router.add_get
        get("/api/v3/ping", self.ping)
        get("/api/v3/time", self.time)
        get("/sapi/v1/system/status", self.system_status)
        get("/api/v3/exchangeInfo", self.exchange_info)
        get("/api/v3/depth", self.depth)
        get("/api/v3/trades", self.trades)
        get("/api/v3/historicalTrades", self.historical_trades)
        get("/api/v3/aggTrades", self.agg_trades)
        get("/api/v3/klines", self.klines)
        get("/api/v3/uiKlines", self.klines)
        get("/api/v3/avgPrice", self.avg_price)
        get("/api/v3/ticker/24hr", self.ticker_24hr)
        get("/api/v3/ticker", self.ticker_rolling)
        get("/api/v3/ticker/tradingDay", self.ticker_trading_day)
        get("/api/v3/ticker/price", self.ticker_price)
        get("/api/v3/ticker/bookTicker", self.book_ticker)

    async def ping(self, request: web.Request) -> web.Response:
        return json_response({})

    async def time(self, request: web.Request) -> web.Response:
        return json_response({"serverTime": self.core.clock_ms()})

    async def system_status(self, request: web.Request) -> web.Response:
        return json_response({"status": 0, "msg": "normal"})

    async def exchange_info(self, request: web.Request) -> web.Response:
        query = await params(request)
        wanted, _ = symbol_list(query, self.markets)
        permissions = query.get("permissions")
        if permissions is not None:
            asked = [permissions] if isinstance(permissions, str) and not permissions.startswith("[") else \
                _json_list(permissions, "permissions")
            if not set(asked) & set(PERMISSIONS):
                wanted = []
        return json_response({
            "timezone": "UTC", "serverTime": self.core.clock_ms(), "rateLimits": self.service.limits.info(),
            "exchangeFilters": self.service.exchange_filters(),
            "chainId": self.service.domain.chain_id, "settlementVault": self.service.domain.vault,
            "operator": self.service.operator, "symbols": [m.info() for m in wanted]})

    async def depth(self, request: web.Request) -> web.Response:
        query = await params(request)
        market = self.markets.get(query.get("symbol"))
        snapshot = self.core.engine.depth(market.symbol, min(limit(query, 100, 1 << 31), MAX_DEPTH))
        return json_response({"lastUpdateId": snapshot["lastUpdateId"],
                                  "bids": [[market.price_text(p), market.qty_text(q)] for p, q in snapshot["bids"]],
                                  "asks": [[market.price_text(p), market.qty_text(q)] for p, q in snapshot["asks"]]})

    async def trades(self, request: web.Request) -> web.Response:
        query = await params(request)
        market = self.markets.get(query.get("symbol"))
        found = store.rows(self.core.db, "SELECT * FROM trades WHERE symbol = ? ORDER BY trade_id DESC LIMIT ?",
                           market.symbol, limit(query, 500, MAX_LIMIT))
        return json_response([trade_view(t, market) for t in reversed(found)])

    async def historical_trades(self, request: web.Request) -> web.Response:
        query = await params(request)
        market = self.markets.get(query.get("symbol"))
        count, from_id = limit(query, 500, MAX_LIMIT), integer(query, "fromId", low=0)
        if from_id is None:
            return await self.trades(request)
        found = store.rows(self.core.db, "SELECT * FROM trades WHERE symbol = ? AND trade_id >= ? ORDER BY trade_id "
                           "LIMIT ?", market.symbol, from_id, count)
        return json_response([trade_view(t, market) for t in found])

    async def agg_trades(self, request: web.Request) -> web.Response:
        query = await params(request)
        market = self.markets.get(query.get("symbol"))
        start, end = integer(query, "startTime", low=0), integer(query, "endTime", low=0)
        _check_range(start, end)
        found = history.agg_trades(self.core.db, market.symbol, integer(query, "fromId", low=0), start, end,
                                   limit(query, 500, MAX_LIMIT))
        return json_response([agg_trade_view(a, market) for a in found])

    async def klines(self, request: web.Request) -> web.Response:
        query = await params(request)
        market = self.markets.get(query.get("symbol"))
        if query.get("interval") is None:
            raise ApiError(-1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.")
        length, zone = interval(query["interval"]), time_zone(query.get("timeZone"))
        start, end = integer(query, "startTime", low=0), integer(query, "endTime", low=0)
        _check_range(start, end)
        candles = history.klines(self.core.db, market.symbol, length, zone, start, end, limit(query, 500, MAX_LIMIT),
                                 self.core.clock_ms())
        return json_response([kline_view(c, close_time(c.open_ms, length, zone), market) for c in candles])

    async def avg_price(self, request: web.Request) -> web.Response:
        query = await params(request)
        market = self.markets.get(query.get("symbol"))
        return json_response(tickers.avg_price(self.core.db, market, self.core.clock_ms(),
                                                   self.core.engine.last_price.get(market.symbol, 0)))

    async def ticker_24hr(self, request: web.Request) -> web.Response:
        query = await params(request)
        wanted, single = symbol_list(query, self.markets)
        full = choice(query, "type", ("FULL", "MINI"), "FULL") == "FULL"
        now = self.core.clock_ms()
        out = [tickers.day_ticker(self.core.db, m, now, self.core.engine, full) for m in wanted]
        return json_response(out[0] if single else out)

    async def ticker_rolling(self, request: web.Request) -> web.Response:
        query = await params(request)
        wanted, single = symbol_list(query, self.markets, required=True)
        size = tickers.window_size(query.get("windowSize"))
        full = choice(query, "type", ("FULL", "MINI"), "FULL") == "FULL"
        now = self.core.clock_ms()
        out = [tickers.rolling(self.core.db, m, now - size, now, self.core.engine.last_price.get(m.symbol, 0), full)
               for m in wanted]
        return json_response(out[0] if single else out)

    async def ticker_trading_day(self, request: web.Request) -> web.Response:
        query = await params(request)
        wanted, single = symbol_list(query, self.markets, required=True)
        zone = time_zone(query.get("timeZone"))
        full = choice(query, "type", ("FULL", "MINI"), "FULL") == "FULL"
        now = self.core.clock_ms()
        start = bucket(now, DAY, zone)
        out = [tickers.rolling(self.core.db, m, start, close_time(start, DAY, zone),
                               self.core.engine.last_price.get(m.symbol, 0), full) for m in wanted]
        return json_response(out[0] if single else out)

    async def ticker_price(self, request: web.Request) -> web.Response:
        query = await params(request)
        wanted, single = symbol_list(query, self.markets)
        last = self.core.engine.last_price
        out = [{"symbol": m.symbol, "price": m.price_text(last.get(m.symbol, 0))} for m in wanted]
        return json_response(out[0] if single else out)

    async def book_ticker(self, request: web.Request) -> web.Response:
        query = await params(request)
        wanted, single = symbol_list(query, self.markets)
        out = []
        for market in wanted:
            bid, bid_qty, ask, ask_qty = self.core.engine.book_ticker(market.symbol)
            out.append({"symbol": market.symbol, "bidPrice": market.price_text(bid), "bidQty": market.qty_text(bid_qty),
                        "askPrice": market.price_text(ask), "askQty": market.qty_text(ask_qty)})
        return json_response(out[0] if single else out)


def _check_range(start: int | None, end: int | None) -> None:
    """Times beyond year 9999 are refused (-1100); a start after the end selects nothing."""
    for value in (start, end):
        if value is not None and value > MAX_TIME_MS:
            raise ApiError(ILLEGAL_PARAM, f"Times are milliseconds since 1970, at most {MAX_TIME_MS}.")


def _json_list(value: Any, field: str) -> list[str]:
    import json
    try:
        items = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        items = None
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ApiError(ILLEGAL_PARAM, f"Parameter '{field}' must be a permission or a JSON array of them.")
    return items


__all__ = ["PublicHandlers"]

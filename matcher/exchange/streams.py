"""WebSocket streams with Binance's names and payloads (symbols in lower case).

As each command commits: `@trade`, `@aggTrade`, `@bookTicker`, `@depth` (every change) and user streams (by
listenKey only: executionReport, outboundAccountPosition, balanceUpdate, listenKeyExpired).
On a 100 ms clock: `@depth@100ms` / `@depth@1000ms` (diffs coalesced per interval; U/u continuous), partial books
`@depth5|10|20` (1000 ms, or `@100ms`), and every second `@kline_<interval>`, `@miniTicker`, `@ticker`,
`@ticker_1h|4h|1d`, `@avgPrice`, `!miniTicker@arr`, `!ticker@arr`, `!ticker_<w>@arr` (arrays list only the
symbols that traded since the last push, as Binance's do).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from matcher.model import (BalanceUpdate, BookTicker, Command, Deposit, DepthUpdate, OrderUpdate, Result, Trade,
                           Withdraw)

from . import history, tickers
from .errors import ApiError
from .intervals import DAY, HOUR, INTERVALS, bucket, close_time
from .markets import Markets
from .views import (account_position, agg_trade_view, asset_text, book_ticker_event, depth_event, execution_report,
                    trade_event)

log = logging.getLogger("bourse.exchange.streams")
QUEUE_LIMIT = 10_000
LISTEN_KEY_TTL_MS = 60 * 60_000
TICK_S = 0.1
REALTIME = ("trade", "aggTrade", "bookTicker", "depth")
EVERY_SECOND = ("miniTicker", "ticker", "avgPrice")
WINDOWS = {"1h": HOUR, "4h": 4 * HOUR, "1d": DAY}
_PARTIAL = re.compile(r"^depth(5|10|20)(@100ms|@1000ms)?$")
_KLINE = re.compile(r"^kline_(" + "|".join(INTERVALS) + ")$")
_WINDOW = re.compile(r"^ticker_(1h|4h|1d)$")
_ARRAYS = re.compile(r"^!(miniTicker|ticker|ticker_1h|ticker_4h|ticker_1d)@arr$")


class ListenKeys:
    """Binance's listenKeys: a user stream's bearer name, valid 60 minutes from its last keep-alive."""

    def __init__(self) -> None:
        self.accounts: dict[str, str] = {}
        self.expires: dict[str, int] = {}

    def create(self, account: str, now_ms: int) -> str:
        for key, owner in self.accounts.items():  # Binance hands an account its live key again
            if owner == account and self.expires[key] > now_ms:
                self.expires[key] = now_ms + LISTEN_KEY_TTL_MS
                return key
        key = secrets.token_urlsafe(45)[:60]
        self.accounts[key], self.expires[key] = account, now_ms + LISTEN_KEY_TTL_MS
        return key

    def account(self, key: object, now_ms: int) -> str | None:
        if not isinstance(key, str) or key not in self.accounts or self.expires[key] <= now_ms:
            return None
        return self.accounts[key]

    def keep(self, key: object, now_ms: int) -> None:
        if self.account(key, now_ms) is None:
            raise ApiError(-1125, "This listenKey does not exist.")
        self.expires[key] = now_ms + LISTEN_KEY_TTL_MS  # type: ignore[index]

    def expired(self, now_ms: int) -> list[str]:
        gone = [k for k, t in self.expires.items() if t <= now_ms]
        for key in gone:
            del self.accounts[key], self.expires[key]
        return gone


class Subscriber:
    def __init__(self, combined: bool) -> None:
        self.combined = combined
        self.streams: set[str] = set()
        self.aliases: dict[str, str] = {}  # internal name (<address>@user) -> the listenKey the client used
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = False

    def offer(self, stream: str, payload: Any) -> None:
        if self.overflowed:
            return
        body = {"stream": self.aliases.get(stream, stream), "data": payload} if self.combined else payload
        try:
            self.queue.put_nowait(json.dumps(body, separators=(",", ":")))
        except asyncio.QueueFull:  # a client that does not read is dropped rather than slowing the exchange
            self.overflowed = True


@dataclass
class _Diff:
    first: int = 0
    last: int = 0
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)


class Streams:
    def __init__(self, markets: Markets, clock_ms: Any, core: Any = None) -> None:
        self.markets = markets
        self.clock_ms = clock_ms
        self.core = core
        self.subscribers: set[Subscriber] = set()
        self._diffs: dict[str, _Diff] = {}
        self._traded: set[str] = set()  # symbols that traded since the last one-second push
        self._klines_sent: dict[str, tuple[int, int, bool]] = {}  # stream -> (open, count, closed) last pushed
        self._ticks = 0
        self.listen_keys = ListenKeys()

    def normalize(self, stream: object) -> str | None:
        """The canonical name of a stream we serve, or None."""
        if not isinstance(stream, str):
            return None
        if stream.startswith("!"):
            return stream if _ARRAYS.match(stream) else None
        name, _, kind = stream.partition("@")
        if name.upper() not in self.markets.by_symbol:
            return None
        if kind in REALTIME or kind in EVERY_SECOND or kind in ("depth@100ms", "depth@1000ms") or \
                _PARTIAL.match(kind) or _KLINE.match(kind) or _WINDOW.match(kind):
            return f"{name.lower()}@{kind}"
        return None

    def user_stream(self, listen_key: object) -> str | None:
        """The internal user-stream name a live listenKey stands for."""
        account = self.listen_keys.account(listen_key, self.clock_ms())
        return f"{account.lower()}@user" if account else None

    def close_listen_key(self, key: object, now_ms: int) -> None:
        account = self.listen_keys.account(key, now_ms)
        if account is None:
            raise ApiError(-1125, "This listenKey does not exist.")
        self.listen_keys.expires[key] = now_ms  # type: ignore[index]
        self._expire(now_ms)

    def _expire(self, now_ms: int) -> None:
        """Tell a listenKey's subscribers it expired (Binance's listenKeyExpired), then stop their user stream."""
        for key in self.listen_keys.expired(now_ms):
            for subscriber in list(self.subscribers):
                for internal, alias in list(subscriber.aliases.items()):
                    if alias == key:
                        subscriber.offer(internal, {"e": "listenKeyExpired", "E": now_ms, "listenKey": key})
                        subscriber.streams.discard(internal)
                        del subscriber.aliases[internal]

    def wanted(self) -> set[str]:
        return set().union(*(s.streams for s in self.subscribers)) if self.subscribers else set()

    # --- as commands commit ---------------------------------------------------------------------------------
    def publish(self, seq: int, command: Command, result: Result) -> None:
        """A core listener: turn one command's events into stream messages."""
        if not result.events:
            return
        if any(isinstance(e, Trade) for e in result.events):
            self._traded.update(e.symbol for e in result.events if isinstance(e, Trade))
        if not self.subscribers:
            return
        wanted = self.wanted()
        now = self.clock_ms()
        messages: list[tuple[str, Any]] = []
        events = result.events
        balances: dict[str, list[BalanceUpdate]] = {}
        for index, event in enumerate(events):
            if isinstance(event, DepthUpdate):
                market = self.markets.get(event.symbol)
                messages.append((f"{event.symbol.lower()}@depth", depth_event(event, market, now)))
                for speed in ("@100ms", "@1000ms"):
                    name = f"{event.symbol.lower()}@depth{speed}"
                    if name in wanted:
                        self._accumulate(name, event)
            elif isinstance(event, Trade):
                messages.append((f"{event.symbol.lower()}@trade", trade_event(event, self.markets.get(event.symbol))))
            elif isinstance(event, BookTicker):
                messages.append((f"{event.symbol.lower()}@bookTicker",
                                 book_ticker_event(event, self.markets.get(event.symbol))))
            elif isinstance(event, OrderUpdate):
                trade = next((e for e in events[index:] if isinstance(e, Trade)), None) \
                    if event.exec_type.value == "TRADE" else None
                messages.append((f"{event.account.lower()}@user",
                                 execution_report(event, trade, self.markets.get(event.symbol), now)))
            elif isinstance(event, BalanceUpdate):
                balances.setdefault(event.account, []).append(event)
        for account, updates in balances.items():
            messages.append((f"{account.lower()}@user", account_position(account, updates, self.markets, now)))
        if isinstance(command, (Deposit, Withdraw)) and result.ok:  # Binance's balanceUpdate
            sign = "" if isinstance(command, Deposit) else "-"
            messages.append((f"{command.account.lower()}@user", {
                "e": "balanceUpdate", "E": now, "a": command.asset, "T": now,
                "d": sign + asset_text(self.markets, command.asset, command.amount)}))
        if self.core is not None:
            for agg in self.core.history.last_recorded:
                market = self.markets.get(agg["symbol"])
                messages.append((f"{market.symbol.lower()}@aggTrade", {"e": "aggTrade", "E": now,
                                                                       "s": market.symbol,
                                                                       **agg_trade_view(agg, market)}))
        self._send(messages)

    def publish_list_status(self, account: str, view: dict[str, Any], now: int) -> None:
        """Binance's listStatus on the account's user stream."""
        self._send([(f"{account.lower()}@user", {
            "e": "listStatus", "E": now, "s": view["symbol"], "g": view["orderListId"], "c": view["contingencyType"],
            "l": view["listStatusType"], "L": view["listOrderStatus"], "r": "NONE", "C": view["listClientOrderId"],
            "T": now, "O": [{"s": o["symbol"], "i": o["orderId"], "c": o["clientOrderId"]} for o in view["orders"]]})])

    def _accumulate(self, name: str, event: DepthUpdate) -> None:
        diff = self._diffs.get(name)
        if diff is None:
            diff = self._diffs[name] = _Diff(first=event.first_update_id)
        diff.last = event.last_update_id
        diff.bids.update(event.bids)
        diff.asks.update(event.asks)

    def _send(self, messages: list[tuple[str, Any]]) -> None:
        for subscriber in list(self.subscribers):
            for stream, payload in messages:
                if stream in subscriber.streams:
                    subscriber.offer(stream, payload)

    # --- on the clock ----------------------------------------------------------------------------------------
    async def run_timed(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                self.tick()
            except Exception:
                log.exception("timed streams failed")

    def tick(self) -> None:
        """One 100 ms step: coalesced diffs and partial books; every tenth step the one-second streams."""
        self._ticks += 1
        second = self._ticks % 10 == 0
        if not self.subscribers:
            self._diffs.clear()
            if second:
                self._traded.clear()
            return
        wanted, now = self.wanted(), self.clock_ms()
        messages: list[tuple[str, Any]] = []
        for name in [n for n in self._diffs if n.endswith("@100ms") or second]:
            diff = self._diffs.pop(name)
            if name in wanted:
                market = self.markets.get(name.partition("@")[0].upper())
                messages.append((name, depth_event(DepthUpdate(market.symbol, diff.first, diff.last,
                                                               tuple(diff.bids.items()), tuple(diff.asks.items())),
                                                   market, now)))
        for name in wanted:
            symbol, _, kind = name.partition("@")
            partial = _PARTIAL.match(kind)
            if partial and (partial.group(2) == "@100ms" or second):
                messages.append((name, self._partial(symbol.upper(), int(partial.group(1)))))
        if second:
            messages += self._every_second(wanted, now)
            self._traded.clear()
            self._expire(now)
        self._send(messages)

    def _partial(self, symbol: str, levels: int) -> dict[str, Any]:
        market = self.markets.get(symbol)
        book = self.core.engine.depth(symbol, levels)
        return {"lastUpdateId": book["lastUpdateId"],
                "bids": [[market.price_text(p), market.qty_text(q)] for p, q in book["bids"]],
                "asks": [[market.price_text(p), market.qty_text(q)] for p, q in book["asks"]]}

    def _every_second(self, wanted: set[str], now: int) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        db, last_prices = self.core.db, self.core.engine.last_price
        for name in sorted(wanted):
            if name.endswith("@user"):
                continue
            if name.startswith("!"):
                kind = name[1:].partition("@")[0]
                events = [self._ticker_event(kind, self.markets.get(s), now) for s in sorted(self._traded)]
                if events:
                    out.append((name, events))
                continue
            symbol, _, kind = name.partition("@")
            market = self.markets.get(symbol.upper())
            if kind == "avgPrice":
                avg = tickers.avg_price(db, market, now, last_prices.get(market.symbol, 0))
                out.append((name, {"e": "avgPrice", "E": now, "s": market.symbol, "i": "5m", "w": avg["price"],
                                   "T": avg["closeTime"]}))
            elif kind in ("miniTicker", "ticker") or _WINDOW.match(kind):
                out.append((name, self._ticker_event(kind, market, now)))
            elif _KLINE.match(kind):
                out += self._kline(name, market, kind.removeprefix("kline_"), now)
        return out

    def _ticker_event(self, kind: str, market: Any, now: int) -> dict[str, Any]:
        engine, db = self.core.engine, self.core.db
        if kind == "miniTicker":
            t = tickers.rolling(db, market, now - DAY, now, engine.last_price.get(market.symbol, 0), full=False)
            return {"e": "24hrMiniTicker", "E": now, "s": market.symbol, "c": t["lastPrice"], "o": t["openPrice"],
                    "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"], "q": t["quoteVolume"]}
        if kind == "ticker":
            t = tickers.day_ticker(db, market, now, engine, full=True)
            return {"e": "24hrTicker", "E": now, "s": market.symbol, "p": t["priceChange"],
                    "P": t["priceChangePercent"], "w": t["weightedAvgPrice"], "x": t["prevClosePrice"],
                    "c": t["lastPrice"], "Q": t["lastQty"], "b": t["bidPrice"], "B": t["bidQty"], "a": t["askPrice"],
                    "A": t["askQty"], "o": t["openPrice"], "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"],
                    "q": t["quoteVolume"], "O": t["openTime"], "C": t["closeTime"], "F": t["firstId"],
                    "L": t["lastId"], "n": t["count"]}
        window = kind.removeprefix("ticker_")
        t = tickers.rolling(db, market, now - WINDOWS[window], now, engine.last_price.get(market.symbol, 0), True)
        return {"e": f"{window}Ticker", "E": now, "s": market.symbol, "p": t["priceChange"],
                "P": t["priceChangePercent"], "o": t["openPrice"], "h": t["highPrice"], "l": t["lowPrice"],
                "c": t["lastPrice"], "w": t["weightedAvgPrice"], "v": t["volume"], "q": t["quoteVolume"],
                "O": t["openTime"], "C": t["closeTime"], "F": t["firstId"], "L": t["lastId"], "n": t["count"]}

    def _kline(self, name: str, market: Any, interval_name: str, now: int) -> list[tuple[str, Any]]:
        """The interval's newest candle when it changed, and while it is open at least every 2 s (1 s for 1s
        candles) as Binance's update speed, so a subscriber that joins between trades hears it too; once more
        with x=true when it has closed."""
        length = INTERVALS[interval_name]
        newest = history.klines(self.core.db, market.symbol, length, 0, None, None, 1, now)
        if not newest:
            return []
        candle = newest[0]
        closed = candle.open_ms < bucket(now, length)
        period = 1_000 if interval_name == "1s" else 2_000
        state = (candle.open_ms, candle.count, closed, -1 if closed else now // period)
        if self._klines_sent.get(name) == state or (closed and name not in self._klines_sent):
            return []
        self._klines_sent[name] = state
        close_ms = close_time(candle.open_ms, length)
        price, qty, quote = market.price_text, market.qty_text, market.quote_text
        return [(name, {"e": "kline", "E": now, "s": market.symbol, "k": {
            "t": candle.open_ms, "T": close_ms, "s": market.symbol, "i": interval_name, "f": candle.first_id,
            "L": candle.last_id, "o": price(candle.open), "c": price(candle.close), "h": price(candle.high),
            "l": price(candle.low), "v": qty(candle.volume), "n": candle.count, "x": closed, "q": quote(candle.quote),
            "V": qty(candle.taker_volume), "Q": quote(candle.taker_quote), "B": "0"}})]


__all__ = ["Streams", "Subscriber"]

"""WebSocket market and user streams: `<symbol>@depth`, `<symbol>@trade`, `<symbol>@bookTicker` (symbols in
lower case, as on Binance) and `<address>@user` (executionReport, outboundAccountPosition)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from matcher.model import BalanceUpdate, BookTicker, Command, DepthUpdate, OrderUpdate, Result, Trade

from .markets import Markets
from .views import account_position, book_ticker_event, depth_event, execution_report, trade_event

log = logging.getLogger("bourse.exchange.streams")
QUEUE_LIMIT = 10_000


class Subscriber:
    def __init__(self, combined: bool) -> None:
        self.combined = combined
        self.streams: set[str] = set()
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_LIMIT)
        self.overflowed = False

    def offer(self, stream: str, payload: dict[str, Any]) -> None:
        if self.overflowed:
            return
        body = {"stream": stream, "data": payload} if self.combined else payload
        try:
            self.queue.put_nowait(json.dumps(body, separators=(",", ":")))
        except asyncio.QueueFull:  # a client that does not read is dropped rather than slowing the exchange
            self.overflowed = True


class Streams:
    def __init__(self, markets: Markets, clock_ms: Any) -> None:
        self.markets = markets
        self.clock_ms = clock_ms
        self.subscribers: set[Subscriber] = set()

    def normalize(self, stream: object) -> str | None:
        """The canonical name of a stream we serve, or None."""
        if not isinstance(stream, str):
            return None
        name, _, kind = stream.partition("@")
        if kind == "user":
            return f"{name.lower()}@user" if name.startswith("0x") and len(name) == 42 else None
        if kind in ("depth", "trade", "bookTicker") and name.upper() in self.markets.by_symbol:
            return f"{name.lower()}@{kind}"
        return None

    def publish(self, seq: int, command: Command, result: Result) -> None:
        """A core listener: turn one command's events into stream messages."""
        if not self.subscribers or not result.events:
            return
        now = self.clock_ms()
        messages: list[tuple[str, dict[str, Any]]] = []
        events = result.events
        balances: dict[str, list[BalanceUpdate]] = {}
        for index, event in enumerate(events):
            if isinstance(event, DepthUpdate):
                market = self.markets.get(event.symbol)
                messages.append((f"{event.symbol.lower()}@depth", depth_event(event, market, now)))
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
        for subscriber in list(self.subscribers):
            for stream, payload in messages:
                if stream in subscriber.streams:
                    subscriber.offer(stream, payload)

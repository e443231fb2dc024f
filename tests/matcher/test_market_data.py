"""Market data: an L2 snapshot plus the diff stream (U/u, Binance's resync rules) rebuilds the book."""

from __future__ import annotations

from matcher import Engine
from matcher.flow import random_flow
from matcher.model import BookTicker, DepthUpdate, Side

from .conftest import MARKET


def test_snapshot_plus_diff_stream_tracks_the_book_through_random_flow() -> None:
    engine = Engine([MARKET])
    flow = list(random_flow(MARKET, 5, 2000))
    buffered: list[DepthUpdate] = []
    for command in flow[:600]:
        buffered += [e for e in engine.process(command).events if isinstance(e, DepthUpdate)]
    snapshot = engine.depth(MARKET.symbol, limit=10_000)  # taken mid-stream, as a client would
    for command in flow[600:]:
        buffered += [e for e in engine.process(command).events if isinstance(e, DepthUpdate)]
    local = {"bids": dict(snapshot["bids"]), "asks": dict(snapshot["asks"])}  # type: ignore[arg-type]
    last = snapshot["lastUpdateId"]
    applied = 0
    for event in buffered:
        if event.last_update_id <= last:  # rule: drop what the snapshot already has
            continue
        assert event.first_update_id <= last + 1 <= event.last_update_id  # rule: no gaps
        for side, levels in (("bids", event.bids), ("asks", event.asks)):
            for price, qty in levels:
                if qty:
                    local[side][price] = qty
                else:
                    local[side].pop(price, None)
        last = event.last_update_id
        applied += 1
    assert applied > 100
    book = engine.books[MARKET.symbol]
    assert sorted(local["bids"].items(), reverse=True) == book.depth(Side.BUY, 10_000)
    assert sorted(local["asks"].items()) == book.depth(Side.SELL, 10_000)


def test_book_ticker_follows_the_best_levels() -> None:
    from matcher import Deposit, OrderType, PlaceOrder

    engine = Engine([MARKET])
    engine.process(Deposit("a", "BRS", 10**21))
    events = engine.process(PlaceOrder("a", MARKET.symbol, Side.SELL, OrderType.LIMIT, qty=3, price=1000)).events
    [ticker] = [e for e in events if isinstance(e, BookTicker)]
    assert (ticker.ask_price, ticker.ask_qty, ticker.bid_price) == (1000, 3, 0)
    events = engine.process(PlaceOrder("a", MARKET.symbol, Side.SELL, OrderType.LIMIT, qty=1, price=1100)).events
    assert not [e for e in events if isinstance(e, BookTicker)]  # the best did not change
    assert [e for e in events if isinstance(e, DepthUpdate)][0].asks == ((1100, 1),)

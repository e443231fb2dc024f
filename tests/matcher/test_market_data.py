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


def test_each_shape_of_depth_change_gives_the_levels_best_first_with_consecutive_update_ids() -> None:
    """A command that changes one or two levels of one side (most do) and one that changes more, or both sides,
    are recorded differently (see Book.take_depth); each gives the same kind of DepthUpdate."""
    from matcher import CancelOrder, CancelReplace, Deposit, OrderType, PlaceOrder, TimeInForce

    engine = Engine([MARKET])
    for account in ("a", "b"):
        for asset in ("BRS", "WBNB"):
            engine.process(Deposit(account, asset, 10**30))

    def depth(command):  # type: ignore[no-untyped-def]
        [update] = [e for e in engine.process(command).events if isinstance(e, DepthUpdate)]
        return update.first_update_id, update.last_update_id, update.bids, update.asks

    def limit(account: str, side: Side, price: int, qty: int, **kw) -> PlaceOrder:  # type: ignore[no-untyped-def]
        return PlaceOrder(account, MARKET.symbol, side, OrderType.LIMIT, qty=qty, price=price, **kw)

    assert depth(limit("a", Side.SELL, 1002, 1)) == (1, 1, (), ((1002, 1),))  # one ask level
    assert depth(limit("a", Side.SELL, 1001, 2)) == (2, 2, (), ((1001, 2),))
    resting = engine.process(limit("a", Side.SELL, 1000, 3))
    assert engine.depth(MARKET.symbol)["asks"] == [(1000, 3), (1001, 2), (1002, 1)]
    bid = engine.process(limit("b", Side.BUY, 990, 4)).order_id
    # a cancel-replace moving a bid: two levels of one side, best first
    moved = CancelReplace(CancelOrder("b", MARKET.symbol, bid), limit("b", Side.BUY, 995, 4))
    assert depth(moved) == (5, 5, ((995, 4), (990, 0)), ())
    # a cancel-replace moving an ask outwards: best first on that side too
    moved = CancelReplace(CancelOrder("a", MARKET.symbol, resting.order_id), limit("a", Side.SELL, 1003, 3))
    assert depth(moved) == (6, 6, (), ((1000, 0), (1003, 3)))
    # a buy taking three ask levels: more than two levels of one side
    assert depth(limit("b", Side.BUY, 1003, 6, tif=TimeInForce.IOC)) == (
        7, 7, (), ((1001, 0), (1002, 0), (1003, 0)))
    # a buy that takes an ask level and rests the rest: both sides
    engine.process(limit("a", Side.SELL, 1010, 1))
    assert depth(limit("b", Side.BUY, 1010, 3)) == (9, 9, ((1010, 2),), ((1010, 0),))
    assert engine.depth(MARKET.symbol)["lastUpdateId"] == 9

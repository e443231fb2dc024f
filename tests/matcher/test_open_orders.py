"""The engine's open orders by id (a window of slots and a dict for older ids) read and change as a plain dict would:
in id order and out of it (a restore), across big gaps, and through the window's compactions."""

from __future__ import annotations

import random

import pytest

from matcher import Deposit, Engine
from matcher.book import Order
from matcher.model import CancelOrder, CancelReplace, OrderType, PlaceOrder, Side, Stp, TimeInForce
from matcher.open_orders import COMPACT_AT, GAP_LIMIT, OpenOrders
from tests.matcher.conftest import MARKET


def _order(order_id: int) -> Order:
    return Order(order_id, "acct", "BRSWBNB", Side.BUY, OrderType.LIMIT, TimeInForce.GTC, 1000, 1, "", Stp.NONE, 0)


def _same(index: OpenOrders, mirror: dict[int, Order], rng: random.Random, top: int) -> None:
    assert len(index) == len(mirror) and bool(index) == bool(mirror)
    assert index.items() == sorted(mirror.items())
    assert list(index) == sorted(mirror) == index.keys()
    assert index.values() == [mirror[k] for k in sorted(mirror)]
    for order_id in [rng.randrange(-2, top + GAP_LIMIT * 3) for _ in range(50)] + list(mirror)[:50]:
        expected = mirror.get(order_id)
        assert index.find(order_id) is expected and index.get(order_id) is expected
        assert (order_id in index) == (expected is not None)
        if expected is None:
            with pytest.raises(KeyError):
                index[order_id]
        else:
            assert index[order_id] is expected


def test_ids_in_order_with_random_closes_through_compactions() -> None:
    rng = random.Random(5)
    index, mirror = OpenOrders(), {}
    live: list[int] = []
    for order_id in range(1, 40_001):
        order = _order(order_id)
        index.add(order)
        mirror[order_id] = order
        live.append(order_id)
        while len(live) > 900 or (live and rng.random() < 0.3):  # close random open orders, as moves and fills do
            gone = live.pop(rng.randrange(len(live)))
            if rng.random() < 0.5:
                index.remove(gone)
            else:
                index.discard(gone)
            del mirror[gone]
        if order_id % 997 == 0:
            _same(index, mirror, rng, order_id)
    _same(index, mirror, rng, 40_000)
    assert len(index._slots) < COMPACT_AT  # compacted: not a slot per order ever placed
    assert index._older  # and the long-lived ones moved to the dict


def test_ids_out_of_order_and_far_apart_as_a_restore_adds_them() -> None:
    rng = random.Random(9)
    for _ in range(30):
        index, mirror = OpenOrders(), {}
        ids = rng.sample(range(1, 50_000), 300) + [rng.randrange(1, 10**12) for _ in range(5)] + [2**70]
        rng.shuffle(ids)
        for order_id in ids:
            order = _order(order_id)
            index.add(order)
            mirror[order_id] = order
        _same(index, mirror, rng, 50_000)
        assert len(index._slots) <= GAP_LIMIT + 2  # a far id starts a new window rather than padding up to it
        for order_id in rng.sample(ids, 200):
            index.remove(order_id)
            del mirror[order_id]
            with pytest.raises(KeyError):
                index.remove(order_id)
            index.discard(order_id)  # nothing open: no-op
        _same(index, mirror, rng, 50_000)
        next_id = max(ids) + 1  # and the engine's next ids carry on
        for order_id in range(next_id, next_id + 50):
            index.add(_order(order_id))
            mirror[order_id] = index[order_id]
        _same(index, mirror, rng, next_id + 50)


def test_keys_that_are_not_ids() -> None:
    index = OpenOrders()
    index.add(_order(1))
    for key in ("1", None, 1.5, (1,)):
        assert key not in index and index.get(key) is None and index.get(key, "none") == "none"
    assert True in index  # as in a dict, True is 1


def test_an_engine_with_heavy_churn_keeps_its_open_orders_and_books_in_step() -> None:
    rng = random.Random(3)
    engine = Engine([MARKET])
    for account in ("a", "b", "c"):
        engine.process(Deposit(account, "BRS", 10**40))
        engine.process(Deposit(account, "WBNB", 10**40))
    resting: list[tuple[int, str, Side]] = []
    for step in range(12_000):
        side = rng.choice((Side.BUY, Side.SELL))
        price = rng.randint(900, 999) if side is Side.BUY else rng.randint(1001, 1100)
        who = rng.choice("abc")
        if resting and rng.random() < 0.8:
            order_id, owner, old_side = resting.pop(rng.randrange(len(resting)))
            cancel = CancelOrder(owner, MARKET.symbol, order_id=order_id)
            if rng.random() < 0.3:
                assert engine.process(cancel).ok
                continue
            new_price = rng.randint(900, 999) if old_side is Side.BUY else rng.randint(1001, 1100)
            result = engine.process(CancelReplace(cancel, PlaceOrder(owner, MARKET.symbol, old_side, OrderType.LIMIT,
                                                                     qty=rng.randint(1, 5), price=new_price)))
            who, side = owner, old_side
        else:
            result = engine.process(PlaceOrder(who, MARKET.symbol, side, OrderType.LIMIT, qty=rng.randint(1, 5),
                                               price=price))
        assert result.ok
        resting.append((result.order_id, who, side))
        if len(resting) > 600:
            order_id, owner, _ = resting.pop(0)  # an old order cancelled: the window's older half empties
            assert engine.process(CancelOrder(owner, MARKET.symbol, order_id=order_id)).ok
    in_books = {o.order_id: o for o in engine.books[MARKET.symbol].orders()}
    assert dict(engine.orders.items()) == in_books and len(engine.orders) == len(resting)
    assert sorted(engine.orders) == sorted(order_id for order_id, _, _ in resting)

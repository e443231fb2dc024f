"""One market's order book: price levels in price-time priority."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass
from typing import Iterator

from .model import OrderType, Side, Status, Stp, TimeInForce


@dataclass(slots=True, eq=False)  # an order is an entity: compare by identity (and fast)
class Order:
    order_id: int
    account: str
    symbol: str
    side: Side
    type: OrderType
    tif: TimeInForce
    price: int
    qty: int
    client_order_id: str
    stp: Stp
    ts: int
    stop_price: int = 0
    quote_qty: int = 0
    filled: int = 0
    cum_quote: int = 0
    locked: int = 0  # what this order still holds locked (quote for buys, base units for sells)
    status: Status = Status.NEW

    @property
    def remaining(self) -> int:
        return self.qty - self.filled


class Book:
    def __init__(self) -> None:
        self._levels: dict[Side, dict[int, deque[Order]]] = {Side.BUY: {}, Side.SELL: {}}
        self._prices: dict[Side, list[int]] = {Side.BUY: [], Side.SELL: []}  # ascending
        self.touched: set[tuple[Side, int]] = set()  # levels changed since the engine last published depth
        self._totals: dict[tuple[Side, int], int] = {}  # remaining quantity per level, kept as orders change

    def touch(self, side: Side, price: int) -> None:
        self.touched.add((side, price))

    def reduce(self, order: Order, qty: int) -> None:
        """A resting order lost `qty` (a fill or an amend) without leaving its place."""
        key = (order.side, order.price)
        self._totals[key] -= qty
        self.touched.add(key)

    def level_qty(self, side: Side, price: int) -> int:
        return self._totals.get((side, price), 0)

    def add(self, order: Order) -> None:
        key = (order.side, order.price)
        self.touched.add(key)
        self._totals[key] = self._totals.get(key, 0) + order.remaining
        levels = self._levels[order.side]
        level = levels.get(order.price)
        if level is None:
            level = levels[order.price] = deque()
            insort(self._prices[order.side], order.price)
        level.append(order)

    def remove(self, order: Order) -> None:
        key = (order.side, order.price)
        self.touched.add(key)
        self._totals[key] -= order.remaining
        levels = self._levels[order.side]
        level = levels[order.price]
        level.remove(order)
        if not level:
            self._drop_level(order.side, order.price)

    def _drop_level(self, side: Side, price: int) -> None:
        del self._levels[side][price]
        self._totals.pop((side, price), None)
        prices = self._prices[side]
        del prices[bisect_left(prices, price)]

    def best(self, side: Side) -> int | None:
        prices = self._prices[side]
        if not prices:
            return None
        return prices[-1] if side is Side.BUY else prices[0]

    def front(self, side: Side) -> Order | None:
        """The first order in time at the best price of `side`."""
        price = self.best(side)
        return None if price is None else self._levels[side][price][0]

    def pop_front(self, side: Side) -> None:
        price = self.best(side)
        assert price is not None
        self.touched.add((side, price))
        level = self._levels[side][price]
        self._totals[(side, price)] -= level.popleft().remaining
        if not level:
            self._drop_level(side, price)

    def walk(self, side: Side) -> Iterator[Order]:
        """Orders of `side` from the best price outwards, each level in time order."""
        prices = self._prices[side]
        ordered = reversed(prices) if side is Side.BUY else iter(prices)
        for price in list(ordered):
            yield from list(self._levels[side][price])

    def depth(self, side: Side, limit: int) -> list[tuple[int, int]]:
        """Aggregated (price, qty) levels from the best price outwards."""
        prices = self._prices[side]
        ordered = list(reversed(prices)) if side is Side.BUY else prices
        return [(p, self._totals[(side, p)]) for p in ordered[:limit]]

    def orders(self) -> Iterator[Order]:
        for side in (Side.BUY, Side.SELL):
            yield from self.walk(side)


class ReferenceBook:
    """The obviously correct book: one list, sorted on every question. Slow; the oracle for `Book`."""

    def __init__(self) -> None:
        self._orders: list[Order] = []
        self._arrival = 0
        self._seq: dict[int, int] = {}
        self.touched: set[tuple[Side, int]] = set()

    def touch(self, side: Side, price: int) -> None:
        self.touched.add((side, price))

    def reduce(self, order: Order, qty: int) -> None:
        self.touched.add((order.side, order.price))  # totals are computed on demand here

    def level_qty(self, side: Side, price: int) -> int:
        return sum(o.remaining for o in self._orders if o.side is side and o.price == price)

    def add(self, order: Order) -> None:
        self.touched.add((order.side, order.price))
        self._arrival += 1
        self._seq[order.order_id] = self._arrival
        self._orders.append(order)

    def remove(self, order: Order) -> None:
        self.touched.add((order.side, order.price))
        self._orders = [o for o in self._orders if o is not order]

    def _sorted(self, side: Side) -> list[Order]:
        same = [o for o in self._orders if o.side is side]
        sign = -1 if side is Side.BUY else 1
        return sorted(same, key=lambda o: (sign * o.price, self._seq[o.order_id]))

    def best(self, side: Side) -> int | None:
        ordered = self._sorted(side)
        return ordered[0].price if ordered else None

    def front(self, side: Side) -> Order | None:
        ordered = self._sorted(side)
        return ordered[0] if ordered else None

    def pop_front(self, side: Side) -> None:
        front = self.front(side)
        assert front is not None
        self.remove(front)

    def walk(self, side: Side) -> Iterator[Order]:
        yield from self._sorted(side)

    def depth(self, side: Side, limit: int) -> list[tuple[int, int]]:
        levels: dict[int, int] = {}
        for o in self._sorted(side):
            levels[o.price] = levels.get(o.price, 0) + o.remaining
        return list(levels.items())[:limit]

    def orders(self) -> Iterator[Order]:
        for side in (Side.BUY, Side.SELL):
            yield from self.walk(side)

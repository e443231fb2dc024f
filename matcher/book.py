"""One market's order book: price levels in price-time priority.

`Book` is the fast one; `ReferenceBook` the obviously correct one that property tests compare it with. Both
answer the same questions; sides are told apart by identity (`side is BUY`), as an enum member's hash is a
Python-level call and these structures are on every order's path.
"""

from __future__ import annotations

from typing import Any, Final, Iterator

from mypy_extensions import mypyc_attr

from .balances import Balance, put_at
from .model import DEPTH_EVENT, OrderType, Side, SideDepthRecord, Status, Stp, TimeInForce

BUY: Final = Side.BUY
SELL: Final = Side.SELL

NO_BALANCE: Final = Balance(("", ""))

# A tick price or an order id as the book keys it. Typed Any rather than int because a compiled build keeps an int
# field unboxed, and every use as a dict or set key would box it again (an allocation for anything above 256).
Price = Any
OrderId = Any


# free_list_len: a compiled build keeps the last freed order for the next one (a cancel-replace frees one and makes
# one), rather than freeing and allocating it; a no-op in the sources. Not acyclic: a resting order and its level
# refer to each other.
@mypyc_attr(free_list_len=1)
class Order:
    """An open (or just closed) order. An entity: compared by identity. A plain class rather than a dataclass so
    that a compiled build constructs it natively (a dataclass keeps a generated Python `__init__`)."""

    __slots__ = ("order_id", "account", "symbol", "side", "type", "tif", "price", "qty", "client_order_id", "stp",
                 "ts", "stop_price", "quote_qty", "filled", "cum_quote", "locked", "status", "max_platform_fee_rate",
                 "trailing_delta", "trail_price", "iceberg_qty", "visible", "lock", "level", "market")

    def __init__(self, order_id: OrderId, account: str, symbol: str, side: Side, type: OrderType, tif: TimeInForce,
                 price: Price, qty: int, client_order_id: str, stp: Stp, ts: int, stop_price: int = 0,
                 quote_qty: int = 0, filled: int = 0, cum_quote: int = 0, locked: int = 0,
                 status: Status = Status.NEW, max_platform_fee_rate: int = 0, trailing_delta: int = 0,
                 trail_price: int = 0, iceberg_qty: int = 0, visible: int = 0) -> None:
        self.order_id = order_id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.type = type
        self.tif = tif
        self.price = price
        self.qty = qty
        self.client_order_id = client_order_id
        self.stp = stp
        self.ts = ts
        self.stop_price = stop_price
        self.quote_qty = quote_qty
        self.filled = filled
        self.cum_quote = cum_quote
        self.locked = locked  # what this order still holds locked (quote for buys, base units for sells)
        self.status = status
        self.max_platform_fee_rate = max_platform_fee_rate  # the most its fee in the platform token may be (x 1e18)
        self.trailing_delta = trailing_delta  # a trailing stop's delta in basis points (0: a plain stop)
        self.trail_price = trail_price  # a trailing stop's best price since it began tracking (0: not yet)
        self.iceberg_qty = iceberg_qty  # an iceberg's display size in lots (0: not an iceberg)
        self.visible = visible  # an iceberg's lots still shown in the book from its current slice
        self.lock: Balance = NO_BALANCE  # the balance it locks funds in, set by the engine
        self.level: Any = None  # the Book level it rests in (set by Book.add: removing it needs no lookup)
        self.market: Any = None  # the engine's market it is in (set by the engine: cancelling it needs no lookup)

    @property
    def remaining(self) -> int:
        return self.qty - self.filled

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ORDER_FIELDS}

    def __repr__(self) -> str:
        return "Order(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in ORDER_FIELDS) + ")"


ORDER_FIELDS: Final = ("order_id", "account", "symbol", "side", "type", "tif", "price", "qty", "client_order_id", "stp",
                       "ts", "stop_price", "quote_qty", "filled", "cum_quote", "locked", "status", "max_platform_fee_rate",
                       "trailing_delta", "trail_price", "iceberg_qty", "visible")


def shown(order: Order) -> int:
    """The lots `order` shows in the book: all it has left, or for an iceberg what is left of its current slice."""
    return order.visible if order.iceberg_qty else order.qty - order.filled

# best bid, its quantity, best ask, its quantity (0 when a side is empty); a plain tuple (see engine.Key)
Top = Any
# changed levels, flattened (price, total, price, total, ...): what the engine records for a side (see Book.take_depth,
# and model.levels, which pairs them when an event is read)
Flat = tuple[Any, ...]


@mypyc_attr(free_list_len=1)  # as Order's
class Level:
    """The orders resting at one price, in time order, and the lots they show in total (0 once the level is gone)."""

    __slots__ = ("price", "tick", "orders", "total")

    def __init__(self, order: Order) -> None:
        self.price: Price = order.price
        self.tick: int = order.price  # the same, unboxed in a compiled build: compared natively
        self.orders: list[Order] = [order]  # a list beats a deque at a level's usual few orders
        self.total: int = shown(order)


class _Side:
    """One side: a level per price, found by price (`levels`) and in price order (`prices` ascending, `ladder` the
    levels in the same order: the best level without a lookup). `prices` could be read from the ladder, but every
    order asks for the best price: read from the ladder it cost 2.4 % of the engine's commands a second (measured)."""

    __slots__ = ("levels", "prices", "ladder", "touched", "touched_count")

    def __init__(self) -> None:
        self.levels: dict[Price, Level] = {}
        self.prices: list[Price] = []
        self.ladder: list[Level] = []
        # levels changed since the engine last published depth, one per price (the latest level there): the first
        # `touched_count` entries of a list that is reused, not emptied (a command changes one or two: a set's add
        # and pop, or a list's pop and clear, would free and allocate its storage every command). A level keeps its
        # total, 0 once gone, so publishing needs no lookup.
        self.touched: list[Level] = []
        self.touched_count = 0

    def touch(self, level: Level) -> None:
        touched, count = self.touched, self.touched_count
        for i in range(count):
            seen = touched[i]
            if seen is level:
                return
            if seen.tick == level.tick:  # gone and opened again in the same command: the new level counts
                touched[i] = level
                return
        self.touched_count = put_at(touched, count, level)

    def total(self, price: Price) -> int:
        level = self.levels.get(price)
        return 0 if level is None else level.total

    def open(self, order: Order) -> Level:
        level = self.levels[order.price] = Level(order)
        i = _place_of(self.ladder, level.tick)
        self.prices.insert(i, level.price)
        self.ladder.insert(i, level)
        return level

    def drop(self, level: Level) -> None:
        level.total = 0
        del self.levels[level.price]
        i = _place_of(self.ladder, level.tick)
        self.prices.pop(i)
        self.ladder.pop(i)


def _place_of(ladder: list[Level], tick: int) -> int:
    """Where a level at `tick` is (or goes) in a ladder in ascending price order: bisect_left on the levels' ticks,
    compared natively in a compiled build (bisect compares the boxed prices through the generic protocol)."""
    lo, hi = 0, len(ladder)
    while lo < hi:
        mid = (lo + hi) >> 1
        if ladder[mid].tick < tick:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _changed(s: _Side, descending: bool) -> Flat:
    touched, count = s.touched, s.touched_count
    s.touched_count = 0
    if count == 1:
        level = touched[0]
        return (level.price, level.total)
    if count == 2:  # a cancel-replace on one side: no sort
        first, second = _best_first(touched, descending)
        return (first.price, first.total, second.price, second.total)
    flat: list[Any] = []
    for level in sorted(touched[:count], key=_price, reverse=descending):
        flat.append(level.price)
        flat.append(level.total)
    return tuple(flat)


def _best_first(touched: list[Level], descending: bool) -> tuple[Level, Level]:
    """The first two touched levels, the better price first (the higher for bids: `descending`)."""
    first, second = touched[0], touched[1]
    return (second, first) if (first.tick < second.tick) == descending else (first, second)


def _side_record(s: _Side, bids: bool, symbol: str, update_id: int) -> SideDepthRecord:
    """The depth record of one side's one or two changed levels, best first."""
    count = s.touched_count
    s.touched_count = 0
    if count == 1:
        level = s.touched[0]
        return SideDepthRecord(bids, symbol, update_id, level.tick, level.total)
    first, second = _best_first(s.touched, bids)
    return SideDepthRecord(bids, symbol, update_id, first.tick, first.total, True, second.tick, second.total)


def _price(level: Level) -> Price:
    return level.price


class Book:
    __slots__ = ("_bids", "_asks")

    def __init__(self) -> None:
        self._bids, self._asks = _Side(), _Side()

    def _side(self, side: Side) -> _Side:
        return self._bids if side is BUY else self._asks

    def reduce(self, order: Order, qty: int) -> None:
        """A resting order showed `qty` fewer lots (a fill or an amend) without leaving its place."""
        level: Level = order.level
        level.total -= qty
        (self._bids if order.side is BUY else self._asks).touch(level)

    def level_qty(self, side: Side, price: int) -> int:
        return self._side(side).total(price)

    def add(self, order: Order) -> None:
        s = self._bids if order.side is BUY else self._asks
        level = s.levels.get(order.price)
        if level is None:
            level = s.open(order)
        else:
            level.orders.append(order)
            level.total += shown(order)
        s.touch(level)
        order.level = level

    def remove(self, order: Order) -> None:
        s = self._bids if order.side is BUY else self._asks
        level: Level = order.level
        s.touch(level)
        orders = level.orders
        for i in range(len(orders)):  # by identity: list.remove would ask each order before it for equality first
            if orders[i] is order:
                orders.pop(i)  # (a native pop: `del orders[i]` boxes i and goes through the generic protocol)
                break
        else:
            raise ValueError(f"order {order.order_id} is not in the book")
        if orders:
            level.total -= shown(order)
        else:
            s.drop(level)

    def best(self, side: Side) -> int | None:
        prices = (self._bids if side is BUY else self._asks).prices
        if not prices:
            return None
        return prices[-1] if side is BUY else prices[0]

    def front(self, side: Side) -> Order | None:
        """The first order in time at the best price of `side`."""
        if side is BUY:
            ladder = self._bids.ladder
            return ladder[-1].orders[0] if ladder else None
        ladder = self._asks.ladder
        return ladder[0].orders[0] if ladder else None

    def pop_front(self, side: Side) -> None:
        s = self._bids if side is BUY else self._asks
        level = s.ladder[-1] if side is BUY else s.ladder[0]
        s.touch(level)
        order = level.orders.pop(0)
        if level.orders:
            level.total -= shown(order)
        else:
            s.drop(level)

    def walk(self, side: Side) -> Iterator[Order]:
        """Orders of `side` from the best price outwards, each level in time order."""
        ladder = self._side(side).ladder
        for level in (ladder[::-1] if side is BUY else ladder[:]):
            yield from list(level.orders)

    def depth(self, side: Side, limit: int) -> list[tuple[int, int]]:
        """Aggregated (price, qty) levels from the best price outwards."""
        ladder = self._side(side).ladder
        return [(level.price, level.total) for level in (ladder[::-1] if side is BUY else ladder)[:limit]]

    def orders(self) -> Iterator[Order]:
        yield from self.walk(Side.BUY)
        yield from self.walk(Side.SELL)

    def take_depth(self, symbol: str, update_id: int) -> SideDepthRecord | tuple[Any, ...] | None:
        """The depth record of the levels changed since the last call (None if none): where one side changed one or
        two levels (most commands), a `SideDepthRecord`; otherwise (DEPTH_EVENT, symbol, update_id, bids, asks),
        each side's changed levels flattened (price, total, price, total, ...; () if none). A level's total is 0
        once it is gone; levels are best first."""
        bids, asks = self._bids, self._asks
        changed_bids, changed_asks = bids.touched_count, asks.touched_count
        if not changed_asks:
            if not changed_bids:
                return None
            if changed_bids <= 2:
                return _side_record(bids, True, symbol, update_id)
        elif not changed_bids and changed_asks <= 2:
            return _side_record(asks, False, symbol, update_id)
        return (DEPTH_EVENT, symbol, update_id, _changed(bids, True) if changed_bids else (),
                _changed(asks, False) if changed_asks else ())

    def clear_touched(self) -> None:
        self._bids.touched_count = 0
        self._asks.touched_count = 0

    def top(self) -> Top:
        bids, asks = self._bids.ladder, self._asks.ladder
        if bids:
            bid = bids[-1]
            if asks:
                ask = asks[0]
                return (bid.price, bid.total, ask.price, ask.total)
            return (bid.price, bid.total, 0, 0)
        if asks:
            ask = asks[0]
            return (0, 0, ask.price, ask.total)
        return (0, 0, 0, 0)


class ReferenceBook(Book):
    """The obviously correct book: one list, sorted on every question. Slow; the oracle for `Book`.

    A subclass only so that it fits where a `Book` goes (in a compiled build too); it shares no code with it."""

    def __init__(self) -> None:  # super().__init__ is not called: none of Book's state is used
        self._orders: list[Order] = []
        self._arrival = 0
        self._seq: dict[int, int] = {}
        self._touched: set[tuple[Side, int]] = set()

    def touch(self, side: Side, price: int) -> None:
        self._touched.add((side, price))

    def reduce(self, order: Order, qty: int) -> None:
        self.touch(order.side, order.price)  # totals are computed on demand here

    def level_qty(self, side: Side, price: int) -> int:
        return sum(shown(o) for o in self._orders if o.side is side and o.price == price)

    def add(self, order: Order) -> None:
        self.touch(order.side, order.price)
        self._arrival += 1
        self._seq[order.order_id] = self._arrival
        self._orders.append(order)

    def remove(self, order: Order) -> None:
        self.touch(order.side, order.price)
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
            levels[o.price] = levels.get(o.price, 0) + shown(o)
        return list(levels.items())[:limit]

    def orders(self) -> Iterator[Order]:
        for side in (Side.BUY, Side.SELL):
            yield from self.walk(side)

    def _take_touched_side(self, side: Side) -> Flat:
        prices = sorted({p for s, p in self._touched if s is side}, reverse=side is Side.BUY)
        self._touched = {(s, p) for s, p in self._touched if s is not side}
        return tuple(x for p in prices for x in (p, self.level_qty(side, p)))

    def take_depth(self, symbol: str, update_id: int) -> SideDepthRecord | tuple[Any, ...] | None:
        bids, asks = self._take_touched_side(Side.BUY), self._take_touched_side(Side.SELL)
        return (DEPTH_EVENT, symbol, update_id, bids, asks) if bids or asks else None

    def clear_touched(self) -> None:
        self._touched.clear()

    def top(self) -> Top:
        bid, ask = self.best(Side.BUY), self.best(Side.SELL)
        return (bid or 0, self.level_qty(Side.BUY, bid) if bid else 0,
                ask or 0, self.level_qty(Side.SELL, ask) if ask else 0)

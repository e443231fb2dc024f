"""The engine's open orders by id: a window of slots for recent ids, a dict for older ones.

Order ids are handed out one after another and most orders are closed soon (filled, cancelled, moved), so the
recent ones are slots of a list: slot i holds the order with id `base + i`, or None once it closed. A lookup is an
index, where a dict hashed a boxed id and compared key objects, and adding the next order is an append. When most of
a large window is empty, the orders still open in its older half move into the dict and the window starts after it
(each order moves at most once per halving, so this costs O(1) a command on average). An id below the window, or far
past its end (orders restored from a snapshot, in book order), goes to the dict.

`OpenOrders` reads as a mapping of id to order (`get`, `in`, `[id]`, `len`, iteration over ids in ascending order,
`values()`, `items()`); the engine changes it through `add`, `remove` and `discard`, and finds orders with `find`.
"""

from __future__ import annotations

from typing import Any, Final, Iterator

from .book import Order

COMPACT_AT: Final = 4096  # a window this long or longer is compacted once fewer than a quarter of its slots are open
GAP_LIMIT: Final = 4096  # an id this far past the window's end starts a new window (the old one's orders to the dict)


class OpenOrders:
    __slots__ = ("_slots", "_base", "_live", "_older")

    def __init__(self) -> None:
        self._slots: list[Order | None] = []
        self._base = 1  # the id of slot 0
        self._live = 0  # open orders in the slots
        self._older: dict[int, Order] = {}  # open orders with ids below the window

    # -- the engine's --------------------------------------------------------------------------------------------
    def find(self, order_id: int) -> Order | None:
        i = order_id - self._base
        if 0 <= i < len(self._slots):
            return self._slots[i]
        return self._older.get(order_id)

    def add(self, order: Order) -> None:
        """Add an open order (its id must not be open already)."""
        order_id: int = order.order_id
        slots = self._slots
        i = order_id - self._base
        n = len(slots)
        if i == n:  # the usual case: the next id
            slots.append(order)
            self._live += 1
        elif 0 <= i < n:
            if slots[i] is None:
                self._live += 1
            slots[i] = order
        elif i < 0:
            self._older[order_id] = order
        elif not n or i - n > GAP_LIMIT:  # an empty window, or far past its end: a new window starts at this id
            self._retire(n)
            self._base = order_id
            slots.append(order)
            self._live = 1
        else:
            for _ in range(i - n):
                slots.append(None)
            slots.append(order)
            self._live += 1

    def remove(self, order_id: int) -> None:
        """Take an open order out (KeyError if there is none with this id)."""
        if not self._take(order_id):
            raise KeyError(order_id)

    def discard(self, order_id: int) -> None:
        """Take an order out if it is open."""
        self._take(order_id)

    def _take(self, order_id: int) -> bool:
        slots = self._slots
        i = order_id - self._base
        if 0 <= i < len(slots):
            if slots[i] is None:
                return False
            slots[i] = None
            self._live -= 1
            if len(slots) >= COMPACT_AT and self._live * 4 < len(slots):
                self._retire(len(slots) >> 1)
            return True
        return self._older.pop(order_id, None) is not None

    def _retire(self, count: int) -> None:
        """Move the open orders of the window's first `count` slots into the dict; the window starts after them."""
        slots = self._slots
        older = self._older
        base = self._base
        for i in range(count):
            order = slots[i]
            if order is not None:
                older[base + i] = order
                self._live -= 1
        del slots[:count]
        self._base = base + count

    # -- a mapping's reads ----------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._live + len(self._older)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int) and self.find(key) is not None

    def __getitem__(self, key: int) -> Order:
        order = self.find(key)
        if order is None:
            raise KeyError(key)
        return order

    def get(self, key: Any, default: Any = None) -> Any:
        if not isinstance(key, int):
            return default
        order = self.find(key)
        return default if order is None else order

    def __iter__(self) -> Iterator[int]:
        return iter(self.keys())

    def items(self) -> list[tuple[int, Order]]:
        """(id, order) for every open order, by id."""
        found = sorted(self._older.items())
        base = self._base
        slots = self._slots
        for i in range(len(slots)):
            order = slots[i]
            if order is not None:
                found.append((base + i, order))
        return found

    def keys(self) -> list[int]:
        return [order_id for order_id, _ in self.items()]

    def values(self) -> list[Order]:
        return [order for _, order in self.items()]

    def __repr__(self) -> str:
        return f"OpenOrders({len(self)} open)"

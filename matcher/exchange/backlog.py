"""Backpressure: the exchange matches far faster than a chain settles, so fills that wait for settlement are
bounded. While `max_unsettled` fills are PENDING or SUBMITTED, new orders (and order lists, and the new half of a
cancel-replace) are refused with Binance's -1008 (HTTP 503, Retry-After) until settlement catches up; cancels and
amends still pass, as they only shrink what is at stake. The count is kept by SQLite triggers on the trades table
(store.SCHEMA), so every path that changes a fill's state keeps it exact; it is read again only once the exchange
may have changed a fill (`changes`: ExchangeCore.changes, which moves with every command that fills and every
write that may touch a fill), not for each order."""

from __future__ import annotations

import sqlite3
from typing import Any, Callable

from . import store
from .errors import SERVER_BUSY, ApiError

BUSY_MESSAGE = "Server is currently overloaded with other requests. Please try again in a few minutes."


class Backlog:
    def __init__(self, db: sqlite3.Connection, changes: Callable[[], int], max_unsettled: int, batch_size: int,
                 batch_interval: float) -> None:
        self.db, self.changes, self.max_unsettled = db, changes, max_unsettled
        self.batch_size, self.batch_interval = batch_size, batch_interval
        self._read_at, self._unsettled = -1, 0  # the count, as read when `changes` was `_read_at`

    @property
    def unsettled(self) -> int:
        changes = self.changes()
        if changes != self._read_at:
            self._unsettled, self._read_at = store.unsettled_fills(self.db), changes
        return self._unsettled

    def check(self) -> None:
        """ApiError(-1008) while the backlog is at its bound."""
        if self.unsettled >= self.max_unsettled:
            raise ApiError(SERVER_BUSY, BUSY_MESSAGE, status=503, headers={"Retry-After": "1"})

    def status(self) -> dict[str, Any]:
        counts = dict(self.db.execute("SELECT state, COUNT(*) FROM trades WHERE state IN ('PENDING', 'SUBMITTED') "
                                      "GROUP BY state").fetchall())
        unsettled = self.unsettled
        return {"unsettledFills": unsettled, "pendingFills": counts.get("PENDING", 0),
                "submittedFills": counts.get("SUBMITTED", 0), "maxUnsettledFills": self.max_unsettled,
                "acceptingOrders": unsettled < self.max_unsettled, "batchSize": self.batch_size,
                "batchInterval": self.batch_interval}

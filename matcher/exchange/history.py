"""Market history derived from fills: candles at four base resolutions (1s, 1m, 1h, 1d) and Binance's aggregate
trades (a taker order's fills at one price), written in the same transaction as the fills, so they are exactly as
durable as the journal, and rebuilt from the trades table when a data dir predates them.

A query reads only the stored rows its answer is made of (see intervals.base_of): O(result).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from .intervals import BASES, MINUTE, HOUR, base_of, bucket, next_open

SCHEMA = """
CREATE TABLE IF NOT EXISTS candles (
    symbol TEXT NOT NULL, base INTEGER NOT NULL, open_ms INTEGER NOT NULL, open TEXT NOT NULL, high TEXT NOT NULL,
    low TEXT NOT NULL, close TEXT NOT NULL, volume TEXT NOT NULL, quote TEXT NOT NULL, count INTEGER NOT NULL,
    taker_volume TEXT NOT NULL, taker_quote TEXT NOT NULL, first_id INTEGER NOT NULL, last_id INTEGER NOT NULL,
    PRIMARY KEY (symbol, base, open_ms)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS agg_trades (
    agg_id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, price TEXT NOT NULL, qty TEXT NOT NULL,
    first_id INTEGER NOT NULL, last_id INTEGER NOT NULL, time_ms INTEGER NOT NULL, buyer_maker INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS agg_trades_by_symbol ON agg_trades (symbol, agg_id);
CREATE INDEX IF NOT EXISTS agg_trades_by_time ON agg_trades (symbol, time_ms, agg_id);
"""
_COLUMNS = "open_ms, open, high, low, close, volume, quote, count, taker_volume, taker_quote, first_id, last_id"


class Fill(NamedTuple):
    """What history needs of a trade (prices in ticks, quantities in lots, quote in units)."""

    trade_id: int
    symbol: str
    price: int
    qty: int
    quote: int
    taker_order_id: int
    taker_buys: bool


@dataclass(slots=True)
class Candle:
    open_ms: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    quote: int
    count: int
    taker_volume: int
    taker_quote: int
    first_id: int
    last_id: int

    @classmethod
    def of(cls, open_ms: int, fill: Fill) -> Candle:
        return cls(open_ms, fill.price, fill.price, fill.price, fill.price, fill.qty, fill.quote, 1,
                   fill.qty if fill.taker_buys else 0, fill.quote if fill.taker_buys else 0, fill.trade_id,
                   fill.trade_id)

    def then(self, later: Candle) -> None:
        """Fold in a candle (or one fill's) that comes after this one."""
        self.high, self.low, self.close = max(self.high, later.high), min(self.low, later.low), later.close
        self.volume += later.volume
        self.quote += later.quote
        self.count += later.count
        self.taker_volume += later.taker_volume
        self.taker_quote += later.taker_quote
        self.last_id = later.last_id

    def row(self) -> tuple[Any, ...]:
        return (self.open_ms, str(self.open), str(self.high), str(self.low), str(self.close), str(self.volume),
                str(self.quote), self.count, str(self.taker_volume), str(self.taker_quote), self.first_id,
                self.last_id)

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Candle:
        return cls(row[0], int(row[1]), int(row[2]), int(row[3]), int(row[4]), int(row[5]), int(row[6]), row[7],
                   int(row[8]), int(row[9]), row[10], row[11])


class History:
    """Writes history as fills happen; keeps each (symbol, base)'s newest candle in memory to write it without
    reading it back."""

    def __init__(self, db: sqlite3.Connection) -> None:
        db.executescript(SCHEMA)
        self._newest: dict[tuple[str, int], Candle] = {}
        self._next_agg_id = (db.execute("SELECT MAX(agg_id) FROM agg_trades").fetchone()[0] or 0) + 1
        self.last_recorded: list[dict[str, Any]] = []  # the aggregate trades of the last command (for streams)

    @staticmethod
    def missing(db: sqlite3.Connection) -> bool:
        """Fills without history: a data dir from before it was kept."""
        return db.execute("SELECT 1 FROM candles LIMIT 1").fetchone() is None and \
            db.execute("SELECT 1 FROM trades LIMIT 1").fetchone() is not None

    def record(self, db: sqlite3.Connection, fills: list[Fill], time_ms: int) -> None:
        """One command's fills, all at `time_ms`, in the caller's transaction."""
        self.last_recorded = []
        if not fills:
            return
        aggregated: list[list[Any]] = []
        for fill in fills:
            last = aggregated[-1] if aggregated else None
            if last is not None and last[0] == fill.symbol and last[6] == fill.taker_order_id and \
                    last[1] == fill.price:
                last[2] += fill.qty
                last[4] = fill.trade_id
            else:
                aggregated.append([fill.symbol, fill.price, fill.qty, fill.trade_id, fill.trade_id,
                                   not fill.taker_buys, fill.taker_order_id])
        first_id = self._next_agg_id
        self._next_agg_id += len(aggregated)
        self.last_recorded = [{"agg_id": first_id + i, "symbol": s, "price": p, "qty": q, "first_id": f,
                               "last_id": la, "time_ms": time_ms, "buyer_maker": m}
                              for i, (s, p, q, f, la, m, _) in enumerate(aggregated)]
        db.executemany("INSERT INTO agg_trades (agg_id, symbol, price, qty, first_id, last_id, time_ms, buyer_maker) "
                       "VALUES (?,?,?,?,?,?,?,?)", [(a["agg_id"], a["symbol"], str(a["price"]), str(a["qty"]),
                                                    a["first_id"], a["last_id"], time_ms, int(a["buyer_maker"]))
                                                   for a in self.last_recorded])
        for symbol in dict.fromkeys(f.symbol for f in fills):
            ours = [f for f in fills if f.symbol == symbol]
            for base in BASES:
                open_ms = bucket(time_ms, base)
                candle = self._candle(db, symbol, base, open_ms)
                for fill in ours:
                    if candle is None:
                        candle = Candle.of(open_ms, fill)
                    else:
                        candle.then(Candle.of(open_ms, fill))
                assert candle is not None
                self._newest[symbol, base] = candle
                db.execute(f"INSERT OR REPLACE INTO candles (symbol, base, {_COLUMNS}) VALUES "
                           "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (symbol, base, *candle.row()))

    def _candle(self, db: sqlite3.Connection, symbol: str, base: int, open_ms: int) -> Candle | None:
        cached = self._newest.get((symbol, base))
        if cached is not None and cached.open_ms == open_ms:
            return cached
        row = db.execute(f"SELECT {_COLUMNS} FROM candles WHERE symbol = ? AND base = ? AND open_ms = ?",
                         (symbol, base, open_ms)).fetchone()
        return Candle.from_row(row) if row else None

    def rebuild(self, db: sqlite3.Connection) -> None:
        """Candles and aggregate trades from the trades table, exactly as `record` wrote them."""
        db.execute("DELETE FROM candles")
        db.execute("DELETE FROM agg_trades")
        self._newest.clear()
        self._next_agg_id = 1
        cursor = db.execute("SELECT trade_id, symbol, price, qty, quote, taker_order_id, taker_side, seq, time_ms "
                            "FROM trades ORDER BY trade_id")
        group: list[Fill] = []
        key = None
        for trade_id, symbol, price, qty, quote, taker_order_id, taker_side, seq, time_ms in cursor.fetchall():
            if (seq, time_ms) != key and group:
                self.record(db, group, key[1])  # type: ignore[index]
                group = []
            key = (seq, time_ms)
            group.append(Fill(trade_id, symbol, int(price), int(qty), int(quote), taker_order_id,
                              taker_side == "BUY"))
        if group:
            self.record(db, group, key[1])  # type: ignore[index]


def stored(db: sqlite3.Connection, symbol: str, base: int, start: int, end: int,
           descending: bool = False) -> Iterator[Candle]:
    """Stored candles of one base resolution with start <= open_ms <= end, oldest first (or newest first)."""
    order = "DESC" if descending else "ASC"
    cursor = db.execute(f"SELECT {_COLUMNS} FROM candles WHERE symbol = ? AND base = ? AND open_ms BETWEEN ? AND ? "
                        f"ORDER BY open_ms {order}", (symbol, base, start, end))
    for row in cursor:
        yield Candle.from_row(row)


def klines(db: sqlite3.Connection, symbol: str, length: int, zone: int, start: int | None, end: int | None,
           limit: int, now: int) -> list[Candle]:
    """Candles of `length` in time zone `zone` that have fills: with `start`, the first `limit` opening at or after
    it (and at or before `end`); else the newest `limit` opening at or before `end` (default now)."""
    base = base_of(length, zone)
    upper = end if end is not None else now
    if start is not None:
        rows = stored(db, symbol, base, start, _last_ms(upper, length, zone))
        return _merged(rows, length, zone, limit, lambda candle: candle.open_ms >= start and candle.open_ms <= upper)
    rows = stored(db, symbol, base, 0, _last_ms(upper, length, zone), descending=True)
    newest_first = _merged(rows, length, zone, limit, lambda candle: candle.open_ms <= upper, descending=True)
    return list(reversed(newest_first))


def _last_ms(upper: int, length: int, zone: int) -> int:
    """The last ms of the candle that opens at or before `upper` (its base rows may open after `upper`)."""
    return next_open(bucket(upper, length, zone), length, zone) - 1


def _merged(rows: Iterable[Candle], length: int, zone: int, limit: int, keep: Any,
            descending: bool = False) -> list[Candle]:
    out: list[Candle] = []
    current: Candle | None = None
    for row in rows:
        open_ms = bucket(row.open_ms, length, zone)
        if current is not None and current.open_ms == open_ms:
            if descending:
                earlier = replace(row, open_ms=open_ms)
                earlier.then(current)
                current = earlier
            else:
                current.then(row)
            continue
        if current is not None and keep(current):
            out.append(current)
            if len(out) == limit:
                return out
        current = replace(row, open_ms=open_ms)
    if current is not None and keep(current) and len(out) < limit:
        out.append(current)
    return out


def window(db: sqlite3.Connection, symbol: str, start: int, end: int) -> Candle | None:
    """One candle summing the fills from `start` to `end` (ms, inclusive), to the minute (Binance's rolling
    windows are as coarse): minute candles at the edges, hour candles between."""
    start, end = bucket(start, MINUTE), end
    inner_start = -(-start // HOUR) * HOUR
    inner_end = bucket(end + 1, HOUR)
    parts: Iterable[Candle]
    if inner_end - inner_start >= HOUR:
        parts = _chain(stored(db, symbol, MINUTE, start, inner_start - 1),
                       stored(db, symbol, HOUR, inner_start, inner_end - 1),
                       stored(db, symbol, MINUTE, inner_end, end))
    else:
        parts = stored(db, symbol, MINUTE, start, end)
    total: Candle | None = None
    for part in parts:
        if total is None:
            total = replace(part, open_ms=start)
        else:
            total.then(part)
    return total


def _chain(*parts: Iterable[Candle]) -> Iterator[Candle]:
    for part in parts:
        yield from part


def agg_trades(db: sqlite3.Connection, symbol: str, from_id: int | None, start: int | None, end: int | None,
               limit: int) -> list[dict[str, Any]]:
    """Binance's aggTrades rows: from an id, in a time range, or the newest."""
    columns = "agg_id, price, qty, first_id, last_id, time_ms, buyer_maker"
    if from_id is not None:
        sql, args = f"SELECT {columns} FROM agg_trades WHERE symbol = ? AND agg_id >= ?", [symbol, from_id]
        if start is not None:
            sql, args = sql + " AND time_ms >= ?", [*args, start]
        if end is not None:
            sql, args = sql + " AND time_ms <= ?", [*args, end]
        found = db.execute(sql + " ORDER BY agg_id LIMIT ?", (*args, limit)).fetchall()
    elif start is not None or end is not None:
        found = db.execute(f"SELECT {columns} FROM agg_trades WHERE symbol = ? AND time_ms BETWEEN ? AND ? "
                           "ORDER BY time_ms, agg_id LIMIT ?",
                           (symbol, start if start is not None else 0, end if end is not None else 1 << 62,
                            limit)).fetchall()
    else:
        found = list(reversed(db.execute(f"SELECT {columns} FROM agg_trades WHERE symbol = ? ORDER BY agg_id DESC "
                                         "LIMIT ?", (symbol, limit)).fetchall()))
    return [{"agg_id": a, "price": int(p), "qty": int(q), "first_id": f, "last_id": la, "time_ms": t,
             "buyer_maker": bool(m)} for a, p, q, f, la, t, m in found]


__all__ = ["Candle", "Fill", "History", "agg_trades", "klines", "window"]

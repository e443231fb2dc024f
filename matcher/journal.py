"""The command journal and snapshots (SQLite): nothing acknowledged is lost, replay is exact.

Every state-changing command gets the next sequence number and is written
(and committed) before the engine applies it. Recovery loads the latest
snapshot and replays the journal after it; since the engine never reads the
clock, the result is the same state, byte for byte (`Engine.state_hash`).
Group commit: with `commit_every > 1`, commands are committed in groups,
written by a thread of their own (journal_writer.py) while the engine goes on,
and `flush()` must run before any of them is acknowledged to a client: it
waits for that thread and commits the rest.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import operator
import sqlite3

import orjson
from pathlib import Path
from typing import Any, Callable, Final, Iterable

from . import model
from .model import CancelOrder, CancelReplace, PlaceOrder
from .checkpoints import BACKSTOP_PAGES, Checkpointer
from .engine import Engine
from .fees import FeePolicy
from .errors import JournalError
from .journal_writer import INSERT, GroupWriter
from .market import MarketSpec
from .snapshot import dump, load
from .state import BUY, COMPILED, GTC, LIMIT, SELL, STP_NONE

IOC: Final = model.TimeInForce.IOC  # (an enum member's `value` is a Python-level property: ~1.5k instructions)

_COMMANDS = {cls.__name__: cls for cls in (model.Deposit, model.Withdraw, model.Transfer, model.PlaceOrder,
                                           model.CancelOrder, model.AmendOrder, model.CancelReplace,
                                           model.SetFeePreference, model.SetPlatformFeeRate, model.SetFeeDiscount,
                                           model.AddMarket)}
CHECKPOINT_EVERY = 100  # commits between wake-ups of the checkpoint thread (about the 1,000 WAL pages SQLite waits for)
SNAPSHOTS_KEPT = 2  # the newest, and the one before it should the newest ever be unreadable
# The connection's page cache, at most (SQLite's default is 2 MiB): the exchange's order indexes are written at random
# places, and a page that fell out of the cache is read back with a system call by the next order that touches it.
CACHE_KIB = 64 * 1024

_ENUMS = {"side": model.Side, "type": model.OrderType, "tif": model.TimeInForce, "stp": model.Stp}


_FIELDS: dict[type, tuple[str, ...]] = {cls: tuple(f.name for f in dataclasses.fields(cls))
                                         for cls in _COMMANDS.values()}
_GETTERS: dict[type, Callable[[Any], Any]] = {cls: operator.attrgetter(*fields)  # all fields in one C call
                                              for cls, fields in _FIELDS.items()}


def _build(cls: type, values: list[Any]) -> Any:
    """A command from its journaled field values; fields added since it was written take their defaults."""
    fields = _FIELDS[cls]
    if len(values) > len(fields):
        raise JournalError(f"a journaled {cls.__name__} has {len(values)} fields, more than the {len(fields)} known")
    return cls(*[(_ENUMS[name](v) if name in _ENUMS else v) for name, v in zip(fields, values)])


# The three frequent commands' fields, read one by one (a compiled build reads each natively, where attrgetter makes a
# Python-level lookup per field), enums as their values (orjson would look `value` up on each). Checked against the
# dataclasses at import: a field added there and not here would otherwise be lost from the journal.
_PLACE_FIELDS = ("account", "symbol", "side", "type", "qty", "price", "quote_qty", "tif", "stop_price", "client_order_id",
                 "stp", "ts", "max_platform_fee_rate", "trailing_delta", "iceberg_qty")
_CANCEL_FIELDS = ("account", "symbol", "order_id", "client_order_id", "ts")
if _FIELDS[model.PlaceOrder] != _PLACE_FIELDS or _FIELDS[model.CancelOrder] != _CANCEL_FIELDS:
    raise JournalError("journal.py's field lists for PlaceOrder / CancelOrder do not match model.py")


def _place_values(c: model.PlaceOrder) -> tuple[Any, ...]:
    """The fields in order, those at the end that hold their defaults left out (decode_command restores them): a
    plain limit order is written as 6 values rather than 15."""
    side = "BUY" if c.side is BUY else "SELL" if c.side is SELL else c.side.value  # (not a Side: raises)
    kind = "LIMIT" if c.type is LIMIT else c.type.value
    if c.max_platform_fee_rate or c.trailing_delta or c.iceberg_qty:
        return (c.account, c.symbol, side, kind, c.qty, c.price, c.quote_qty, _tif(c), c.stop_price,
                c.client_order_id, _stp(c), c.ts, c.max_platform_fee_rate, c.trailing_delta, c.iceberg_qty)
    if c.ts:
        return (c.account, c.symbol, side, kind, c.qty, c.price, c.quote_qty, _tif(c), c.stop_price,
                c.client_order_id, _stp(c), c.ts)
    if c.quote_qty or c.tif is not GTC or c.stop_price or c.client_order_id or c.stp is not STP_NONE:
        return (c.account, c.symbol, side, kind, c.qty, c.price, c.quote_qty, _tif(c), c.stop_price,
                c.client_order_id, _stp(c))
    return (c.account, c.symbol, side, kind, c.qty, c.price)


def _tif(c: model.PlaceOrder) -> str:
    return "GTC" if c.tif is GTC else "IOC" if c.tif is IOC else c.tif.value


def _stp(c: model.PlaceOrder) -> str:
    return "NONE" if c.stp is STP_NONE else c.stp.value


def _cancel_values(c: model.CancelOrder) -> tuple[Any, ...]:
    if c.client_order_id or c.ts:
        return (c.account, c.symbol, c.order_id, c.client_order_id, c.ts)
    return (c.account, c.symbol, c.order_id)


def command_values(command: model.Command) -> tuple[Any, ...]:
    """What the journal writes for a command: (kind, field values...), enums as their values. Tuples, which orjson
    writes as arrays: one allocation each where a list takes two."""
    kind = type(command)
    if kind is CancelReplace:  # (names imported from model: `model.X` is a module attribute lookup each time)
        return ("CancelReplace", _cancel_values(command.cancel),  # type: ignore[union-attr]
                _place_values(command.place))  # type: ignore[union-attr]
    if kind is PlaceOrder:
        return ("PlaceOrder", *_place_values(command))  # type: ignore[arg-type]
    if kind is CancelOrder:
        return ("CancelOrder", *_cancel_values(command))  # type: ignore[arg-type]
    values = (kind.__name__, *_GETTERS[kind](command))
    if COMPILED:  # see Journal.append: the rare commands' fields are checked here
        _dumps(values)
    return values


def encode_command(command: model.Command) -> bytes:
    """A command as JSON (UTF-8): [kind, field values...]."""
    return _dumps(command_values(command))


def _dumps(values: Any) -> bytes:
    """orjson first (about 10x faster); amounts beyond 64 bits or strings that are not valid Unicode, which it
    refuses, go through the standard library: both read back the same."""
    try:
        return orjson.dumps(values)
    except TypeError:
        return json.dumps(values, separators=(",", ":"), default=_enum_value).encode()


# A group is written as one flat JSON array: each command's kind, then how many values follow and the values (for a
# CancelReplace: the cancel's count and values, then the order's). The usual forms of the three frequent commands
# have short kinds of their own and a fixed number of values (SHORT_FORMS): a plain limit order, a cancel by order
# id, and a cancel-replace that moves a plain limit order of the same account and symbol. Built by appending to one
# list, where an array per command cost a tuple or three each (allocated, tracked by the collector, freed) and
# twice the values: most of what journaling cost the engine's thread. Groups of earlier versions, an array per
# command, are read as well.
SHORT_FORMS: Final = {"P": 5, "C": 3, "CR": 6}  # kind -> values: see _short_values


def append_flat(flat: list[Any], command: model.Command) -> None:
    """Append a command's `command_values`, in its short form if it has one, to a group's flat list."""
    if isinstance(command, CancelReplace):
        cancel, place = command.cancel, command.place
        if _is_plain(place) and not (cancel.client_order_id or cancel.ts) and place.account == cancel.account \
                and place.symbol == cancel.symbol:
            _append_plain(flat, "CR", place)
            flat.append(cancel.order_id)
            return
    elif isinstance(command, PlaceOrder):
        if _is_plain(command):
            _append_plain(flat, "P", command)
            return
    elif isinstance(command, CancelOrder):
        if not (command.client_order_id or command.ts):
            flat.append("C")
            flat.append(command.account)
            flat.append(command.symbol)
            flat.append(command.order_id)
            return
    append_values(flat, command_values(command))


def _append_plain(flat: list[Any], kind: str, c: model.PlaceOrder) -> None:
    """A plain limit order's short form: kind, account, symbol, side, qty, price."""
    flat.append(kind)
    flat.append(c.account)
    flat.append(c.symbol)
    flat.append("BUY" if c.side is BUY else "SELL")
    flat.append(c.qty)
    flat.append(c.price)


def _is_plain(c: model.PlaceOrder) -> bool:
    """A buy or sell limit order, good till cancelled, with nothing else set (the short form "P")."""
    return c.type is LIMIT and (c.side is BUY or c.side is SELL) and c.tif is GTC and c.stp is STP_NONE and not (
        c.quote_qty or c.stop_price or c.client_order_id or c.ts or c.max_platform_fee_rate or c.trailing_delta
        or c.iceberg_qty)


def append_values(flat: list[Any], values: tuple[Any, ...] | list[Any]) -> None:
    """Append a command's values ([kind, field values...], a CancelReplace's two as arrays) to a flat list, counted."""
    flat.append(values[0])
    if values[0] == "CancelReplace":
        for part in values[1:]:
            flat.append(len(part))
            flat.extend(part)
    else:
        flat.append(len(values) - 1)
        flat.extend(values[1:])


FLAT_PREFIX: Final = "[1,"  # a flat group's text starts with a 1 (an earlier version's with an array or a kind)


def encode_group(flat: list[Any]) -> str:
    """A group's flat list as JSON text (orjson, or the standard library for what orjson refuses), marked flat."""
    return FLAT_PREFIX + _dumps(flat).decode()[1:]


def flat_of_group(text: str) -> list[Any]:
    """A flat group's list back from its text (`encode_group`'s inverse); ValueError if it is not JSON."""
    return json.loads(text)[1:]  # type: ignore[no-any-return]  # (after the flat mark)


def merge_groups(groups: list[tuple[int, int, str]]) -> tuple[int, int, str]:
    """Consecutive groups (last_seq, first_seq, text) as one: a row may hold any run of commands."""
    if len(groups) == 1:
        return groups[0]
    start = len(FLAT_PREFIX)
    return groups[-1][0], groups[0][1], FLAT_PREFIX + ",".join([text[start:-1] for _, _, text in groups]) + "]"


def values_of_flat(flat: list[Any]) -> list[list[Any]]:
    """A flat group's commands as `command_values` lists (a CancelReplace's parts as lists); ValueError if it is not
    a whole number of commands."""
    out: list[list[Any]] = []
    i, end = 0, len(flat)
    while i < end:
        kind = flat[i]
        if not isinstance(kind, str):
            raise ValueError(f"a command kind was expected at {i}")
        count = SHORT_FORMS.get(kind)
        if count is not None:
            if i + 1 + count > end:
                raise ValueError("the group ends inside a command")
            out.append(_short_values(kind, flat[i + 1:i + 1 + count]))
            i += 1 + count
        elif kind == "CancelReplace":
            cancel, i = _counted(flat, i + 1)
            place, i = _counted(flat, i)
            out.append([kind, cancel, place])
        else:
            fields, i = _counted(flat, i + 1)
            out.append([kind, *fields])
    return out


def _short_values(kind: str, v: list[Any]) -> list[Any]:
    """A short form's `command_values` (see append_flat)."""
    if kind == "C":  # account, symbol, order id
        return ["CancelOrder", *v]
    place = [v[0], v[1], v[2], "LIMIT", v[3], v[4]]  # account, symbol, side, qty, price
    if kind == "P":
        return ["PlaceOrder", *place]
    return ["CancelReplace", [v[0], v[1], v[5]], place]  # and the cancelled order's id


def _counted(flat: list[Any], i: int) -> tuple[list[Any], int]:
    """The values counted at flat[i], and the index after them."""
    if i >= len(flat):
        raise ValueError("the group ends inside a command")
    count = flat[i]
    if type(count) is not int or count < 0 or i + 1 + count > len(flat):
        raise ValueError(f"a bad value count at {i}")
    return flat[i + 1:i + 1 + count], i + 1 + count


def _enum_value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot journal {value!r}")


def decode_command(text: bytes | str) -> model.Command:
    return command_from_values(json.loads(text))


def command_from_values(values: list[Any]) -> model.Command:
    kind, *fields = values
    if kind == "CancelReplace":
        return model.CancelReplace(_build(model.CancelOrder, fields[0]), _build(model.PlaceOrder, fields[1]))
    return _build(_COMMANDS[kind], fields)  # type: ignore[no-any-return]


class Journal:
    """Commands in SQLite, a row per group commit (`command_groups`: the first and last sequence numbers and the
    commands as one flat JSON array, see append_flat; the writer thread writes the groups that queued up while it
    wrote the last ones as one row). A row per group rather than per command halves the journal's cost per command.
    Journals of earlier versions are read as well: groups written as an array per command or a JSON text per line,
    and one command per row (the `commands` table)."""

    def __init__(self, path: Path | str, commit_every: int = 1) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        # checkpoints run on a thread of their own (checkpoints.py), woken every CHECKPOINT_EVERY commits
        self._checkpointer: Checkpointer | None = None
        self._commits = 0
        if str(path) != ":memory:":
            self._db.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            self._checkpointer = Checkpointer(str(path))
        self._db.executescript(
            "CREATE TABLE IF NOT EXISTS command_groups (last_seq INTEGER PRIMARY KEY, first_seq INTEGER NOT NULL,"
            " bodies TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS snapshots (seq INTEGER PRIMARY KEY, state TEXT NOT NULL);")
        self.commit_every = max(1, commit_every)
        # commands not yet committed, the last one numbered last_seq: their values, taken at append, where a command
        # that cannot be written is refused (before the engine applies it): encoded once as a check, except for the
        # three frequent commands in a compiled build, whose fields (strings, ints, enums) it checks as they are made
        self._pending: list[Any] = []  # their values, flat (see append_flat)
        self._count = 0  # how many commands _pending holds
        self._open = False  # a transaction holds written, uncommitted rows (flush(commit=False))
        # how much of _pending (values, commands) belongs to that transaction (written with its commit)
        self._in_group = 0
        self._in_group_count = 0
        self._writer: GroupWriter | None = None  # writes full groups (started by the first one)
        self._legacy = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'commands'").fetchone() is not None
        last = self._db.execute("SELECT MAX(last_seq) FROM command_groups").fetchone()[0]
        if last is None and self._legacy:
            last = self._db.execute("SELECT MAX(seq) FROM commands").fetchone()[0]
        self.last_seq: int = last or 0

    def append(self, command: model.Command) -> int:
        """Record a command; durable at once (commit_every=1), or once `flush()` has returned."""
        if not COMPILED:  # compiled: checked as the command was made (the rare ones again in command_values)
            _dumps(command_values(command))  # refused now if it cannot be written (see _pending), not when its
        append_flat(self._pending, command)  # group is
        self._count += 1
        self.last_seq += 1
        if self._count >= self.commit_every:
            if self.commit_every == 1 or self._open:  # (an open transaction commits with the group, here)
                self.flush()
            else:
                self._hand_over()
        return self.last_seq

    def _hand_over(self) -> None:
        """Give the full group to the writer thread, which commits it while the engine goes on."""
        writer = self._writer
        if writer is None:
            writer = self._writer = GroupWriter(self._db, self._committed, merge_groups)
        elif writer.failed:
            self._settle()  # raises the writer's error
        writer.submit((self.last_seq, self.last_seq - self._count + 1, encode_group(self._pending)))
        self._pending, self._count = [], 0

    def _settle(self) -> None:
        """Wait until the writer thread has committed every group given to it. Should a write have failed, its
        groups and those after it come back to `_pending` (to be written again by a later flush) and its error is
        raised: as for a failed flush, the engine is then ahead of the disk."""
        writer = self._writer
        if writer is None:
            return
        failed = writer.wait()
        if failed is not None:
            error, groups = failed
            returned: list[Any] = []
            for last, first, body in groups:
                returned.extend(flat_of_group(body))
                self._count += last - first + 1
            self._pending = returned + self._pending
            raise error

    def _committed(self, groups: int = 1) -> None:
        """`groups` group commits landed (the writer thread commits several at once)."""
        commits = self._commits + groups
        self._commits = commits
        if commits // CHECKPOINT_EVERY != (commits - groups) // CHECKPOINT_EVERY and self._checkpointer is not None:
            self._checkpointer.poke()

    def flush(self, also: Callable[[sqlite3.Connection], None] | None = None, commit: bool = True) -> None:
        """Make every appended command durable (survives a killed process). `also` writes more rows (what the
        exchange derives from the same commands) in the same transaction: both land, or neither does.
        `commit=False` writes `also`'s rows into the open transaction and leaves it open (a group commit: `commit()`
        makes the whole group durable at once, its commands as one row; nothing in it may be acknowledged before).
        A failure rolls back the whole open transaction."""
        if self._writer is not None:
            self._settle()
        if not (self._count or also is not None or (commit and self._open)):
            return
        if not self._open:
            self._db.execute("BEGIN")
            self._open = True
        pending, count = self._pending, self._count
        try:
            if commit and count:
                self._db.execute(INSERT, (self.last_seq, self.last_seq - count + 1, encode_group(pending)))
            if also is not None:
                also(self._db)
            if commit:
                self._db.execute("COMMIT")
                self._open = False
                self._pending, self._count, self._in_group, self._in_group_count = [], 0, 0, 0
                self._committed()
            else:
                self._in_group, self._in_group_count = len(pending), count
        except BaseException:
            self._db.execute("ROLLBACK")  # with any earlier uncommitted group: its owner must stop (the engine is
            self._open = False            # ahead of the disk), as ExchangeCore does
            self._pending, self._count = pending[self._in_group:], count - self._in_group_count  # the open group's
            self._in_group, self._in_group_count = 0, 0  # commands are gone with it; those of this flush may be
            raise                                        # retried

    def commit(self) -> None:
        """Make the open group durable (no-op when none is open)."""
        self.flush()

    @property
    def uncommitted(self) -> bool:
        """Whether written commands or rows wait in an open transaction (or appended commands in memory, or
        groups the writer thread has not committed yet)."""
        return self._open or self._count > 0 or (self._writer is not None and self._writer.busy)

    @property
    def db(self) -> sqlite3.Connection:
        """The journal's connection, for tables kept beside it (written only inside `flush(also=...)`), once the
        writer thread has committed what it was given (it uses the same connection)."""
        self._settle()
        return self._db

    def save_snapshot(self, seq: int, state: dict[str, Any]) -> None:
        """Keep the engine's state as of command `seq`, with the snapshot before it (recovery reads the newest;
        older ones only grew the file, by a whole state each time)."""
        self.flush()
        with self._db:  # both statements, or neither
            self._db.execute("BEGIN")
            self._db.execute("INSERT OR REPLACE INTO snapshots VALUES (?, ?)",
                             (seq, json.dumps(state, separators=(",", ":"))))
            self._db.execute("DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC "
                             "LIMIT ?)", (SNAPSHOTS_KEPT,))

    def latest_snapshot(self) -> tuple[int, dict[str, Any] | None]:
        row = self._db.execute("SELECT seq, state FROM snapshots ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], json.loads(row[1])) if row else (0, None)

    def commands_after(self, seq: int) -> Iterable[tuple[int, model.Command]]:
        """Every committed command numbered above `seq`, in order; a gap or a damaged group is an error."""
        expected = seq + 1
        if self._legacy:
            for number, body in self._db.execute("SELECT seq, body FROM commands WHERE seq > ? ORDER BY seq", (seq,)):
                if number != expected:
                    raise JournalError(f"journal gap: expected command {expected}, found {number}")
                expected += 1
                yield number, decode_command(body)
        rows = self._db.execute("SELECT last_seq, first_seq, bodies FROM command_groups WHERE last_seq >= ? "
                                "ORDER BY last_seq", (expected,))
        for last, first, bodies in rows:
            items: list[Any]
            flat = bodies.startswith(FLAT_PREFIX)
            if flat or bodies.startswith("[["):  # one JSON array: flat, or (earlier versions) an array per command
                try:
                    items = values_of_flat(flat_of_group(bodies)) if flat else json.loads(bodies)
                except ValueError:
                    raise JournalError(f"journal group {first}..{last} is damaged") from None
            else:  # a JSON text per line (earlier versions)
                items = bodies.split("\n")
            if len(items) != last - first + 1:
                raise JournalError(f"journal group {first}..{last} holds {len(items)} commands")
            if first > expected:
                raise JournalError(f"journal gap: expected command {expected}, found {first}")
            for number, item in enumerate(items, start=first):
                if number >= expected:
                    try:
                        command = decode_command(item) if isinstance(item, str) else command_from_values(item)
                    except (ValueError, TypeError, KeyError, IndexError) as exc:
                        raise JournalError(f"journal command {number} (group {first}..{last}) is damaged: {exc}") \
                            from None
                    yield number, command
            expected = last + 1

    def close(self) -> None:
        self.flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._db.close()


class JournaledEngine:
    """An engine whose every command is journaled first; `open` recovers it after any crash."""

    def __init__(self, engine: Engine, journal: Journal) -> None:
        self.engine, self.journal = engine, journal

    @classmethod
    def open(cls, path: Path | str, markets: Iterable[MarketSpec], commit_every: int = 1,
             fee_policy: FeePolicy | None = None) -> "JournaledEngine":
        markets = list(markets)
        journal = Journal(path, commit_every)
        seq, state = journal.latest_snapshot()
        engine = load(markets, state, fee_policy) if state is not None else Engine(markets, fee_policy=fee_policy)
        for _, command in journal.commands_after(seq):
            engine.process(command)
        return cls(engine, journal)

    @property
    def seq(self) -> int:
        return self.journal.last_seq

    def submit(self, command: model.Command) -> tuple[int, model.Result]:
        seq = self.journal.append(command)
        return seq, self.engine.process(command)

    def snapshot(self) -> int:
        self.journal.save_snapshot(self.seq, dump(self.engine))
        return self.seq

    def close(self) -> None:
        self.journal.close()

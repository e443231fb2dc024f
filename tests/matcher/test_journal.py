"""Journal and recovery: replay rebuilds the same state; SIGKILL loses nothing acknowledged."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any

from matcher import Engine
from matcher.flow import random_flow
from matcher.journal import JournaledEngine, decode_command, encode_command
from matcher.model import (AmendOrder, CancelOrder, CancelReplace, Deposit, OrderType, PlaceOrder, Side, Stp,
                           TimeInForce, Withdraw)

from .conftest import MARKET

CHILD = Path(__file__).with_name("crash_child.py")


def _reference(count: int, seed: int) -> str:
    engine = Engine([MARKET])
    for command in list(random_flow(MARKET, seed, count * 2))[:count]:
        engine.process(command)
    return engine.state_hash()


def test_every_command_kind_round_trips_through_the_journal_encoding() -> None:
    place = PlaceOrder("a", "BRSWBNB", Side.SELL, OrderType.STOP_LOSS_LIMIT, qty=3, price=9, quote_qty=0,
                       tif=TimeInForce.IOC, stop_price=8, client_order_id="c", stp=Stp.EXPIRE_BOTH, ts=5)
    for command in (Deposit("a", "BRS", 10), Withdraw("a", "BRS", 1), place, CancelOrder("a", "BRSWBNB", 1, "x", 2),
                    AmendOrder("a", "BRSWBNB", 1, 2, 3), CancelReplace(CancelOrder("a", "BRSWBNB", 1), place)):
        assert decode_command(encode_command(command)) == command


def test_the_frequent_commands_encode_exactly_as_their_dataclass_fields_do() -> None:
    """PlaceOrder, CancelOrder and CancelReplace are encoded field by field (the fast path): the text is the one the
    generic path (every dataclass field, in order, enums by value) gives, for every enum member, through orjson and
    (amounts beyond 64 bits) through the standard library, and it reads back as the same command."""
    import dataclasses
    import itertools
    import json

    def generic(command: object) -> list[object]:
        values = [getattr(command, f.name) for f in dataclasses.fields(command)]  # type: ignore[arg-type]
        return [v.value if isinstance(v, Enum) else generic(v) if dataclasses.is_dataclass(v) else v for v in values]

    for side, kind, tif, stp, price in itertools.product(Side, OrderType, TimeInForce, Stp, (9, 10**30)):
        place = PlaceOrder('a"\n\u00e9', MARKET.symbol, side, kind, qty=3, price=price, quote_qty=2, tif=tif,
                           stop_price=1, client_order_id="c", stp=stp, ts=9, max_platform_fee_rate=10**18,
                           trailing_delta=5, iceberg_qty=1)
        cancel = CancelOrder("a", MARKET.symbol, 7, "x", 3)
        for command in (place, cancel, CancelReplace(cancel, place)):
            text = encode_command(command)
            assert json.loads(text) == [type(command).__name__, *generic(command)]
            assert decode_command(text) == command
    small = PlaceOrder("a", MARKET.symbol, Side.BUY, OrderType.LIMIT, qty=1, price=2)
    assert encode_command(small) == b'["PlaceOrder","a","BRSWBNB","BUY","LIMIT",1,2]'.replace(
        b"BRSWBNB", MARKET.symbol.encode())


def test_fields_left_at_their_defaults_at_the_end_are_not_written_and_read_back_as_the_defaults() -> None:
    """Every combination of defaulted and set optional fields: the encoding is the generic one (every field) with
    trailing values dropped, never a set one, and it reads back as the same command."""
    import dataclasses
    import itertools
    import json

    set_values = {"quote_qty": 5, "tif": TimeInForce.IOC, "stop_price": 4, "client_order_id": "c", "stp": Stp.EXPIRE_TAKER,
                  "ts": 7, "max_platform_fee_rate": 3, "trailing_delta": 2, "iceberg_qty": 1}
    names = list(set_values)
    for mask in range(1 << len(names)):
        chosen = {name: set_values[name] for i, name in enumerate(names) if mask >> i & 1}
        place = PlaceOrder("a", MARKET.symbol, Side.SELL, OrderType.LIMIT, qty=3, price=9, **chosen)  # type: ignore[arg-type]
        written = json.loads(encode_command(place))[1:]
        full = [getattr(place, f.name) for f in dataclasses.fields(place)]
        full = [v.value if isinstance(v, Enum) else v for v in full]
        assert 6 <= len(written) <= 15 and written == full[:len(written)]
        last_set = max((names.index(name) + 6 for name in chosen), default=5)
        assert len(written) > last_set  # nothing set is left out
        assert decode_command(encode_command(place)) == place
    for cancel in (CancelOrder("a", "S", 3), CancelOrder("a", "S", 0, "c"), CancelOrder("a", "S", 3, ts=1)):
        written = json.loads(encode_command(cancel))[1:]
        assert written == ["a", "S", 3] if cancel == CancelOrder("a", "S", 3) else len(written) == 5
        assert decode_command(encode_command(cancel)) == cancel
        replace = CancelReplace(cancel, PlaceOrder("a", "S", Side.BUY, OrderType.LIMIT, qty=1, price=2))
        assert decode_command(encode_command(replace)) == replace


def test_reopening_replays_to_the_same_state(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journaled = JournaledEngine.open(path, [MARKET])
    flow = list(random_flow(MARKET, 7, 3000))
    for command in flow[:1500]:
        journaled.submit(command)
    journaled.snapshot()
    for command in flow[1500:]:
        journaled.submit(command)
    expected = journaled.engine.state_hash()
    journaled.close()
    again = JournaledEngine.open(path, [MARKET])
    assert again.seq == len(flow)
    assert again.engine.state_hash() == expected
    fresh = Engine([MARKET])
    for command in flow:
        fresh.process(command)
    assert fresh.state_hash() == expected  # the snapshot + tail equals a run without any snapshot


def test_only_the_two_newest_snapshots_are_kept_and_recovery_reads_the_newest(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    journaled = JournaledEngine.open(path, [MARKET])
    flow = list(random_flow(MARKET, 9, 800))
    taken = []
    for i, command in enumerate(flow, start=1):
        journaled.submit(command)
        if i % 150 == 0:
            taken.append(journaled.snapshot())
    expected = journaled.engine.state_hash()
    kept = [row[0] for row in journaled.journal.db.execute("SELECT seq FROM snapshots ORDER BY seq")]
    assert len(taken) == 5 and kept == taken[-2:]  # the file does not grow by a whole state per snapshot
    journaled.close()
    again = JournaledEngine.open(path, [MARKET])
    assert again.engine.state_hash() == expected and again.seq == len(flow)


def test_sigkill_mid_stream_loses_no_acknowledged_command(tmp_path: Path) -> None:
    rng = random.Random(3)
    for round_ in range(10):
        path = tmp_path / f"crash{round_}.sqlite3"
        commit_every = rng.choice((1, 16))
        proc = subprocess.Popen([sys.executable, str(CHILD), str(path), "11", "20000", str(commit_every)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        wanted = rng.randint(1, 300 // commit_every + 1)  # kill after this many acknowledgements, not after a time
        acknowledged = [int(proc.stdout.readline()) for _ in range(wanted)]
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        acknowledged += [int(line) for line in out.split()]  # any that came before the kill landed
        recovered = JournaledEngine.open(path, [MARKET])
        assert recovered.seq >= acknowledged[-1]
        assert recovered.engine.state_hash() == _reference(recovered.seq, 11)
        recovered.close()


def test_group_commits_replay_from_any_point_and_damage_is_refused(tmp_path: Path) -> None:
    import sqlite3

    import pytest

    from matcher.errors import JournalError
    from matcher.journal import Journal

    path = tmp_path / "groups.sqlite3"
    odd = 'é"\n\u2028\ud800'  # UTF-8, a quote, line ends and a lone surrogate (which orjson refuses) in a name
    flow = [Deposit(odd, MARKET.base.symbol, 10**30),  # beyond 64 bits: the standard library's encoding
            PlaceOrder(odd, MARKET.symbol, Side.SELL, OrderType.LIMIT, qty=1, price=10**25, client_order_id=odd),
            *random_flow(MARKET, 5, 398)]
    journal = Journal(path, commit_every=7)
    for count, command in enumerate(flow, start=1):
        journal.append(command)
        if count % 7 == 0:  # a row per group (unflushed, the writer thread writes those that queued up as one row)
            journal.flush()
    journal.flush()
    journal.close()
    reopened = Journal(path, commit_every=7)
    assert reopened.last_seq == len(flow)
    for start in (0, 1, 6, 7, 8, 399, 400):  # group edges and the middle of groups
        replayed = list(reopened.commands_after(start))
        assert [n for n, _ in replayed] == list(range(start + 1, len(flow) + 1))
        assert [c for _, c in replayed] == flow[start:]
    reopened.close()
    db = sqlite3.connect(path)
    assert {kind for (kind,) in db.execute("SELECT DISTINCT typeof(bodies) FROM command_groups")} == {"text"}
    db.execute("DELETE FROM command_groups WHERE first_seq = 8")  # a lost group: a gap
    db.commit()
    with pytest.raises(JournalError, match="gap: expected command 8"):
        list(Journal(path).commands_after(0))
    db.execute("UPDATE command_groups SET bodies = substr(bodies, 1, 10) WHERE first_seq = 1")
    db.commit()
    with pytest.raises(JournalError, match="group 1..7 is damaged"):
        list(Journal(path).commands_after(0))
    db.execute("UPDATE command_groups SET bodies = '[[\"Withdraw\",\"a\",\"BRS\",1]]' WHERE first_seq = 1")
    db.commit()
    with pytest.raises(JournalError, match="group 1..7 holds 1 commands"):
        list(Journal(path).commands_after(0))
    db.execute("UPDATE command_groups SET bodies = '[[\"Withdraw\",\"a\"],[\"Nothing\"],[],[],[],[],[]]' "
               "WHERE first_seq = 1")
    db.commit()
    with pytest.raises(JournalError, match=r"journal command 1 \(group 1..7\) is damaged"):
        list(Journal(path).commands_after(0))
    with pytest.raises(JournalError, match=r"journal command 2 \(group 1..7\) is damaged"):
        list(Journal(path).commands_after(1))


def _with_earlier_groups(path: Path, flow: list[Any], body: Any) -> Any:
    """A new journal holding flow's first 200 commands in groups of 16 as an earlier version wrote them (`body`: a
    group's text); its connection."""
    import sqlite3

    JournaledEngine.open(path, [MARKET], commit_every=16).close()
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO command_groups VALUES (?, ?, ?)",
                   [(min(first + 16, 200), first + 1, body(flow[first:min(first + 16, 200)]))
                    for first in range(0, 200, 16)])
    db.commit()
    return db


def _continue_after_200(path: Path, flow: list[Any]) -> None:
    """Open a journal of an earlier format holding flow's first 200 commands, and journal the rest of it."""
    journaled = JournaledEngine.open(path, [MARKET], commit_every=16)
    assert journaled.seq == 200
    for command in flow[200:]:
        journaled.submit(command)
    journaled.close()


def test_groups_written_a_command_per_line_by_earlier_versions_are_read_and_continued(tmp_path: Path) -> None:
    """Before a group was one JSON array its commands were a JSON text per line: such a journal replays, and a
    damaged one of its groups is refused."""
    import pytest

    from matcher.errors import JournalError

    path = tmp_path / "lines.sqlite3"
    flow = [Deposit("a", MARKET.base.symbol, 10**30), *list(random_flow(MARKET, 4, 600))[:299]]
    db = _with_earlier_groups(path, flow, lambda group: "\n".join(encode_command(c).decode() for c in group))
    _continue_after_200(path, flow)
    reopened = JournaledEngine.open(path, [MARKET])
    expected = Engine([MARKET])
    for command in flow:
        expected.process(command)
    assert reopened.engine.state_hash() == expected.state_hash()
    reopened.close()
    db.execute("UPDATE command_groups SET bodies = substr(bodies, 1, 10) WHERE first_seq = 1")
    db.commit()
    with pytest.raises(JournalError, match="group 1..16 holds 1 commands"):
        list(JournaledEngine.open(path, [MARKET]).journal.commands_after(0))


def test_a_journal_of_the_one_row_per_command_format_is_read_and_continued(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "legacy.sqlite3"
    flow = list(random_flow(MARKET, 9, 600))[:300]
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE commands (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    db.executemany("INSERT INTO commands VALUES (?, ?)",
                   [(n, encode_command(c)) for n, c in enumerate(flow[:200], start=1)])
    db.commit()
    db.close()
    _continue_after_200(path, flow)
    again = JournaledEngine.open(path, [MARKET])
    assert again.seq == 300 and again.engine.state_hash() == _reference(300, 9)


def test_a_snapshot_restores_parked_stops_client_ids_and_fee_choices() -> None:
    """Everything random flow does not reach: a restored engine goes on exactly as the original."""
    from matcher.fees import FeePolicy
    from matcher.model import SetFeeDiscount, SetFeePreference, SetPlatformFeeRate
    from matcher.snapshot import dump, load

    original = Engine([MARKET], fee_policy=FeePolicy(platform_asset="BRS"))
    setup = [Deposit(who, asset, 10**22) for who in ("a", "b", "c") for asset in ("BRS", "WBNB")] + [
        SetFeePreference("b", True), SetFeePreference("a", True), SetPlatformFeeRate("WBNB", 3 * 10**18),
        SetFeeDiscount(2_500),
        PlaceOrder("a", MARKET.symbol, Side.SELL, OrderType.LIMIT, qty=5, price=1000, client_order_id="keep",
                   max_platform_fee_rate=10**18),
        PlaceOrder("c", MARKET.symbol, Side.BUY, OrderType.STOP_LOSS_LIMIT, qty=2, price=1100, stop_price=1000,
                   client_order_id="stop"),
        PlaceOrder("a", MARKET.symbol, Side.SELL, OrderType.TAKE_PROFIT_LIMIT, qty=1, price=900, stop_price=1200)]
    later = [PlaceOrder("b", MARKET.symbol, Side.BUY, OrderType.LIMIT, qty=1, price=1000),  # trades: the stop fires
             CancelOrder("a", MARKET.symbol, client_order_id="keep"),
             PlaceOrder("a", MARKET.symbol, Side.SELL, OrderType.LIMIT, qty=1, price=1000, client_order_id="stop")]
    for command in setup:
        assert original.process(command).ok
    restored = load([MARKET], dump(original), fee_policy=FeePolicy(platform_asset="BRS"))
    assert restored.state_hash() == original.state_hash()
    assert restored.fee_policy == original.fee_policy
    assert restored.book_ticker(MARKET.symbol) == original.book_ticker(MARKET.symbol)
    for command in later:
        a, b = original.process(command), restored.process(command)
        assert (a.code, a.order_id, a.events) == (b.code, b.order_id, b.events)
        assert restored.state_hash() == original.state_hash()
    assert [o.stop_price for o in restored.stops[MARKET.symbol]] == [1200]  # the stop-loss fired; take-profit waits
    assert restored.next_trade_id == original.next_trade_id > 2


def test_commands_journaled_before_a_field_was_added_read_back_with_its_default() -> None:
    from matcher.journal import decode_command, encode_command

    place = PlaceOrder("a", MARKET.symbol, Side.SELL, OrderType.LIMIT, qty=5, price=1000, max_platform_fee_rate=7,
                       iceberg_qty=2)
    assert decode_command(encode_command(place)) == place
    import json
    before_icebergs = json.loads(encode_command(place))[:-2]  # as written before trailing stops and icebergs
    assert decode_command(json.dumps(before_icebergs)) == PlaceOrder(
        "a", MARKET.symbol, Side.SELL, OrderType.LIMIT, qty=5, price=1000, max_platform_fee_rate=7)
    old = before_icebergs[:-1]  # as written before max_platform_fee_rate existed
    assert decode_command(json.dumps(old)).max_platform_fee_rate == 0
    import pytest
    from matcher.errors import JournalError
    with pytest.raises(JournalError, match="more than"):
        decode_command(json.dumps([*old, 1, 2, 3, 4]))


def test_wal_checkpoints_run_on_their_own_thread_which_ends_when_idle(tmp_path: Path, monkeypatch: Any) -> None:
    """The writer's connection no longer checkpoints every 1,000 WAL pages itself (a backstop at BACKSTOP_PAGES
    remains); a thread woken every CHECKPOINT_EVERY commits does, ends when idle, starts again when woken, and
    stops with the journal. Recovery is unaffected."""
    from matcher import checkpoints, journal as journal_module
    monkeypatch.setattr(checkpoints, "IDLE_SECONDS", 0.2)
    path = tmp_path / "journal.sqlite3"
    journaled = JournaledEngine.open(path, [MARKET])
    writer = journaled.journal
    assert writer.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == checkpoints.BACKSTOP_PAGES
    flow = list(random_flow(MARKET, 11, 4 * journal_module.CHECKPOINT_EVERY))
    for command in flow[:2 * journal_module.CHECKPOINT_EVERY]:
        journaled.submit(command)  # one commit each
    checkpointer = writer._checkpointer
    assert checkpointer is not None
    wait_for(lambda: checkpointer.checkpoints >= 1)
    wait_for(lambda: not alive(checkpointer))  # idle: its thread ended
    done = checkpointer.checkpoints
    for command in flow[2 * journal_module.CHECKPOINT_EVERY:]:
        journaled.submit(command)
    wait_for(lambda: checkpointer.checkpoints > done)  # woken again: a new thread
    expected = journaled.engine.state_hash()
    journaled.close()
    assert not alive(checkpointer)
    assert JournaledEngine.open(path, [MARKET]).engine.state_hash() == expected


def alive(checkpointer: Any) -> bool:
    """Whether this journal's checkpoint thread runs (other journals' threads are not this test's)."""
    thread = checkpointer._thread
    return thread is not None and thread.is_alive()


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    import time
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_group_commit_writes_its_commands_as_one_row_with_the_derived_rows_or_nothing(tmp_path: Path) -> None:
    import sqlite3

    import pytest

    from matcher.journal import Journal

    path = tmp_path / "grouped.sqlite3"
    flow = list(random_flow(MARKET, 9, 30))
    journal = Journal(path, commit_every=1 << 30)  # as the exchange's core: committed explicitly
    journal.db.execute("CREATE TABLE derived (seq INTEGER)")
    outside = sqlite3.connect(path)

    def derive(seq: int) -> Any:
        return lambda db: db.execute("INSERT INTO derived VALUES (?)", (seq,))

    for group in (flow[:4], flow[4:5], flow[5:12]):
        for command in group:
            seq = journal.append(command)
            journal.flush(derive(seq), commit=False)
            assert journal.uncommitted
        assert outside.execute("SELECT COUNT(*) FROM derived").fetchone()[0] == seq - len(group)  # not yet
        journal.commit()
        assert not journal.uncommitted
    rows = outside.execute("SELECT first_seq, last_seq FROM command_groups ORDER BY last_seq").fetchall()
    assert rows == [(1, 4), (5, 5), (6, 12)]  # one row per group
    assert outside.execute("SELECT COUNT(*) FROM derived").fetchone()[0] == 12
    seq = journal.append(flow[12])
    journal.flush(derive(seq), commit=False)

    def broken(db: Any) -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        journal.flush(broken)  # fails: the open group - its command and its derived row - is rolled back
    journal.close()
    again = Journal(path)
    assert [c for _, c in again.commands_after(0)] == flow[:12] and again.last_seq == 12
    assert outside.execute("SELECT COUNT(*) FROM derived").fetchone()[0] == 12
    again.close()


REFUSED_AT_APPEND = """
import sys, tempfile
from decimal import Decimal
from pathlib import Path
from matcher.compiled import is_compiled
from matcher.journal import JournaledEngine
from matcher.market import Asset, MarketSpec
from matcher.model import CancelOrder, CancelReplace, Deposit, OrderType, PlaceOrder, Side
market = MarketSpec("BRSWBNB", Asset("BRS", "0x" + "b1" * 20, 18), Asset("WBNB", "0x" + "b2" * 20, 18),
                    tick_size=10**14, lot_size=10**16, min_notional=10**14, maker_fee_bps=10, taker_fee_bps=20)
path = Path(tempfile.mkdtemp()) / "j.sqlite3"
journaled = JournaledEngine.open(path, [market], commit_every=16)
journaled.submit(Deposit("a", "WBNB", 10**24))
before = journaled.engine.state_hash()
place = lambda **kw: PlaceOrder("a", "BRSWBNB", Side.BUY, OrderType.LIMIT, **kw)
makers = [lambda: place(qty=Decimal(1), price=100), lambda: place(qty=1, price=100, client_order_id=object()),
          lambda: CancelReplace(CancelOrder("a", "BRSWBNB", Decimal(1)), place(qty=1, price=100)),
          lambda: Deposit("a", "WBNB", Decimal(5))]
outcomes = []
for make in makers:
    try:
        command = make()
    except TypeError:
        outcomes.append("made")  # refused as it is made
        continue
    try:
        journaled.submit(command)
        outcomes.append("accepted")
    except TypeError:
        outcomes.append("append")  # refused by the journal, before the engine saw it
assert journaled.engine.state_hash() == before and journaled.seq == 1, (journaled.seq, outcomes)
journaled.submit(place(qty=1, price=100))  # the journal goes on: its group is written whole
after = journaled.engine.state_hash()
journaled.close()
assert JournaledEngine.open(path, [market]).engine.state_hash() == after
print(is_compiled(), " ".join(outcomes))
"""


def test_a_command_that_cannot_be_written_is_refused_before_it_is_applied() -> None:
    """Fields the journal cannot write (a Decimal amount, an object for a string) are refused before the engine
    applies the command: a compiled build refuses them as the command is made, the Python sources at append."""
    from .test_compiled import ROOT, _run

    from matcher import compiled

    runs = [_run(REFUSED_AT_APPEND, ROOT, BOURSE_PURE_PYTHON="1")]
    if compiled.is_compiled():
        runs.append(_run(REFUSED_AT_APPEND, ROOT))
    for run in runs:
        built, *outcomes = run.stdout.split()
        assert outcomes == (["made"] * 4 if built == "True" else ["append"] * 4), run.stdout


def _rows(path: Path) -> list[tuple[int, int]]:
    import sqlite3

    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT first_seq, last_seq FROM command_groups ORDER BY last_seq").fetchall()
    finally:
        db.close()


def test_full_groups_are_committed_by_the_writer_thread_and_flush_waits_for_them(tmp_path: Path) -> None:
    """Unflushed full groups go to the writer thread, which may write several as one row: rows still cover every
    command once, in order, a flush leaves nothing uncommitted, and the journal replays to the same state."""
    path = tmp_path / "background.sqlite3"
    flow = list(random_flow(MARKET, 21, 3000))
    journaled = JournaledEngine.open(path, [MARKET], commit_every=16)
    for command in flow:
        journaled.submit(command)
    journaled.journal.flush()
    assert not journaled.journal.uncommitted
    rows = _rows(path)  # read by another connection: committed
    assert rows[0][0] == 1 and rows[-1][1] == len(flow)
    assert all(first == previous_last + 1 for (_, previous_last), (first, _) in zip(rows, rows[1:]))
    expected = journaled.engine.state_hash()
    journaled.close()
    again = JournaledEngine.open(path, [MARKET])
    assert again.engine.state_hash() == expected and again.seq == len(flow)
    again.close()


def test_a_failed_background_write_is_raised_and_its_commands_are_written_by_a_later_flush(tmp_path: Path) -> None:
    """A group the writer thread could not write (here a trigger refuses it) is not lost: its error is raised by the
    next flush, its commands and every later one stay pending, and a flush once the cause is gone writes them all."""
    import sqlite3

    import pytest

    from matcher.journal import Journal

    path = tmp_path / "refused.sqlite3"
    flow = list(random_flow(MARKET, 8, 200))
    journal = Journal(path, commit_every=10)
    outside = sqlite3.connect(path, isolation_level=None)
    outside.execute("CREATE TRIGGER full BEFORE INSERT ON command_groups WHEN NEW.last_seq > 50 "
                    "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    for command in flow[:50]:
        journal.append(command)
    journal.flush()  # groups up to 50 land
    for command in flow[50:95]:  # four full groups handed over (the first one fails), five commands pending
        journal.append(command)
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        journal.flush()
    assert journal.uncommitted and journal.last_seq == 95
    assert _rows(path)[-1][1] == 50
    with pytest.raises(sqlite3.IntegrityError, match="disk full"):
        journal.flush()  # nothing is written past a refused group
    outside.execute("DROP TRIGGER full")
    for command in flow[95:]:
        journal.append(command)
    journal.flush()
    assert not journal.uncommitted and _rows(path)[-1][1] == len(flow)
    journal.close()
    again = Journal(path)
    assert [c for _, c in again.commands_after(0)] == flow
    again.close()
    outside.close()


def test_the_writer_thread_ends_when_idle_and_the_next_group_starts_another(tmp_path: Path,
                                                                           monkeypatch: Any) -> None:
    from matcher import journal_writer
    from matcher.journal import Journal

    monkeypatch.setattr(journal_writer, "IDLE_SECONDS", 0.05)
    path = tmp_path / "idle.sqlite3"
    flow = list(random_flow(MARKET, 3, 100))
    journal = Journal(path, commit_every=10)
    for command in flow[:50]:
        journal.append(command)
    writer = journal._writer
    assert writer is not None and writer._thread is not None
    first = writer._thread
    journal.flush()
    wait_for(lambda: writer._thread is None and not first.is_alive())
    for command in flow[50:]:
        journal.append(command)
    assert writer._thread is not None and writer._thread is not first
    journal.flush()
    assert _rows(path)[-1][1] == len(flow)
    second = writer._thread
    journal.close()
    assert second is None or not second.is_alive()
    again = Journal(path)
    assert [c for _, c in again.commands_after(0)] == flow
    again.close()


def _every_kind() -> list[Any]:
    """Commands of every kind, with every optional field, amounts beyond 64 bits and awkward strings."""
    from matcher.market import Asset, MarketSpec
    from matcher.model import AddMarket, SetFeeDiscount, SetFeePreference, SetPlatformFeeRate, Transfer

    odd = 'é"\n\u2028'
    places = [PlaceOrder("a", MARKET.symbol, side, kind, qty=3, price=9, quote_qty=q, tif=tif, stop_price=stop,
                         client_order_id=coid, stp=stp, ts=ts, max_platform_fee_rate=fee, trailing_delta=trail,
                         iceberg_qty=ice)
              for side in Side for kind in OrderType for tif in TimeInForce for stp in Stp
              for q, stop, coid, ts, fee, trail, ice in ((0, 0, "", 0, 0, 0, 0), (2, 1, odd, 9, 10**30, 5, 1))]
    places += [PlaceOrder(odd, MARKET.symbol, Side.BUY, OrderType.LIMIT, qty=10**30, price=10**25),
               PlaceOrder("a", MARKET.symbol, Side.SELL, OrderType.LIMIT, qty=1, price=2, ts=7),
               PlaceOrder("a", MARKET.symbol, Side.SELL, OrderType.LIMIT, qty=1, price=2, client_order_id="c")]
    cancels = [CancelOrder("a", MARKET.symbol, 7), CancelOrder(odd, MARKET.symbol, 10**30, "x", 3),
               CancelOrder("a", MARKET.symbol, 0, "only-the-client-id")]
    spec = MarketSpec("NEWWBNB", Asset("NEW", "0x" + "c1" * 20, 18), MARKET.quote, tick_size=10**14,
                      lot_size=10**16, min_notional=1, maker_fee_bps=10, taker_fee_bps=20)
    rare = [Deposit(odd, "BRS", 10**40), Withdraw("a", "BRS", 1), Transfer("a", "b", "BRS", 5),
            AmendOrder("a", MARKET.symbol, 1, 2, 3), SetFeePreference("a", True), SetPlatformFeeRate("WBNB", 10**18),
            SetFeeDiscount(2_500), AddMarket.of(spec)]
    return [*places, *cancels, *[CancelReplace(c, p) for c in cancels for p in places[::7]],
            *rare]


def test_a_group_is_written_flat_and_reads_back_as_the_same_commands() -> None:
    """The flat group form: the short forms of the frequent commands and the counted form of any command (each
    command's values) read back as the same commands, for every kind and field; the group's text as well."""
    import json

    from matcher.journal import (FLAT_PREFIX, append_flat, append_values, command_from_values, command_values,
                                 encode_group, values_of_flat)

    commands = [*_every_kind(), *random_flow(MARKET, 12, 400)]
    fast: list[Any] = []
    generic: list[Any] = []
    for command in commands:
        append_flat(fast, command)
        append_values(generic, command_values(command))
    expected = [json.loads(json.dumps(command_values(command))) for command in commands]  # (arrays as lists)
    assert values_of_flat(generic) == expected
    assert values_of_flat(fast) == expected
    assert len(fast) < len(generic) and {"P", "C", "CR"} <= set(fast)  # the short forms were used
    text = encode_group(fast)
    assert text.startswith(FLAT_PREFIX)
    read = values_of_flat(json.loads(text)[1:])
    assert len(read) == len(commands)
    assert [command_from_values(values) for values in read] == commands


def test_a_damaged_flat_group_is_refused(tmp_path: Path) -> None:
    import sqlite3

    import pytest

    from matcher.errors import JournalError
    from matcher.journal import Journal

    path = tmp_path / "flat.sqlite3"
    journal = Journal(path, commit_every=1 << 30)
    flow = list(random_flow(MARKET, 2, 20))
    for command in flow:
        journal.append(command)
    journal.flush()
    journal.close()
    db = sqlite3.connect(path, isolation_level=None)
    (good,) = db.execute("SELECT bodies FROM command_groups").fetchone()
    assert good.startswith("[1,") and [c for _, c in Journal(path).commands_after(0)] == flow
    for damaged, why in ((good[:-1] + ',"Deposit"]', "ends inside a command"),
                         (good[:-1] + ',"Deposit",9,"a"]', "count overruns the group"),
                         (good[:-1] + ',"Deposit","3","a","BRS",1]', "a count that is not a number"),
                         (good[:-1] + ',7,3,"a","BRS",1]', "a kind that is not a string"),
                         (good.replace('"Deposit",4', '"Deposit",3', 1), "a count one short")):
        db.execute("UPDATE command_groups SET bodies = ?", (damaged,))
        with pytest.raises(JournalError, match="damaged"):
            list(Journal(path).commands_after(0))
        assert why
    db.close()


def test_a_journal_of_the_array_per_command_format_is_read_and_continued(tmp_path: Path) -> None:
    """Groups written by earlier versions, an array per command, replay; new groups are written flat after them."""
    import json

    from matcher.journal import command_values

    path = tmp_path / "arrays.sqlite3"
    flow = [Deposit("a", MARKET.base.symbol, 10**18), *list(random_flow(MARKET, 6, 600))[:299]]
    db = _with_earlier_groups(path, flow, lambda group: json.dumps([command_values(c) for c in group],
                                                                    separators=(",", ":")))
    _continue_after_200(path, flow)
    kinds = {body[:3] for (body,) in db.execute("SELECT bodies FROM command_groups")}
    assert kinds == {"[[\"", "[1,"}
    reopened = JournaledEngine.open(path, [MARKET])
    expected = Engine([MARKET])
    for command in flow:
        expected.process(command)
    assert reopened.engine.state_hash() == expected.state_hash() and reopened.seq == 300
    reopened.close()
    db.close()


EXIT_WITHOUT_FLUSH = """
import sys, time
from matcher import journal_writer
from matcher.flow import random_flow
from matcher.journal import JournaledEngine
from tests.matcher.conftest import MARKET
run = journal_writer.GroupWriter._run
def slow_run(self):  # the writer is still busy when the program ends
    time.sleep(0.5)
    run(self)
journal_writer.GroupWriter._run = slow_run
journaled = JournaledEngine.open(sys.argv[1], [MARKET], commit_every=16)
for command in list(random_flow(MARKET, 4, 400))[:400]:
    journaled.submit(command)
print(journaled.seq)
"""


def test_groups_handed_to_the_writer_are_written_at_a_normal_exit(tmp_path: Path) -> None:
    """A program that ends without flush() or close() still leaves its full groups on disk, as when each full
    group was committed on the engine's thread: the writer thread is waited for at exit."""
    path = tmp_path / "exit.sqlite3"
    from .test_compiled import ROOT

    run = subprocess.run([sys.executable, "-c", EXIT_WITHOUT_FLUSH, str(path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True)
    appended = int(run.stdout)
    reopened = JournaledEngine.open(path, [MARKET])
    assert reopened.seq == appended - appended % 16  # every full group; the last, partial one was never flushed
    assert reopened.engine.state_hash() == _reference(reopened.seq, 4)
    reopened.close()

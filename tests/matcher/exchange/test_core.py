"""The core alone (no chain): every change journaled with its derived rows; recovery rebuilds the same state;
reversing a trade puts every balance back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matcher.exchange import store
from matcher.exchange.core import ExchangeCore, trade_effects
from matcher.exchange.markets import Markets, market_from_table
from matcher.model import OrderType, PlaceOrder, Side, TimeInForce
from matcher.exchange.store import SignedOrderRow

from .test_units_and_markets import TABLE

FEES = "0x" + "fe" * 20


def core_at(path: Path) -> ExchangeCore:
    return ExchangeCore(path, Markets([market_from_table(TABLE)]), FEES, clock_ms=lambda: 1_000)


def place(core: ExchangeCore, account: str, side: Side, qty: int, price: int, nonce: int,
          tif: TimeInForce = TimeInForce.GTC) -> int:
    signed = SignedOrderRow(nonce, 2**40, 30, price * 10**12, qty * 10**16, f"0x{nonce:064x}", "0x00", "LIMIT")

    command = PlaceOrder(account, "BRSWBNB", side, OrderType.LIMIT, qty=qty, price=price, tif=tif)

    def also(db: object, seq: int, result: object) -> None:
        new = next(e for e in result.events if getattr(e, "order_id", None) == result.order_id)  # type: ignore
        store.insert_order(db, store.order_row(new, signed, command, 1_000))  # type: ignore[arg-type]

    _, result = core.submit(command, also=also)
    assert result.ok, result
    return result.order_id


def test_recovery_rebuilds_the_same_engine_and_keeps_the_derived_rows(tmp_path: Path) -> None:
    core = core_at(tmp_path / "x.sqlite3")
    assert core.deposit("alice", "BRS", 10**20, "tx:1", 5) and not core.deposit("alice", "BRS", 10**20, "tx:1", 5)
    core.deposit("bob", "WBNB", 10**20, "tx:2", 5)
    place(core, "alice", Side.SELL, 100, 2000, 1)
    place(core, "bob", Side.BUY, 40, 2000, 1, TimeInForce.IOC)
    state, ledger = core.engine.state_hash(), core.ledger()
    core.close()
    again = core_at(tmp_path / "x.sqlite3")
    assert again.engine.state_hash() == state and again.ledger() == ledger
    trades = store.rows(again.db, "SELECT * FROM trades")
    assert [(t["qty"], t["state"]) for t in trades] == [(40, "PENDING")]
    orders = store.rows(again.db, "SELECT order_id, status, filled FROM orders ORDER BY order_id")
    assert [(o["status"], o["filled"]) for o in orders] == [("PARTIALLY_FILLED", 40), ("FILLED", 40)]


def test_snapshots_come_less_often_as_the_state_grows(tmp_path: Path, monkeypatch: Any) -> None:
    """A snapshot writes the whole state, so it comes after SNAPSHOT_EVERY commands or SNAPSHOT_PER_ITEM per open
    order and balance, whichever is more: its cost per command stays bounded however large the book."""
    import matcher.exchange.core as core_module
    monkeypatch.setattr(core_module, "SNAPSHOT_EVERY", 10)
    monkeypatch.setattr(core_module, "SNAPSHOT_PER_ITEM", 2)
    core = core_at(tmp_path / "x.sqlite3")
    taken: list[tuple[int, int]] = []  # (command, state items then)
    snapshot = core.snapshot
    monkeypatch.setattr(core, "snapshot", lambda: (taken.append((core.journal.last_seq, core._state_items())),
                                                   snapshot()))
    core.deposit("alice", "BRS", 10**22, "tx:1", 5)
    nonce = 0

    def place_and_cancel(count: int) -> None:
        nonlocal nonce
        for _ in range(count):
            nonce += 1
            core.cancel("alice", "BRSWBNB", place(core, "alice", Side.SELL, 100, 3000, nonce))

    place_and_cancel(20)  # a small state (one balance): every 10 commands
    small = len(taken)
    for _ in range(30):  # 30 orders stay open: 31 items, so 62 commands between snapshots
        nonce += 1
        place(core, "alice", Side.SELL, 100, 4000 + nonce, nonce)
    place_and_cancel(100)
    gaps = [(seq - before, items) for (seq, items), (before, _) in zip(taken, [(0, 0), *taken])]
    assert small == 4 and [gap for gap, _ in gaps[:small]] == [10, 10, 10, 10]
    assert all(gap >= max(10, 2 * items) for gap, items in gaps), gaps
    assert [gap for gap, _ in gaps[-2:]] == [62, 62], gaps  # 31 items, 2 commands each
    assert core.journal.latest_snapshot()[0] == taken[-1][0]
    state = core.engine.state_hash()
    core.close()
    assert core_at(tmp_path / "x.sqlite3").engine.state_hash() == state


def test_reversing_a_trade_restores_every_balance_including_fees(tmp_path: Path) -> None:
    core = core_at(tmp_path / "x.sqlite3")
    core.deposit("alice", "BRS", 10**20, "tx:1", 5)
    core.deposit("bob", "WBNB", 10**20, "tx:2", 5)
    before = core.ledger()
    maker = place(core, "alice", Side.SELL, 100, 2000, 1)
    core.cancel("alice", "BRSWBNB", maker)  # alice's own order leaves; the trade below is what gets reversed
    place(core, "alice", Side.SELL, 100, 2000, 2)
    place(core, "bob", Side.BUY, 100, 2000, 1, TimeInForce.IOC)
    trade = store.rows(core.db, "SELECT * FROM trades")[0]
    assert trade_effects(trade, core.markets, FEES)  # moves: base to bob, quote to alice, fees to the fee account
    assert core.ledger() != before
    core.write(lambda db: store.set_trade_states(db, [trade["trade_id"]], store.FAILED, "test"))
    core.reverse_trade(trade, "test")
    assert core.ledger() == before
    assert store.one(core.db, "SELECT reversed FROM trades")["reversed"] == len(trade_effects(trade, core.markets,
                                                                                                FEES))
    core.resume_reversals()  # nothing left to do: idempotent
    assert core.ledger() == before


def test_a_reversal_frees_locked_funds_by_cancelling_the_receivers_orders(tmp_path: Path) -> None:
    core = core_at(tmp_path / "x.sqlite3")
    core.deposit("alice", "BRS", 10**20, "tx:1", 5)
    core.deposit("bob", "WBNB", 10**20, "tx:2", 5)
    place(core, "alice", Side.SELL, 100, 2000, 1)
    place(core, "bob", Side.BUY, 100, 2000, 1, TimeInForce.IOC)
    resting = place(core, "bob", Side.SELL, 99, 3000, 2)  # bob locks what he received (1 BRS less 0.2% fee)
    trade = store.rows(core.db, "SELECT * FROM trades")[0]
    core.reverse_trade(trade, "test")
    assert resting not in core.engine.orders
    row = store.one(core.db, "SELECT status, reason FROM orders WHERE order_id = ?", resting)
    assert row["status"] == "CANCELED" and "reversing trade" in row["reason"]
    assert core.engine.balance("bob", "BRS") == (0, 0)


def test_requests_of_one_loop_turn_commit_as_one_group_and_nothing_is_announced_before(tmp_path: Path) -> None:
    import asyncio
    import sqlite3

    from matcher.exchange.core import GROUP_COMMIT

    path = tmp_path / "x.sqlite3"
    core = core_at(path)
    core.deposit("alice", "BRS", 10**20, "tx:1", 5)
    heard: list[int] = []
    core.announcers.append(lambda seq, command, result: heard.append(seq))
    outside = sqlite3.connect(str(path))  # another process's view: only what is committed

    def on_disk() -> int:
        return outside.execute("SELECT COUNT(*) FROM orders").fetchone()[0]

    async def request(nonce: int) -> int:
        GROUP_COMMIT.set(True)  # as the API's middleware does, in the request's own task
        order_id = place(core, "alice", Side.SELL, 100, 2000, nonce)
        assert on_disk() == 0 and heard == []  # written into the open group only
        await core.committed()
        assert on_disk() >= nonce and heard  # durable, then announced
        return order_id

    async def main() -> None:
        loop = asyncio.get_running_loop()
        commits = []

        def counted(commit: Any) -> None:
            loop.call_soon(lambda: (commits.append(on_disk()), commit()))

        core.schedule_commit = counted
        ids = await asyncio.gather(*(request(n) for n in range(1, 6)))
        assert len(set(ids)) == 5 and on_disk() == 5
        assert commits == [0]  # five orders, one commit
        assert heard == sorted(heard) and len(heard) == 5
        # a write outside any request (the settler's) commits at once, with the open group
        GROUP_COMMIT.set(True)
        place(core, "alice", Side.SELL, 100, 2000, 6)
        assert on_disk() == 5
        GROUP_COMMIT.set(False)
        core.write(lambda db: store.set_meta(db, "k", "v"))
        assert on_disk() == 6 and len(heard) == 6

    asyncio.run(main())
    state = core.engine.state_hash()
    core.close()
    assert core_at(path).engine.state_hash() == state


def test_a_group_that_cannot_commit_stops_the_core_and_nothing_of_it_lands(tmp_path: Path) -> None:
    import asyncio

    import pytest

    from matcher.exchange.core import GROUP_COMMIT

    path = tmp_path / "x.sqlite3"
    core = core_at(path)
    core.deposit("alice", "BRS", 10**20, "tx:1", 5)
    before = core.engine.state_hash()

    async def main() -> None:
        core.schedule_commit = lambda commit: None  # the turn's commit never comes: the next write fails instead
        GROUP_COMMIT.set(True)
        place(core, "alice", Side.SELL, 100, 2000, 1)

        def broken(db: object) -> None:
            raise RuntimeError("disk full")

        GROUP_COMMIT.set(False)
        with pytest.raises(SystemExit):
            core.write(broken)

    asyncio.run(main())
    core.journal._db.close()
    again = core_at(path)
    assert again.engine.state_hash() == before and store.rows(again.db, "SELECT * FROM orders") == []

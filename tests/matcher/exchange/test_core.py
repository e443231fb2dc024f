"""The core alone (no chain): every change journaled with its derived rows; recovery rebuilds the same state;
reversing a trade puts every balance back."""

from __future__ import annotations

from pathlib import Path

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
        store.insert_order(db, new, signed, command, 1_000)  # type: ignore[arg-type]

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

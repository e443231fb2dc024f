"""Markets opened while the engine runs (a listing): journaled like every command, in snapshots, replayed exactly."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from matcher import Asset, Engine, MarketSpec
from matcher.journal import JournaledEngine, decode_command, encode_command
from matcher.model import AddMarket, Code, Deposit, OrderType, PlaceOrder, Side
from matcher.snapshot import dump, load

from .conftest import BRS, MARKET

NEW = Asset("NEW", "0x" + "c3" * 20, 6)
LISTED = MarketSpec("NEWBRS", NEW, BRS, tick_size=10**10, lot_size=10**4, min_notional=10**16, maker_fee_bps=10,
                    taker_fee_bps=20)


def _trade(engine: Engine) -> None:
    assert engine.process(Deposit("maker", "NEW", 5 * 10**6)).ok
    assert engine.process(Deposit("taker", "BRS", 10**20)).ok
    assert engine.process(PlaceOrder("maker", "NEWBRS", Side.SELL, OrderType.LIMIT, qty=300, price=10**8)).ok
    assert engine.process(PlaceOrder("taker", "NEWBRS", Side.BUY, OrderType.LIMIT, qty=100, price=10**8)).ok


def test_a_market_opened_at_run_time_trades_like_any_other() -> None:
    engine = Engine([MARKET])
    assert engine.process(PlaceOrder("maker", "NEWBRS", Side.SELL, OrderType.LIMIT, qty=1, price=1)).code \
        is Code.UNKNOWN_MARKET
    assert engine.process(AddMarket.of(LISTED, ts=7)).ok
    assert engine.markets["NEWBRS"] == LISTED and engine.depth("NEWBRS")["bids"] == []
    _trade(engine)
    assert engine.balance("taker", "NEW") == (100 * 10**4 - 100 * 10**4 * 20 // 10_000, 0)
    assert engine.last_price["NEWBRS"] == 10**8
    assert engine.depth("NEWBRS")["asks"] == [(10**8, 200)]


def test_a_taken_symbol_a_reused_asset_name_and_an_invalid_spec_are_refused_and_change_nothing() -> None:
    engine = Engine([MARKET])
    assert engine.process(AddMarket.of(LISTED)).ok
    before = engine.state_hash()
    other_token = dataclasses.replace(LISTED, symbol="NEW2BRS", base=Asset("NEW", "0x" + "c4" * 20, 6))
    same_token_other_name = dataclasses.replace(LISTED, symbol="OLDBRS", base=Asset("OLD", NEW.token, 6))
    other_decimals = dataclasses.replace(LISTED, symbol="NEW3BRS", base=Asset("NEW", NEW.token, 8))
    for refused in (AddMarket.of(LISTED), AddMarket.of(other_token), AddMarket.of(same_token_other_name),
                    AddMarket.of(other_decimals)):
        result = engine.process(refused)
        assert result.code is Code.INVALID_ORDER and result.reason, refused
    inexact = dataclasses.replace(AddMarket.of(LISTED), symbol="BADBRS", base="BAD", base_token="0x" + "c5" * 20,
                                  tick_size=3)  # one lot at one tick is not a whole number of quote units
    result = engine.process(inexact)
    assert result.code is Code.INVALID_ORDER and "whole number" in result.reason
    assert engine.state_hash() == before and sorted(engine.markets) == ["BRSWBNB", "NEWBRS"]


def test_the_journal_and_snapshots_keep_markets_opened_at_run_time(tmp_path: Path) -> None:
    command = AddMarket.of(LISTED, ts=3)
    assert decode_command(encode_command(command)) == command
    path = tmp_path / "journal.sqlite3"
    journaled = JournaledEngine.open(path, [MARKET])
    journaled.submit(command)
    for c in (Deposit("maker", "NEW", 5 * 10**6), Deposit("taker", "BRS", 10**20),
              PlaceOrder("maker", "NEWBRS", Side.SELL, OrderType.LIMIT, qty=300, price=10**8)):
        journaled.submit(c)
    expected = journaled.engine.state_hash()
    journaled.close()
    replayed = JournaledEngine.open(path, [MARKET])  # from the journal alone
    assert replayed.engine.state_hash() == expected and "NEWBRS" in replayed.engine.markets
    replayed.snapshot()
    replayed.submit(PlaceOrder("taker", "NEWBRS", Side.BUY, OrderType.LIMIT, qty=100, price=10**8))
    expected = replayed.engine.state_hash()
    replayed.close()
    restored = JournaledEngine.open(path, [MARKET])  # from the snapshot (which holds the market) and one command
    assert restored.engine.state_hash() == expected
    assert restored.engine.depth("NEWBRS")["asks"] == [(10**8, 200)]
    restored.close()


def test_a_snapshot_taken_after_a_listing_loads_into_an_engine_configured_without_it() -> None:
    engine = Engine([MARKET])
    engine.process(AddMarket.of(LISTED))
    _trade(engine)
    copy = load([MARKET], dump(engine))
    assert copy.state_hash() == engine.state_hash() and copy.markets == engine.markets

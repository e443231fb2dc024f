"""The ledger keeps balances in two limbs (hi * 2**62 + lo): every change agrees with plain integers, at every size
and across every carry, and refuses what the whole amounts refuse."""

from __future__ import annotations

import random

import pytest

from matcher import Deposit, Engine
from matcher.balances import LIMB_BITS, Balance, Ledger
from matcher.model import BalanceRecord, BalanceUpdate, OrderType, PlaceOrder, Side
from tests.matcher.conftest import MARKET

LIMB = 1 << LIMB_BITS
# balances on and around the limbs' edges, and far beyond them
EDGES = [0, 1, 2**61 - 1, 2**61, LIMB - 1, LIMB, LIMB + 1, 2**63 + 7, 3 * LIMB - 1, 10**25, 10**40, 2**200 + 3]


def _amount(rng: random.Random) -> int:
    """Amounts as orders lock them (small), near the native path's bound (2**61), and larger."""
    return rng.choice((rng.randrange(1, 10**18), rng.randrange(1, 10**18), 2**61 - 1, 2**61, 2**61 + 1,
                       rng.randrange(LIMB - 4, LIMB + 4), rng.randrange(1, 10**30), 0))


def _near(rng: random.Random) -> int:
    return max(0, rng.choice(EDGES) + rng.randrange(-3 * 10**17, 3 * 10**17))


def _assert_limbs(balance: Balance, free: int, locked: int) -> None:
    assert (balance.free, balance.locked) == (free, locked)
    assert 0 <= balance.free_lo < LIMB and 0 <= balance.locked_lo < LIMB  # kept normalised
    record = BalanceRecord(balance.key, balance.free_hi, balance.free_lo, balance.locked_hi, balance.locked_lo)
    assert (record.free, record.locked) == (free, locked)


def _expected(op: str, free: int, locked: int, args: tuple[int, ...]) -> tuple[int, int, object]:
    """What a change does to whole amounts: the new free and locked, and its result (AssertionError: refused, and
    nothing changed)."""
    if op == "add_free":
        return (free, locked, AssertionError) if free + args[0] < 0 else (free + args[0], locked, None)
    if op == "add_locked":
        return (free, locked, AssertionError) if locked + args[0] < 0 else (free, locked + args[0], None)
    if op == "try_lock":
        return (free, locked, False) if free < args[0] else (free - args[0], locked + args[0], True)
    if op == "try_relock":
        released, amount = args
        if free + released < amount:  # only the release
            return free + released, locked - released, False
        return free + released - amount, locked - released + amount, True
    return (free, locked, AssertionError) if locked < args[0] else (free + args[0], locked - args[0], None)


def _apply(op: str, free: int, locked: int, args: tuple[int, ...]) -> Balance:
    """Make the change on a fresh ledger and check it against `_expected`."""
    ledger = Ledger()
    balance = ledger.get(("acct", "WBNB"))
    balance.free, balance.locked = free, locked
    _assert_limbs(balance, free, locked)
    new_free, new_locked, result = _expected(op, free, locked, args)
    if result is AssertionError:
        with pytest.raises(AssertionError):
            getattr(ledger, op)(balance, *args)
        assert ledger.take_changed() == []
    else:
        assert getattr(ledger, op)(balance, *args) == result
        # a change is recorded, whatever it changed; a refused lock changes nothing (a refused relock releases)
        assert ledger.take_changed() == ([] if result is False and op == "try_lock" else [balance])
    _assert_limbs(balance, new_free, new_locked)
    return balance


# low limbs and amounts that land a change exactly on either side of each edge of the low limb (-1, 0, LIMB - 1,
# LIMB), from the native path and beside it
LOWS = (0, 1, 2, 10**17, LIMB - 10**17, LIMB - 2, LIMB - 1)
STEPS = (0, 1, 2, 10**17, 2**61 - 1, 2**61, LIMB)


@pytest.mark.parametrize("op", ["add_free", "add_locked", "try_lock", "try_relock", "unlock"])
def test_changes_on_the_edges_of_the_low_limb(op: str) -> None:
    for hi in (0, 1, 2**70):
        for free_lo in LOWS:
            for locked_lo in LOWS:
                free, locked = hi * LIMB + free_lo, hi * LIMB + locked_lo
                for step in STEPS:
                    if op in ("add_free", "add_locked"):
                        for amount in (step, -step):
                            _apply(op, free, locked, (amount,))
                    elif op == "try_relock":
                        for released in (0, 1, step, min(locked, step + 1), locked):
                            if released <= locked:
                                _apply(op, free, locked, (released, step))
                    else:
                        _apply(op, free, locked, (step,))


def test_random_changes_agree_with_plain_integers() -> None:
    rng = random.Random(17)
    carried = 0
    ops = ("add_free", "add_locked", "try_lock", "try_relock", "unlock")
    for _ in range(3000):
        free, locked = _near(rng), _near(rng)
        op, amount = rng.choice(ops), _amount(rng)
        if op in ("add_free", "add_locked") and rng.random() < 0.5:
            amount = -amount
        args = (rng.choice((locked, rng.randrange(0, locked + 1), min(locked, amount))), amount) \
            if op == "try_relock" else (amount,)
        balance = _apply(op, free, locked, args)
        carried += (balance.free_hi, balance.locked_hi) != (free >> LIMB_BITS, locked >> LIMB_BITS)
    assert carried > 100  # many changes crossed the low limb's edge, either way


def test_a_refused_change_leaves_the_balance_and_the_changed_list_alone() -> None:
    ledger = Ledger()
    balance = ledger.get(("acct", "BRS"))
    balance.free, balance.locked = LIMB + 5, 3
    assert not ledger.try_lock(balance, LIMB + 6)
    with pytest.raises(AssertionError):
        ledger.unlock(balance, 4)
    with pytest.raises(AssertionError):
        ledger.add_free(balance, -(LIMB + 6))
    _assert_limbs(balance, LIMB + 5, 3)
    assert ledger.take_changed() == []
    ledger.add_free(balance, -6)  # borrows from the high limb
    assert (balance.free_hi, balance.free) == (0, LIMB - 1)
    assert ledger.take_changed() == [balance]


def test_huge_balances_trade_and_report_exact_amounts() -> None:
    engine = Engine([MARKET])
    big = 10**40 + LIMB - 1  # the low limb one short of carrying
    for account in ("maker", "taker"):
        for asset in ("BRS", "WBNB"):
            engine.process(Deposit(account, asset, big))
    engine.process(PlaceOrder("maker", MARKET.symbol, Side.SELL, OrderType.LIMIT, qty=7, price=1000))
    result = engine.process(PlaceOrder("taker", MARKET.symbol, Side.BUY, OrderType.LIMIT, qty=7, price=1000))
    updates = {(e.account, e.asset): (e.free, e.locked) for e in result.events if isinstance(e, BalanceUpdate)}
    assert updates[("taker", "BRS")] == engine.balance("taker", "BRS") and engine.balance("taker", "BRS")[0] > big
    for key, figures in updates.items():
        assert figures == engine.balance(*key)
    for asset in ("BRS", "WBNB"):
        held = sum(sum(engine.balance(account, asset)) for account in ("maker", "taker", engine.fee_account))
        assert held == 2 * big

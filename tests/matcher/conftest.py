from __future__ import annotations

from typing import Any

import pytest

from matcher import Asset, Deposit, Engine, MarketSpec
from matcher.model import OrderType, Side

BRS = Asset("BRS", "0x" + "b1" * 20, 18)
WBNB = Asset("WBNB", "0x" + "b2" * 20, 18)
MARKET = MarketSpec("BRSWBNB", BRS, WBNB, tick_size=10**14, lot_size=10**16, min_notional=10**14,
                    maker_fee_bps=10, taker_fee_bps=20)


def check_invariants(engine: Engine, deposits: dict[str, int]) -> None:
    """No crossed book; locked balances equal what open orders need; every asset conserved."""
    for symbol, book in engine.books.items():
        bid, ask = book.best(Side.BUY), book.best(Side.SELL)
        assert bid is None or ask is None or bid < ask, f"{symbol} is crossed: {bid} >= {ask}"
    needed: dict[tuple[str, str], int] = {}
    for order in engine.orders.values():
        market = engine.markets[order.symbol]
        asset = market.quote.symbol if order.side is Side.BUY else market.base.symbol
        if order.type is not OrderType.MARKET:
            want = market.notional(order.price, order.remaining) if order.side is Side.BUY else market.base_units(
                order.remaining)
            assert order.locked == want, (order, want)
        needed[(order.account, asset)] = needed.get((order.account, asset), 0) + order.locked
    assert {k: v for k, v in engine.locked.items() if v} == {k: v for k, v in needed.items() if v}
    for asset, total in deposits.items():
        held = sum(v for (_, a), v in engine.free.items() if a == asset) + sum(
            v for (_, a), v in engine.locked.items() if a == asset)
        assert held == total, f"{asset}: {held} != {total}"


class Harness:
    """An engine with funded accounts that checks the invariants after every command."""

    def __init__(self) -> None:
        self.engine = Engine([MARKET])
        self.deposits = {"BRS": 0, "WBNB": 0}

    def fund(self, account: str, brs: int = 10**21, wbnb: int = 10**21) -> None:
        for asset, amount in (("BRS", brs), ("WBNB", wbnb)):
            if amount:
                assert self.engine.process(Deposit(account, asset, amount)).ok
                self.deposits[asset] += amount

    def withdraw(self, account: str, asset: str, amount: int) -> Any:
        from matcher import Withdraw

        result = self.engine.process(Withdraw(account, asset, amount))
        if result.ok:
            self.deposits[asset] -= amount
        check_invariants(self.engine, self.deposits)
        return result

    def __call__(self, command: Any) -> Any:
        result = self.engine.process(command)
        check_invariants(self.engine, self.deposits)
        return result


@pytest.fixture
def ex() -> Harness:
    harness = Harness()
    for who in ("alice", "bob", "carol"):
        harness.fund(who)
    return harness

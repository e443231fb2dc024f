"""The optimised book against the obviously correct one on random order flow, after every step."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from matcher import Engine
from matcher.book import Book, ReferenceBook
from matcher.flow import random_flow
from matcher.model import Side

from .conftest import MARKET, check_invariants


@given(seed=st.integers(min_value=0, max_value=2**32), spread=st.integers(min_value=0, max_value=30))
def test_book_matches_reference_on_random_flow(seed: int, spread: int) -> None:
    fast, slow = Engine([MARKET], book_class=Book), Engine([MARKET], book_class=ReferenceBook)
    deposits = {"BRS": 0, "WBNB": 0}
    for command in random_flow(MARKET, seed, 300, spread=spread):
        if type(command).__name__ == "Deposit":
            deposits[command.asset] += command.amount  # type: ignore[union-attr]
        a, b = fast.process(command), slow.process(command)
        assert (a.code, a.order_id, a.events) == (b.code, b.order_id, b.events)
        assert fast.state_hash() == slow.state_hash()
        for side in (Side.BUY, Side.SELL):
            assert fast.books[MARKET.symbol].depth(side, 10) == slow.books[MARKET.symbol].depth(side, 10)
        check_invariants(fast, deposits)

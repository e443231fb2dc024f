"""The settler's hand-written settle() calldata is eth_abi's, byte for byte, and refuses what eth_abi refuses."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import to_checksum_address
from hypothesis import given, settings, strategies as st

from matcher.exchange.vault import FILL_TUPLE, SETTLE_SELECTOR, settle_calldata

addresses = st.binary(min_size=20, max_size=20).map(lambda raw: to_checksum_address(raw))
uints = st.one_of(st.integers(0, 2**16), st.integers(0, 2**256 - 1))
orders = st.tuples(addresses, addresses, addresses, st.booleans(), uints, uints, uints, uints, uints, uints)
fills = st.tuples(orders, orders, st.integers(0, 255), st.binary(min_size=32, max_size=32),
                  st.binary(min_size=32, max_size=32), st.integers(0, 255), st.binary(min_size=32, max_size=32),
                  st.binary(min_size=32, max_size=32), uints, uints, uints, st.booleans(), st.booleans())


def reference(batch_id: int, batch: list[Any]) -> bytes:
    return SETTLE_SELECTOR + encode(["uint256", f"{FILL_TUPLE}[]"], [batch_id, batch])


@settings(max_examples=150, deadline=None)
@given(batch_id=uints, batch=st.lists(fills, max_size=5))
def test_the_calldata_is_eth_abi_s(batch_id: int, batch: list[Any]) -> None:
    assert settle_calldata(batch_id, batch) == reference(batch_id, batch)


@pytest.mark.parametrize("path,bad", [
    ((2,), 256),  # maker v beyond uint8
    ((8,), -1),  # a negative amount
    ((9,), 2**256),  # beyond uint256
    ((11,), 1),  # an int where a bool goes
    ((3,), b"\x00" * 33),  # bytes32 too long
    ((0, 0), "0x1234"),  # a short address
    ((1, 3), 0),  # an int where the order's isBuy goes
])
def test_what_eth_abi_refuses_is_refused(path: tuple[int, ...], bad: Any) -> None:
    order = ("0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, True, 1, 2, 3, 4, 5, 6)
    fill: list[Any] = [list(order), list(order), 27, b"\x01" * 32, b"\x02" * 32, 28, b"\x03" * 32, b"\x04" * 32,
                       7, 8, 9, False, True]
    target = fill
    for index in path[:-1]:
        target = target[index]
    target[path[-1]] = bad
    batch = [tuple(tuple(x) if isinstance(x, list) else x for x in fill)]
    with pytest.raises(Exception):
        reference(1, batch)
    with pytest.raises(ValueError):
        settle_calldata(1, batch)

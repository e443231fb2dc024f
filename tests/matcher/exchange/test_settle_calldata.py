"""The settler's hand-written settle() calldata is eth_abi's encoding of `settle_args`, byte for byte; the packed
batch lists each token and signed order once, and refuses what eth_abi (or the vault's packing) cannot take."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import to_checksum_address
from hypothesis import given, settings, strategies as st

from contracts.settlement import PACKED_FILL_TUPLE, SIGNED_ORDER_TUPLE, settle_args
from matcher.exchange.vault import SETTLE_SELECTOR, settle_calldata

addresses = st.binary(min_size=20, max_size=20).map(lambda raw: to_checksum_address(raw))
uints = st.one_of(st.integers(0, 2**16), st.integers(0, 2**256 - 1))
orders = st.tuples(addresses, addresses, addresses, st.booleans(), uints, uints, uints, uints, uints, uints)
fills = st.tuples(orders, orders, st.integers(0, 255), st.binary(min_size=32, max_size=32),
                  st.binary(min_size=32, max_size=32), st.integers(0, 255), st.binary(min_size=32, max_size=32),
                  st.binary(min_size=32, max_size=32), uints, uints, uints, st.booleans(), st.booleans())


def reference(batch_id: int, batch: list[Any]) -> bytes:
    return SETTLE_SELECTOR + encode(["uint256", "address[]", f"{SIGNED_ORDER_TUPLE}[]", f"{PACKED_FILL_TUPLE}[]"],
                                    settle_args(batch_id, batch))


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
def test_what_the_vault_cannot_take_is_refused(path: tuple[int, ...], bad: Any) -> None:
    order = ("0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, True, 1, 2, 3, 4, 5, 6)
    fill: list[Any] = [list(order), list(order), 27, b"\x01" * 32, b"\x02" * 32, 28, b"\x03" * 32, b"\x04" * 32,
                       7, 8, 9, False, True]
    target = fill
    for index in path[:-1]:
        target = target[index]
    target[path[-1]] = bad
    batch = [tuple(tuple(x) if isinstance(x, list) else x for x in fill)]
    with pytest.raises(ValueError):
        settle_calldata(1, batch)


def _unpack(order: tuple[Any, ...], tokens: list[str]) -> tuple[Any, ...]:
    head = order[0]
    return (to_checksum_address((head & (2**160 - 1)).to_bytes(20, "big")), tokens[(head >> 176) & 255],
            tokens[head >> 184], bool((head >> 160) & 1), *order[1:7]), head >> 168 & 255, order[7], order[8]


@settings(max_examples=100, deadline=None)
@given(batch=st.lists(fills, max_size=6), repeats=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=4))
def test_each_order_and_token_is_listed_once_and_the_fills_name_them(batch: list[Any],
                                                                      repeats: list[tuple[int, int]]) -> None:
    """A taker sweeping several makers is listed (and its signature checked by the vault) once: fills that reuse
    an order with the same signature name the same entry; every fill unpacks to what it was."""
    batch = list(batch)
    for source, target in repeats:
        if source < len(batch) and target < len(batch):  # the target fill reuses the source fill's maker order
            batch[target] = (batch[source][0], *batch[target][1:2], *batch[source][2:5], *batch[target][5:])
    _, tokens, orders, packed = settle_args(7, batch)
    signed = {(fill[0], *fill[2:5]) for fill in batch} | {(fill[1], *fill[5:8]) for fill in batch}
    assert len(orders) == len(signed)
    assert len(tokens) == len({token.lower() for fill in batch for order in fill[:2] for token in order[1:3]})
    for fill, (heads, amount, maker_fee, taker_fee) in zip(batch, packed, strict=True):
        maker, taker = orders[heads & 0xFFFF], orders[(heads >> 16) & 0xFFFF]
        maker_order, *maker_sig = _unpack(maker, tokens)
        taker_order, *taker_sig = _unpack(taker, tokens)
        assert (maker_order, *maker_sig) == (fill[0], *fill[2:4], fill[4].ljust(32, b"\0"))
        assert (taker_order, *taker_sig) == (fill[1], *fill[5:7], fill[7].ljust(32, b"\0"))
        assert (amount, maker_fee, taker_fee, bool(heads >> 32 & 1), bool(heads >> 33 & 1)) == fill[8:]
        assert heads >> 34 == 0

"""The settler's hand-written settle() calldata is eth_abi's encoding of `settle_args`, byte for byte; the packed
batch lists each token, signed order and (account, token) balance once, and refuses what eth_abi (or the vault's
packing) cannot take."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import to_checksum_address
from hypothesis import given, settings, strategies as st

from contracts.settlement import PACKED_FILL_TUPLE, SIGNED_ORDER_TUPLE, settle_args
from matcher.exchange.vault import SETTLE_SELECTOR, settle_calldata

addresses = st.binary(min_size=20, max_size=20).map(lambda raw: to_checksum_address(raw))


def below(bits: int) -> Any:
    return st.one_of(st.integers(0, min(2**16, 2**bits - 1)), st.integers(0, 2**bits - 1))


uints = below(256)
PLATFORM_TOKEN = to_checksum_address("0x" + "ee" * 20)
# maker, base, quote, isBuy, baseAmount, price, expiry, nonce, maxFeeBps, maxPlatformFeeRate: within the vault's
# packing (contracts.settlement.ORDER_FIELD_LIMITS); the platform token is sometimes one of the pair
tokens_ = st.one_of(addresses, st.just(PLATFORM_TOKEN))
orders = st.tuples(addresses, tokens_, tokens_, st.booleans(), below(128), uints, below(48), below(240), below(16),
                   below(128))
fills = st.tuples(orders, orders, st.integers(0, 255), st.binary(min_size=32, max_size=32),
                  st.binary(min_size=32, max_size=32), st.integers(0, 255), st.binary(min_size=32, max_size=32),
                  st.binary(min_size=32, max_size=32), below(128), uints, uints, st.booleans(), st.booleans())


def reference(batch_id: int, batch: list[Any]) -> bytes:
    return SETTLE_SELECTOR + encode(["uint256", "address[]", "address[]", "uint256[]", "uint256[]",
                                     f"{SIGNED_ORDER_TUPLE}[]", f"{PACKED_FILL_TUPLE}[]"],
                                    settle_args(batch_id, batch, PLATFORM_TOKEN))


@settings(max_examples=150, deadline=None)
@given(batch_id=uints, batch=st.lists(fills, max_size=5))
def test_the_calldata_is_eth_abi_s(batch_id: int, batch: list[Any]) -> None:
    assert settle_calldata(batch_id, batch, PLATFORM_TOKEN) == reference(batch_id, batch)


@pytest.mark.parametrize("path,bad", [
    ((2,), 256),  # maker v beyond uint8
    ((8,), -1),  # a negative amount
    ((9,), 2**256),  # beyond uint256
    ((11,), 1),  # an int where a bool goes
    ((3,), b"\x00" * 33),  # bytes32 too long
    ((0, 0), "0x1234"),  # a short address
    ((1, 3), 0),  # an int where the order's isBuy goes
    ((0, 4), 2**128),  # a base amount beyond what the vault packs (ORDER_FIELD_LIMITS)
    ((1, 6), 2**48),  # an expiry beyond it
    ((0, 8), 2**16),  # a maxFeeBps beyond it
    ((1, 9), 2**128),  # a maxPlatformFeeRate beyond it
    ((0, 7), 2**240),  # a nonce beyond it
    ((8,), 2**128),  # a fill's base amount beyond it
    (("platform",), None),  # a fee in the platform token, and no platform token to list
])
def test_what_the_vault_cannot_take_is_refused(path: tuple[int, ...], bad: Any) -> None:
    order = ("0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, True, 1, 2, 3, 4, 5, 6)
    fill: list[Any] = [list(order), list(order), 27, b"\x01" * 32, b"\x02" * 32, 28, b"\x03" * 32, b"\x04" * 32,
                       7, 8, 9, False, True]
    target = fill
    for index in path[:-1]:
        target = target[index]
    platform_token: str | None = PLATFORM_TOKEN
    if path == ("platform",):
        platform_token = None
    else:
        target[path[-1]] = bad
    batch = [tuple(tuple(x) if isinstance(x, list) else x for x in fill)]
    with pytest.raises(ValueError):
        settle_calldata(1, batch, platform_token)


def _unpack(order: tuple[Any, ...], tokens: list[str], accounts: list[str], nonce_words: list[int]) -> tuple[Any, ...]:
    head, amounts = order[:2]
    assert nonce_words[head >> 112] == (order[3] >> 6) << 16 | head & 0xFFFF  # the word of its maker's nonce
    return (accounts[head & 0xFFFF], tokens[(head >> 32) & 255], tokens[(head >> 40) & 255], bool((head >> 16) & 1),
            amounts & (2**128 - 1), order[2], (head >> 64) & (2**48 - 1), order[3], (head >> 48) & 0xFFFF,
            amounts >> 128), head >> 24 & 255, order[4], order[5]


@settings(max_examples=100, deadline=None)
@given(batch=st.lists(fills, max_size=6), repeats=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=4))
def test_each_order_token_and_balance_is_listed_once_and_the_fills_name_them(batch: list[Any],
                                                                              repeats: list[tuple[int, int]]) -> None:
    """A taker sweeping several makers is listed (and its signature checked by the vault) once: fills that reuse
    an order with the same signature name the same entry; every fill unpacks to what it was, and names the
    balances of its seller and buyer in its base and quote (and in the platform token, for a fee paid in it)."""
    batch = list(batch)
    for source, target in repeats:
        if source < len(batch) and target < len(batch):  # the target fill reuses the source fill's maker order
            batch[target] = (batch[source][0], *batch[target][1:2], *batch[source][2:5], *batch[target][5:])
    _, tokens, accounts, balances, nonce_words, orders, packed = settle_args(7, batch, PLATFORM_TOKEN)
    signed = {(fill[0], *fill[2:5]) for fill in batch} | {(fill[1], *fill[5:8]) for fill in batch}
    assert len(orders) == len(signed)
    named = {token.lower() for fill in batch for order in fill[:2] for token in order[1:3]}
    assert {token.lower() for token in tokens} - named <= {PLATFORM_TOKEN.lower()}
    assert [int(token, 16) for token in tokens] == sorted({int(token, 16) for token in tokens})
    assert [int(account, 16) for account in accounts] == sorted({int(order[0], 16) for fill in batch
                                                                  for order in fill[:2]})
    assert balances == sorted(set(balances)) and nonce_words == sorted(set(nonce_words))
    for fill, (heads, maker_fee, taker_fee) in zip(batch, packed, strict=True):
        maker, taker = orders[heads & 0xFFFF], orders[(heads >> 16) & 0xFFFF]
        maker_order, *maker_sig = _unpack(maker, tokens, accounts, nonce_words)
        taker_order, *taker_sig = _unpack(taker, tokens, accounts, nonce_words)
        assert (maker_order, *maker_sig) == (fill[0], *fill[2:4], fill[4].ljust(32, b"\0"))
        assert (taker_order, *taker_sig) == (fill[1], *fill[5:7], fill[7].ljust(32, b"\0"))
        assert (heads >> 128, maker_fee, taker_fee, bool(heads >> 32 & 1), bool(heads >> 33 & 1)) == fill[8:]
        assert heads & ((2**40 - 2**34) | (2**128 - 2**100)) == 0
        buyer, seller = (maker_order, taker_order) if maker_order[3] else (taker_order, maker_order)
        (buyer_fee, buyer_flag), (seller_fee, seller_flag) = ((fill[9], fill[11]), (fill[10], fill[12]))[
            ::1 if maker_order[3] else -1]
        names = [(seller[0], maker_order[1]), (seller[0], maker_order[2]), (buyer[0], maker_order[1]),
                 (buyer[0], maker_order[2]), (seller[0], PLATFORM_TOKEN) if seller_flag and seller_fee else None,
                 (buyer[0], PLATFORM_TOKEN) if buyer_flag and buyer_fee else None]
        for slot, name in enumerate(names):
            if name is not None:
                key = balances[(heads >> (40 + 10 * slot)) & 1023]
                assert (accounts[key & 0xFFFF].lower(), tokens[key >> 16].lower()) == (name[0].lower(),
                                                                                       name[1].lower())

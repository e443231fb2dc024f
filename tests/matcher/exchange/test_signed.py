"""Signature checks of the intake: the lean recovery agrees with eth_account's (on the loop and in the secp256k1
worker's record format), and what recovers to no key or to another key is -1022."""

from __future__ import annotations

import os

import pytest
from eth_account import Account
from hypothesis import given, settings, strategies as st

from matcher.exchange.errors import ApiError
from matcher.exchange.curve_worker import answer, recover_address
from matcher.exchange.signed import SECP256K1_HALF_N, check_recovered, check_signer, sign_digest, split_signature

N = 2 * SECP256K1_HALF_N + 1


@settings(max_examples=60, deadline=None)
@given(key=st.integers(1, N - 1), digest=st.binary(min_size=32, max_size=32))
def test_recovery_agrees_with_eth_account(key: int, digest: bytes) -> None:
    private = key.to_bytes(32, "big")
    signature = sign_digest(digest, private)
    owner = Account.from_key(private).address
    v, r, s = split_signature(signature)
    recovered = recover_address(digest, (v, r, s))
    assert recovered is not None and "0x" + recovered.hex() == owner.lower()
    assert answer(b"R" + digest + r + s + bytes((v,))) == b"\x01" + recovered  # the worker's record for it
    assert check_signer(digest, signature, owner) == split_signature(signature)
    other = Account.from_key(((key % (N - 1)) + 1).to_bytes(32, "big")).address
    if other != owner:
        with pytest.raises(ApiError) as refused:
            check_signer(digest, signature, other)
        assert refused.value.code == -1022


@pytest.mark.parametrize("r", [0, N, 2**256 - 1])
def test_an_r_out_of_range_is_an_invalid_signature(r: int) -> None:
    digest = os.urandom(32)
    assert recover_address(digest, (27, r.to_bytes(32, "big"), (1).to_bytes(32, "big"))) is None
    assert answer(b"R" + digest + r.to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x1b") == bytes(21)
    with pytest.raises(ApiError) as refused:
        check_recovered(None, Account.create().address)
    assert refused.value.code == -1022


def test_an_r_with_no_point_on_the_curve_is_an_invalid_signature() -> None:
    r = 5  # x = 5 has no y on secp256k1 (5^3 + 7 is not a square mod p)
    assert recover_address(os.urandom(32), (27, r.to_bytes(32, "big"), (1).to_bytes(32, "big"))) is None

"""The vault order's EIP-712 digest and signature, computed by hand for speed, equal eth_account's generic
encode_typed_data and sign_message on random orders, and the lean signing equals coincurve's own (the vault's own
hashOrder is checked in test_settlement_vault.py)."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.settlement import Order, order_hash, sign_order, sign_recoverable, typed_data

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

addresses = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address("0x" + b.hex()))
uints = st.integers(min_value=0, max_value=2**256 - 1)
orders = st.builds(Order, addresses, addresses, addresses, st.booleans(), uints, uints, uints, uints, uints, uints)


@settings(max_examples=300)  # a pure function: many examples cost little
@given(order=orders, chain_id=st.integers(min_value=1, max_value=2**64), vault=addresses)
def test_the_hand_made_digest_equals_encode_typed_data(order: Order, chain_id: int, vault: str) -> None:
    signable = encode_typed_data(full_message=typed_data(order, chain_id, vault))
    assert order_hash(order, chain_id, vault) == keccak(b"\x19" + signable.version + signable.header + signable.body)


@given(order=orders)
def test_as_tuple_is_the_fields_in_the_structs_order(order: Order) -> None:
    from dataclasses import astuple
    assert order.as_tuple() == astuple(order)


@settings(max_examples=100)
@given(order=orders, key=st.integers(min_value=1, max_value=2**256 - 2**129))
def test_the_signature_is_eth_accounts(order: Order, key: int) -> None:
    private = key.to_bytes(32, "big")
    signed = Account.sign_message(encode_typed_data(full_message=typed_data(order, 56, "0x" + "11" * 20)), private)
    assert sign_order(order, private, 56, "0x" + "11" * 20) == (signed.v, signed.r.to_bytes(32, "big"),
                                                                 signed.s.to_bytes(32, "big"))


@settings(max_examples=200, deadline=None)
@given(key=st.integers(1, SECP256K1_N - 1), digest=st.binary(min_size=32, max_size=32))
def test_the_lean_signature_is_coincurves(key: int, digest: bytes) -> None:
    from coincurve import PrivateKey

    secret = key.to_bytes(32, "big")
    assert sign_recoverable(secret, digest) == PrivateKey(secret).sign_recoverable(digest, hasher=None)


@pytest.mark.parametrize("secret,digest", [(bytes(32), bytes(32)), (SECP256K1_N.to_bytes(32, "big"), bytes(32)),
                                           (b"\x01" * 32, bytes(31))])
def test_the_lean_signature_refuses_bad_keys_and_digests(secret: bytes, digest: bytes) -> None:
    with pytest.raises(ValueError):
        sign_recoverable(secret, digest)

"""The incremental trie gives the same roots as py-trie's reference HexaryTrie."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from chain.hashing import keccak
from chain.trie import BLANK_ROOT, Trie, ordered_trie_root

ops = st.lists(st.tuples(st.booleans(), st.binary(min_size=1, max_size=3), st.binary(min_size=1, max_size=40)),
               max_size=80)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_secure_trie_root_matches_reference_after_every_write_and_delete(steps) -> None:
    ours, reference = Trie(), HexaryTrie({})
    for delete, key, value in steps:
        if delete:
            ours.delete(key)
            if keccak(key) in reference:
                del reference[keccak(key)]
        else:
            ours.set(key, value)
            reference[keccak(key)] = value
        assert ours.root_hash() == reference.root_hash


def test_empty_trie_and_list_roots() -> None:
    assert Trie().root_hash() == BLANK_ROOT == HexaryTrie({}).root_hash
    assert ordered_trie_root([]) == BLANK_ROOT
    import rlp

    items = [b"a" * i for i in range(1, 200)]
    reference = HexaryTrie({})
    for i, item in enumerate(items):
        reference[rlp.encode(i)] = item
    assert ordered_trie_root(items) == reference.root_hash


def test_fast_sender_recovery_matches_eth_account_for_every_type() -> None:
    from eth_account import Account
    from eth_utils import to_checksum_address

    from chain.errors import TransactionRejected
    from chain.transactions import recover_sender

    acct = Account.from_key("0x" + "3c" * 32)
    base = {"nonce": 7, "gas": 50_000, "to": to_checksum_address("0x" + "ab" * 20), "value": 5, "data": b"\x01\x02"}
    txs = [
        {**base, "gasPrice": 10},
        {**base, "gasPrice": 10, "chainId": 31337},
        {**base, "gasPrice": 10, "chainId": 31337, "accessList": [{"address": to_checksum_address("0x" + "cd" * 20),
                                                                   "storageKeys": ["0x" + "00" * 31 + "01"]}]},
        {**base, "maxFeePerGas": 10, "maxPriorityFeePerGas": 1, "chainId": 31337},
    ]
    for tx in txs:
        raw = bytes(acct.sign_transaction(tx).raw_transaction)
        assert recover_sender(raw) == bytes.fromhex(acct.address[2:])
    raw = bytearray(acct.sign_transaction(txs[3]).raw_transaction)
    raw[-1] ^= 0xFF  # corrupt s
    try:
        sender = recover_sender(bytes(raw))
    except TransactionRejected:
        pass
    else:
        assert sender != bytes.fromhex(acct.address[2:])

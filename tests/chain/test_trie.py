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

from __future__ import annotations

import pytest

from wallet.errors import InvalidKey
from wallet.hd import (
    ExtendedKey,
    derive_addresses,
    key_from_mnemonic,
    mnemonic_entropy,
    mnemonic_from_entropy,
    mnemonic_to_seed,
    new_mnemonic,
    normalize_mnemonic,
    parse_path,
    validate_mnemonic,
)

from .conftest import ADDR0, ADDR1, KEY0, vector

ANVIL_MNEMONIC = "test test test test test test test test test test test junk"


def test_bip39_trezor_vectors_in_every_language_give_mnemonic_seed_and_root_key() -> None:
    vectors = vector("bip39_trezor_vectors.json")
    checked = 0
    for language, rows in vectors.items():
        for entropy, mnemonic, seed, xprv in rows:
            # word lists differ in Unicode form (NFC/NFKD); BIP-39 compares mnemonics NFKD-normalised
            assert normalize_mnemonic(mnemonic_from_entropy(bytes.fromhex(entropy), language)) == \
                normalize_mnemonic(mnemonic)
            assert mnemonic_entropy(mnemonic) == bytes.fromhex(entropy)
            assert mnemonic_to_seed(mnemonic, "TREZOR").hex() == seed
            assert ExtendedKey.from_seed(bytes.fromhex(seed)).serialize() == xprv
            checked += 1
    assert checked == 288


def test_mnemonic_with_a_wrong_word_order_fails_its_checksum() -> None:
    words = "abandon " * 11 + "about"
    validate_mnemonic(words)
    with pytest.raises(InvalidKey, match="checksum"):
        validate_mnemonic("about " + "abandon " * 11)


def test_mnemonic_with_unknown_words_or_wrong_length_is_rejected() -> None:
    with pytest.raises(InvalidKey, match="word list"):
        validate_mnemonic("zzz " * 12)
    with pytest.raises(InvalidKey, match="11"):
        validate_mnemonic("abandon " * 11)


def test_new_mnemonic_has_the_requested_words_and_validates() -> None:
    for words in (12, 24):
        mnemonic = new_mnemonic(words)
        assert len(mnemonic.split()) == words
        validate_mnemonic(mnemonic)
    assert new_mnemonic() != new_mnemonic()
    with pytest.raises(InvalidKey):
        new_mnemonic(13)


def test_bip32_vectors_1_to_4_derive_every_xprv_and_xpub() -> None:
    for case in vector("bip32_vectors.json")["vectors"][:4]:
        master = ExtendedKey.from_seed(bytes.fromhex(case["seed_hex"]))
        for chain in case["chains"]:
            node = master.derive(chain["path"].replace("H", "'"))
            assert node.serialize() == chain["ext_prv"]
            assert node.serialize(private=False) == chain["ext_pub"]
            assert ExtendedKey.parse(chain["ext_prv"]) == node
            assert ExtendedKey.parse(chain["ext_pub"]) == node.neuter()


def test_public_derivation_of_non_hardened_children_matches_private_derivation() -> None:
    master = ExtendedKey.from_seed(bytes.fromhex("000102030405060708090a0b0c0d0e0f"))
    parent = master.derive("m/0'")
    assert parent.neuter().derive("m/1/2").serialize(False) == parent.derive("m/1/2").serialize(False)
    with pytest.raises(InvalidKey, match="hardened"):
        parent.neuter().child(2**31)


def test_bip32_vector_5_rejects_every_invalid_extended_key() -> None:
    invalid = vector("bip32_vectors.json")["vectors"][4]["invalid_ext_keys"]
    assert len(invalid) == 16
    for case in invalid:
        with pytest.raises(InvalidKey):
            ExtendedKey.parse(case["ext_key"])


def test_anvil_mnemonic_derives_anvils_funded_accounts() -> None:
    assert [a for _, a in derive_addresses(ANVIL_MNEMONIC, 2)] == [ADDR0, ADDR1]
    assert key_from_mnemonic(ANVIL_MNEMONIC) == KEY0


def test_paths_accept_apostrophe_or_h_and_reject_garbage() -> None:
    assert parse_path("m/44'/60h/0H/0/7") == [2**31 + 44, 2**31 + 60, 2**31, 0, 7]
    for bad in ("44'/60'", "m/x", "m/2147483648", "m//1"):
        with pytest.raises(InvalidKey):
            parse_path(bad)

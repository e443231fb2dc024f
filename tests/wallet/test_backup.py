from __future__ import annotations

import itertools

import pytest

from wallet.backup import restore_mnemonic, restore_secret, split_key, split_mnemonic
from wallet.errors import BackupError
from wallet.hd import ExtendedKey, new_mnemonic

from .conftest import KEY0, vector


def test_slip39_vectors_restore_valid_shares_and_reject_invalid_ones() -> None:
    cases = vector("slip39_vectors.json")
    assert len(cases) == 45
    for description, shares, secret, xprv in cases:
        if secret:
            restored = restore_secret(shares, "TREZOR")
            assert restored.hex() == secret, description
            assert ExtendedKey.from_seed(restored).serialize() == xprv, description
        else:
            with pytest.raises(BackupError):
                restore_secret(shares, "TREZOR")


def test_any_threshold_of_the_shares_restores_the_key_and_fewer_do_not() -> None:
    shares = split_key(KEY0, 3, 5)
    assert len(shares) == 5
    for subset in itertools.combinations(shares, 3):
        assert restore_secret(subset) == KEY0
    with pytest.raises(BackupError, match="do not combine"):
        restore_secret(shares[:2])


def test_mnemonic_backup_restores_the_same_words() -> None:
    mnemonic = new_mnemonic(24)
    shares = split_mnemonic(mnemonic, 2, 3, passphrase="pass")
    assert restore_mnemonic(shares[1:], passphrase="pass") == mnemonic
    assert restore_mnemonic(shares[1:], passphrase="wrong") != mnemonic  # SLIP-39: no error, another secret


def test_impossible_splits_are_refused() -> None:
    with pytest.raises(BackupError, match="threshold"):
        split_key(KEY0, 4, 3)
    with pytest.raises(BackupError, match="threshold of 1"):
        split_key(KEY0, 1, 3)
    with pytest.raises(BackupError, match="at least 16 bytes"):
        split_key(b"\x01" * 15, 2, 3)
    with pytest.raises(BackupError, match="no shares"):
        restore_secret(["", "  "])

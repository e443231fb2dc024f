"""SLIP-39 Shamir backups of a private key or a BIP-39 mnemonic's entropy (trezor's `shamir-mnemonic`).

Meant for an offline machine: splitting and restoring never touch the network. Any `threshold` of the `shares`
rebuild the secret; fewer reveal nothing about it. An optional passphrase encrypts the secret inside the shares
(a wrong passphrase gives a *different* secret, as SLIP-39 specifies, so check the restored address).
"""

from __future__ import annotations

from collections.abc import Iterable

import shamir_mnemonic

from .errors import BackupError
from .hd import mnemonic_entropy, mnemonic_from_entropy


def split_secret(secret: bytes, threshold: int, shares: int, passphrase: str = "") -> list[str]:
    """`shares` SLIP-39 mnemonics in one group, any `threshold` of which restore `secret` (16-32 bytes, even)."""
    if not 1 <= threshold <= shares <= 16:
        raise BackupError(f"need 1 <= threshold <= shares <= 16, got {threshold} of {shares}")
    if threshold == 1 and shares > 1:
        raise BackupError("SLIP-39 does not allow a threshold of 1 with several shares (each share would be the secret)")
    if len(secret) < 16 or len(secret) % 2:
        raise BackupError(f"SLIP-39 secrets are at least 16 bytes and of even length, not {len(secret)}")
    try:
        groups = shamir_mnemonic.generate_mnemonics(1, [(threshold, shares)], secret, passphrase.encode())
    except (ValueError, shamir_mnemonic.MnemonicError) as exc:
        raise BackupError(str(exc)) from None
    return groups[0]


def split_key(private_key: bytes, threshold: int, shares: int, passphrase: str = "") -> list[str]:
    return split_secret(private_key, threshold, shares, passphrase)


def split_mnemonic(mnemonic: str, threshold: int, shares: int, passphrase: str = "") -> list[str]:
    """Shares of the mnemonic's entropy: restoring gives back the same words (and so the same wallet)."""
    return split_secret(mnemonic_entropy(mnemonic), threshold, shares, passphrase)


def restore_secret(shares: Iterable[str], passphrase: str = "") -> bytes:
    mnemonics = [" ".join(share.split()) for share in shares if share.strip()]
    if not mnemonics:
        raise BackupError("no shares given")
    try:
        return shamir_mnemonic.combine_mnemonics(mnemonics, passphrase.encode())
    except (ValueError, shamir_mnemonic.MnemonicError) as exc:
        raise BackupError(f"shares do not combine: {exc}") from None


def restore_mnemonic(shares: Iterable[str], passphrase: str = "") -> str:
    secret = restore_secret(shares, passphrase)
    if len(secret) not in (16, 20, 24, 28, 32):
        raise BackupError(f"restored secret is {len(secret)} bytes, not a BIP-39 entropy length")
    return mnemonic_from_entropy(secret)

"""Bourse's wallet: keystores, HD keys, signing, cold transactions, Shamir backups, the policy signer, treasury.

A library first (tests and the matcher call these functions); `bourse wallet`, `bourse signer` and `bourse por`
are thin CLIs over it. It reaches chains only through JSON-RPC, so it works the same against anvil or geth.
"""

from .errors import WalletError
from .store import KeyStore, StoredAccount

__all__ = ["KeyStore", "StoredAccount", "WalletError"]

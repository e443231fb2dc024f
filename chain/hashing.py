"""Keccak-256, using the native pysha3 build when it is installed.

eth-hash's pycryptodome backend costs ~15 us per call through ctypes; pysha3
costs ~1.5 us, and the node hashes on every trie write. Importing this module
also points eth-hash (used by py-evm and eth-utils) at the fast backend.
"""

from __future__ import annotations

import os

try:
    from sha3 import keccak_256 as _keccak_256  # safe-pysha3

    os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")

    def keccak(data: bytes) -> bytes:
        return _keccak_256(data).digest()

except ImportError:  # pragma: no cover - exercised only without safe-pysha3
    from eth_hash.auto import keccak as _auto_keccak

    def keccak(data: bytes) -> bytes:
        return _auto_keccak(data)

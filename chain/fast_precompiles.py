"""ECRECOVER (precompile 0x01) straight on coincurve: py-evm's goes through eth_keys' backend lookup (which reads
os.environ on every call), validators and Signature objects - about a third of a settlement batch's signature
checking. Same rules: v must be 27 or 28, r and s below the curve order; anything that does not recover leaves
the output empty; 3,000 gas. tests/chain/test_fast_precompiles.py compares it with py-evm's on valid, high-s,
malformed and truncated inputs."""

from __future__ import annotations

from typing import Any

from coincurve import PublicKey

from .hashing import keccak

ECRECOVER_GAS = 3_000
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ECRECOVER = (1).to_bytes(20, "big")


def ecrecover(computation: Any) -> Any:
    computation.consume_gas(ECRECOVER_GAS, reason="ECRecover Precompile")
    computation.output = recovered(computation.msg.data_as_bytes)
    return computation


def recovered(data: Any) -> bytes:
    """ECRECOVER's output for the input `data`: the signer's address as a word, or nothing."""
    data = bytes(data[:128]).ljust(128, b"\x00")
    v = int.from_bytes(data[32:64], "big")
    r = int.from_bytes(data[64:96], "big")
    s = int.from_bytes(data[96:128], "big")
    if v not in (27, 28) or not 0 < r < SECP256K1_N or not 0 < s < SECP256K1_N:
        return b""
    try:
        key = PublicKey.from_signature_and_message(data[64:128] + bytes([v - 27]), data[:32], hasher=None)
    except ValueError:  # no point recovers from it
        return b""
    return bytes(12) + keccak(key.format(compressed=False)[1:])[-20:]


def replace_precompiles(precompiles: dict[bytes, Any]) -> dict[bytes, Any]:
    out = dict(precompiles)
    if ECRECOVER in out:
        out[ECRECOVER] = ecrecover
    return out

"""keccak-256 and recoverable secp256k1 signatures, with nothing heavier than coincurve and safe-pysha3 imported
(the exchange's secp256k1 worker process imports only this)."""

from __future__ import annotations

from sha3 import keccak_256  # safe-pysha3: ~0.8 us a hash where eth_utils' checked keccak costs ~5 (every order)


def keccak(data: bytes) -> bytes:
    return keccak_256(data).digest()


def sign_recoverable(private_key: bytes, digest: bytes) -> bytes:
    """r || s || recovery id of `digest` signed with `private_key`: coincurve's
    `PrivateKey(private_key).sign_recoverable(digest, hasher=None)`, without the two public keys that constructor
    derives (two curve multiplications a signature does not use; the exchange signs every API-key order).
    ValueError for a key outside 1..n-1 or a digest that is not 32 bytes."""
    from coincurve._libsecp256k1 import ffi, lib
    from coincurve.context import GLOBAL_CONTEXT
    from coincurve.ecdsa import serialize_recoverable
    from coincurve.utils import DEFAULT_NONCE, validate_secret

    if len(digest) != 32:
        raise ValueError("a digest is 32 bytes")
    signature = ffi.new("secp256k1_ecdsa_recoverable_signature *")
    if not lib.secp256k1_ecdsa_sign_recoverable(GLOBAL_CONTEXT.ctx, signature, digest, validate_secret(private_key),
                                                *DEFAULT_NONCE):
        raise ValueError("the private key is not valid")
    return serialize_recoverable(signature, GLOBAL_CONTEXT)

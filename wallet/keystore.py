"""Web3 Secret Storage V3: the keystore format geth, MetaMask, cast and eth-account read and write.

Writing always uses scrypt (n=262144, r=8, p=1 by default; n=4096 for `light`), a 32-byte salt, AES-128-CTR, and
records `address` and a UUID `id`. Reading accepts every variant the public vectors hold: scrypt with any
parameters (including the legacy r=1 p=8, which OpenSSL refuses, through pycryptodome), pbkdf2-hmac-sha256, an
uppercase `Crypto` key, and private keys shorter than 32 bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from coincurve import PrivateKey
from Crypto.Protocol.KDF import scrypt as pycryptodome_scrypt
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from eth_utils import keccak, to_checksum_address

from .errors import InvalidKey, InvalidKeystore, WrongPassword

STANDARD_SCRYPT_N = 262_144
LIGHT_SCRYPT_N = 4_096
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 32
MAX_SCRYPT_N = 2**20  # refuse files that would make us allocate gigabytes


@dataclass(frozen=True)
class KdfParams:
    n: int = STANDARD_SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    @classmethod
    def light(cls) -> KdfParams:
        return cls(n=LIGHT_SCRYPT_N)


def address_of(private_key: bytes) -> str:
    """The checksummed address of a 32-byte secp256k1 private key."""
    return to_checksum_address(keccak(PrivateKey(private_key).public_key.format(compressed=False)[1:])[-20:])


def check_private_key(private_key: bytes | str) -> bytes:
    """A private key as 32 bytes; accepts hex with or without 0x. Rejects 0 and values >= the curve order."""
    if isinstance(private_key, str):
        text = private_key.strip().removeprefix("0x").removeprefix("0X")
        try:
            private_key = bytes.fromhex(text)
        except ValueError:
            raise InvalidKey("a private key is 64 hex characters") from None
    if len(private_key) != 32:
        raise InvalidKey(f"a private key is 32 bytes, not {len(private_key)}")
    from .hd import SECP256K1_N
    if not 0 < int.from_bytes(private_key, "big") < SECP256K1_N:
        raise InvalidKey("private key is outside 1..n-1 of secp256k1")
    return private_key


def encrypt(private_key: bytes, password: str, kdf: KdfParams = KdfParams()) -> dict[str, Any]:
    """A V3 keystore dict for `private_key`."""
    private_key = check_private_key(private_key)
    salt = secrets.token_bytes(SALT_BYTES)
    iv = secrets.token_bytes(16)
    derived = _scrypt(password.encode(), salt, kdf.n, kdf.r, kdf.p, 32)
    ciphertext = _aes_ctr(derived[:16], iv, private_key)
    return {
        "address": address_of(private_key)[2:].lower(),
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": iv.hex()},
            "ciphertext": ciphertext.hex(),
            "kdf": "scrypt",
            "kdfparams": {"dklen": 32, "n": kdf.n, "r": kdf.r, "p": kdf.p, "salt": salt.hex()},
            "mac": keccak(derived[16:32] + ciphertext).hex(),
        },
        "id": str(uuid.uuid4()),
        "version": 3,
    }


def decrypt(keystore: dict[str, Any], password: str, name: str = "keystore") -> bytes:
    """The 32-byte private key; WrongPassword(name) when the MAC does not match."""
    crypto = _crypto_section(keystore)
    try:
        ciphertext = _hex(crypto["ciphertext"])
        iv = _hex(crypto["cipherparams"]["iv"])
        derived = _derive(crypto["kdf"], crypto["kdfparams"], password.encode())
        mac = _hex(crypto["mac"])
    except (KeyError, TypeError) as exc:
        raise InvalidKeystore(f"{name}: missing field {exc}") from None
    if crypto.get("cipher", "").lower() != "aes-128-ctr":
        raise InvalidKeystore(f"{name}: unsupported cipher {crypto.get('cipher')!r} (only aes-128-ctr)")
    if len(derived) < 32:
        raise InvalidKeystore(f"{name}: dklen must be at least 32")
    if not hmac.compare_digest(keccak(derived[16:32] + ciphertext), mac):
        raise WrongPassword(name)
    key = _aes_ctr(derived[:16], iv, ciphertext)
    if len(key) > 32:
        raise InvalidKeystore(f"{name}: ciphertext longer than a private key")
    return key.rjust(32, b"\0")


def keystore_address(keystore: dict[str, Any]) -> str | None:
    """The checksummed `address` field, if the file has one."""
    address = keystore.get("address")
    if not address:
        return None
    try:
        return to_checksum_address("0x" + str(address).lower().removeprefix("0x"))
    except ValueError:
        raise InvalidKeystore(f"bad address field {address!r}") from None


def _crypto_section(keystore: Any) -> dict[str, Any]:
    if not isinstance(keystore, dict):
        raise InvalidKeystore("a keystore is a JSON object")
    if keystore.get("version") != 3:
        raise InvalidKeystore(f"unsupported keystore version {keystore.get('version')!r} (only 3)")
    crypto = keystore.get("crypto", keystore.get("Crypto"))
    if not isinstance(crypto, dict):
        raise InvalidKeystore("keystore has no crypto section")
    return crypto


def _derive(kdf: str, params: dict[str, Any], password: bytes) -> bytes:
    salt = _hex(params["salt"])
    dklen = int(params["dklen"])
    if kdf == "scrypt":
        n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
        if n < 2 or n & (n - 1) or n > MAX_SCRYPT_N or r < 1 or p < 1:
            raise InvalidKeystore(f"unsupported scrypt parameters n={n} r={r} p={p}")
        return _scrypt(password, salt, n, r, p, dklen)
    if kdf == "pbkdf2":
        if params.get("prf") != "hmac-sha256":
            raise InvalidKeystore(f"unsupported pbkdf2 prf {params.get('prf')!r} (only hmac-sha256)")
        return hashlib.pbkdf2_hmac("sha256", password, salt, int(params["c"]), dklen)
    raise InvalidKeystore(f"unsupported kdf {kdf!r} (scrypt or pbkdf2)")


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    try:
        return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=256 * r * n * p + 2**24)
    except ValueError:
        # OpenSSL enforces RFC 7914's N < 2^(16r), which the legacy r=1 p=8 files break; pycryptodome does not.
        return pycryptodome_scrypt(password, salt, dklen, N=n, r=r, p=p)  # type: ignore[return-value]


def _aes_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CTR(iv.rjust(16, b"\0"))).encryptor()
    return cipher.update(data) + cipher.finalize()


def _hex(value: Any) -> bytes:
    text = str(value).removeprefix("0x")
    try:
        return bytes.fromhex(text if len(text) % 2 == 0 else "0" + text)
    except ValueError:
        raise InvalidKeystore(f"not hex: {value!r}") from None

"""BIP-39 mnemonics and BIP-32 hierarchical deterministic keys (secp256k1, native via coincurve)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from functools import cache

from coincurve import PrivateKey, PublicKey
from Crypto.Hash import RIPEMD160
from eth_utils import keccak
from mnemonic import Mnemonic

from .errors import InvalidKey

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HARDENED = 0x80000000
ETHEREUM_PATH = "m/44'/60'/0'/0"
XPRV_VERSION = bytes.fromhex("0488ade4")
XPUB_VERSION = bytes.fromhex("0488b21e")
LANGUAGES = ("english", "chinese_simplified", "chinese_traditional", "czech", "french", "italian", "japanese",
             "korean", "portuguese", "spanish", "russian", "turkish")
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# --- BIP-39 -----------------------------------------------------------------------------------------------------

def new_mnemonic(words: int = 12, language: str = "english") -> str:
    """A fresh mnemonic of 12, 15, 18, 21 or 24 words from the OS's CSPRNG."""
    if words not in (12, 15, 18, 21, 24):
        raise InvalidKey(f"a mnemonic has 12, 15, 18, 21 or 24 words, not {words}")
    return _wordlist(language).to_mnemonic(secrets.token_bytes(words * 4 // 3))


def mnemonic_from_entropy(entropy: bytes, language: str = "english") -> str:
    if len(entropy) not in (16, 20, 24, 28, 32):
        raise InvalidKey(f"BIP-39 entropy is 16 to 32 bytes in steps of 4, not {len(entropy)}")
    return _wordlist(language).to_mnemonic(entropy)


def mnemonic_entropy(mnemonic: str) -> bytes:
    """The entropy a valid mnemonic encodes (its words checked against the list and the checksum)."""
    words = normalize_mnemonic(mnemonic).split(" ")
    if len(words) not in (12, 15, 18, 21, 24):
        raise InvalidKey(f"a mnemonic has 12, 15, 18, 21 or 24 words, this one has {len(words)}")
    candidates = [language for language in LANGUAGES if set(words) <= _word_index(language).keys()]
    if not candidates:
        raise InvalidKey("mnemonic words are not all from one BIP-39 word list")
    for language in candidates:  # the two Chinese lists share words: take the one whose checksum holds
        index = _word_index(language)
        bits = 0
        for word in words:
            bits = bits << 11 | index[word]
        checksum_bits = len(words) // 3
        entropy = (bits >> checksum_bits).to_bytes(len(words) * 4 // 3, "big")
        if hashlib.sha256(entropy).digest()[0] >> (8 - checksum_bits) == bits & ((1 << checksum_bits) - 1):
            return entropy
    raise InvalidKey("mnemonic checksum does not match (a word is wrong or out of order)")


def validate_mnemonic(mnemonic: str) -> str:
    """The normalised mnemonic, or InvalidKey saying what is wrong with it."""
    mnemonic_entropy(mnemonic)
    return normalize_mnemonic(mnemonic)


def mnemonic_to_seed(mnemonic: str, passphrase: str = "") -> bytes:
    """The 64-byte BIP-39 seed (PBKDF2-HMAC-SHA512, 2048 rounds, NFKD-normalised)."""
    return hashlib.pbkdf2_hmac("sha512", validate_mnemonic(mnemonic).encode(),
                               ("mnemonic" + unicodedata.normalize("NFKD", passphrase)).encode(), 2048)


def normalize_mnemonic(mnemonic: str) -> str:
    return " ".join(unicodedata.normalize("NFKD", mnemonic).split())


@cache
def _word_index(language: str) -> dict[str, int]:
    """NFKD-normalised word -> its index (the library's own lookup trips on lists stored in NFC)."""
    return {unicodedata.normalize("NFKD", w): i for i, w in enumerate(_wordlist(language).wordlist)}


@cache
def _wordlist(language: str) -> Mnemonic:
    if language not in LANGUAGES:
        raise InvalidKey(f"unknown BIP-39 language {language!r} (known: {', '.join(LANGUAGES)})")
    return Mnemonic(language)


# --- BIP-32 -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExtendedKey:
    """A BIP-32 node: a private key (or only a public one), its chain code and its place in the tree."""

    chain_code: bytes
    private_key: bytes | None
    public_key: bytes  # 33-byte compressed
    depth: int = 0
    parent_fingerprint: bytes = b"\0\0\0\0"
    index: int = 0

    @classmethod
    def from_seed(cls, seed: bytes) -> ExtendedKey:
        if not 16 <= len(seed) <= 64:
            raise InvalidKey(f"a BIP-32 seed is 16 to 64 bytes, not {len(seed)}")
        digest = hmac.new(b"Bitcoin seed", seed, hashlib.sha512).digest()
        key = digest[:32]
        if not 0 < int.from_bytes(key, "big") < SECP256K1_N:
            raise InvalidKey("seed gives an invalid master key; use another seed")
        return cls(digest[32:], key, PrivateKey(key).public_key.format())

    @property
    def fingerprint(self) -> bytes:
        return RIPEMD160.new(hashlib.sha256(self.public_key).digest()).digest()[:4]

    @property
    def address(self) -> str:
        from eth_utils import to_checksum_address
        return to_checksum_address(keccak(PublicKey(self.public_key).format(compressed=False)[1:])[-20:])

    def neuter(self) -> ExtendedKey:
        return ExtendedKey(self.chain_code, None, self.public_key, self.depth, self.parent_fingerprint, self.index)

    def child(self, index: int) -> ExtendedKey:
        if not 0 <= index < 2**32:
            raise InvalidKey(f"child index {index} is outside 0..2^32-1")
        if index >= HARDENED:
            if self.private_key is None:
                raise InvalidKey("a hardened child needs the private key; this is a public extended key")
            data = b"\0" + self.private_key + index.to_bytes(4, "big")
        else:
            data = self.public_key + index.to_bytes(4, "big")
        digest = hmac.new(self.chain_code, data, hashlib.sha512).digest()
        tweak, chain_code = digest[:32], digest[32:]
        if int.from_bytes(tweak, "big") >= SECP256K1_N:
            raise InvalidKey(f"child {index} is invalid (BIP-32: proceed with the next index)")
        if self.private_key is not None:
            key_int = (int.from_bytes(tweak, "big") + int.from_bytes(self.private_key, "big")) % SECP256K1_N
            if key_int == 0:
                raise InvalidKey(f"child {index} is invalid (BIP-32: proceed with the next index)")
            key = key_int.to_bytes(32, "big")
            public = PrivateKey(key).public_key.format()
        else:
            key = None
            public = PublicKey.combine_keys([PublicKey(self.public_key),
                                             PrivateKey(tweak).public_key]).format()
        return ExtendedKey(chain_code, key, public, self.depth + 1, self.fingerprint, index)

    def derive(self, path: str) -> ExtendedKey:
        node = self
        for index in parse_path(path):
            node = node.child(index)
        return node

    def serialize(self, private: bool = True) -> str:
        """The xprv (or xpub) string."""
        if private and self.private_key is None:
            raise InvalidKey("this extended key has no private part")
        version = XPRV_VERSION if private else XPUB_VERSION
        key = b"\0" + self.private_key if private and self.private_key else self.public_key
        payload = (version + bytes([self.depth]) + self.parent_fingerprint + self.index.to_bytes(4, "big")
                   + self.chain_code + key)
        return _b58check_encode(payload)

    @classmethod
    def parse(cls, text: str) -> ExtendedKey:
        """Parse an xprv/xpub, rejecting every malformed key BIP-32's vector 5 lists."""
        payload = _b58check_decode(text)
        if len(payload) != 78:
            raise InvalidKey(f"an extended key is 78 bytes, this one is {len(payload)}")
        version, depth, fingerprint = payload[:4], payload[4], payload[5:9]
        index, chain_code, key = int.from_bytes(payload[9:13], "big"), payload[13:45], payload[45:]
        if depth == 0 and fingerprint != b"\0\0\0\0":
            raise InvalidKey("zero depth with non-zero parent fingerprint")
        if depth == 0 and index != 0:
            raise InvalidKey("zero depth with non-zero index")
        if version == XPRV_VERSION:
            if key[0] != 0:
                raise InvalidKey(f"invalid private key prefix {key[0]:02x}")
            private = key[1:]
            if not 0 < int.from_bytes(private, "big") < SECP256K1_N:
                raise InvalidKey("private key not in 1..n-1")
            return cls(chain_code, private, PrivateKey(private).public_key.format(), depth, fingerprint, index)
        if version == XPUB_VERSION:
            if key[0] not in (2, 3):
                raise InvalidKey(f"invalid public key prefix {key[0]:02x}")
            try:
                PublicKey(key)
            except ValueError:
                raise InvalidKey(f"invalid public key {key.hex()}") from None
            return cls(chain_code, None, key, depth, fingerprint, index)
        raise InvalidKey(f"unknown extended key version {version.hex()}")


def parse_path(path: str) -> list[int]:
    """`m/44'/60'/0'/0/1` (also `h`/`H` for hardened) as child indices."""
    parts = path.strip().split("/")
    if not parts or parts[0] != "m":
        raise InvalidKey(f"derivation path {path!r} must start with 'm'")
    indices = []
    for part in parts[1:]:
        hardened = part[-1:] in ("'", "h", "H")
        digits = part[:-1] if hardened else part
        if not digits.isdigit() or int(digits) >= HARDENED:
            raise InvalidKey(f"bad path component {part!r} in {path!r}")
        indices.append(int(digits) + (HARDENED if hardened else 0))
    return indices


def account_path(index: int, base: str = ETHEREUM_PATH) -> str:
    return f"{base.rstrip('/')}/{index}"


def key_from_mnemonic(mnemonic: str, path: str = account_path(0), passphrase: str = "") -> bytes:
    node = ExtendedKey.from_seed(mnemonic_to_seed(mnemonic, passphrase)).derive(path)
    assert node.private_key is not None
    return node.private_key


def derive_addresses(mnemonic: str, count: int, base: str = ETHEREUM_PATH, passphrase: str = "",
                     start: int = 0) -> list[tuple[str, str]]:
    """(path, address) for `count` consecutive indices under `base`."""
    parent = ExtendedKey.from_seed(mnemonic_to_seed(mnemonic, passphrase)).derive(base)
    return [(account_path(i, base), parent.child(i).address) for i in range(start, start + count)]


def _b58check_encode(payload: bytes) -> str:
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _B58[rem] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def _b58check_decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _B58.find(char)
        if digit < 0:
            raise InvalidKey(f"{char!r} is not a base58 character")
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    data = b"\0" * (len(text) - len(text.lstrip("1"))) + body
    payload, checksum = data[:-4], data[-4:]
    if len(data) < 5 or hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise InvalidKey("invalid checksum")
    return payload

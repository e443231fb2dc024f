"""Block headers and receipts as plain records with exact RLP encodings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import rlp

from .hashing import keccak
from .trie import BLANK_ROOT, encode_bytes, encode_list, encode_uint

EMPTY_UNCLES_HASH = keccak(b"\xc0")
EMPTY_REQUESTS_HASH = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
ZERO_HASH = b"\x00" * 32
ZERO_ADDRESS = b"\x00" * 20
EMPTY_BLOOM = b"\x00" * 256


@dataclass(frozen=True, slots=True)
class Header:
    """A Prague block header (post-merge: no difficulty, nonce zero, no uncles)."""

    parent_hash: bytes
    coinbase: bytes
    state_root: bytes
    transactions_root: bytes
    receipts_root: bytes
    bloom: bytes
    number: int
    gas_limit: int
    gas_used: int
    timestamp: int
    base_fee: int
    extra_data: bytes = b""
    mix_hash: bytes = ZERO_HASH
    withdrawals_root: bytes = BLANK_ROOT
    blob_gas_used: int = 0
    excess_blob_gas: int = 0
    parent_beacon_root: bytes = ZERO_HASH
    requests_hash: bytes = EMPTY_REQUESTS_HASH
    fork_level: int = 2  # 0 shanghai, 1 cancun, 2 prague: which trailing fields exist

    def encode(self) -> bytes:
        tail = encode_bytes(self.withdrawals_root)
        if self.fork_level >= 1:
            tail += encode_uint(self.blob_gas_used) + encode_uint(self.excess_blob_gas)
            tail += encode_bytes(self.parent_beacon_root)
        if self.fork_level >= 2:
            tail += encode_bytes(self.requests_hash)
        return encode_list(
            encode_bytes(self.parent_hash)
            + encode_bytes(EMPTY_UNCLES_HASH)
            + encode_bytes(self.coinbase)
            + encode_bytes(self.state_root)
            + encode_bytes(self.transactions_root)
            + encode_bytes(self.receipts_root)
            + encode_bytes(self.bloom)
            + encode_uint(0)
            + encode_uint(self.number)
            + encode_uint(self.gas_limit)
            + encode_uint(self.gas_used)
            + encode_uint(self.timestamp)
            + encode_bytes(self.extra_data)
            + encode_bytes(self.mix_hash)
            + encode_bytes(b"\x00" * 8)
            + encode_uint(self.base_fee)
            + tail
        )

    @property
    def hash(self) -> bytes:
        return keccak(self.encode())

    @classmethod
    def decode(cls, data: bytes) -> "Header":
        f = rlp.decode(data)
        n = lambda b: int.from_bytes(b, "big")  # noqa: E731
        extra: dict[str, object] = {"fork_level": {17: 0, 20: 1, 21: 2}[len(f)]}
        if len(f) > 17:
            extra.update(blob_gas_used=n(f[17]), excess_blob_gas=n(f[18]), parent_beacon_root=f[19])
        if len(f) > 20:
            extra["requests_hash"] = f[20]
        return cls(
            parent_hash=f[0], coinbase=f[2], state_root=f[3], transactions_root=f[4], receipts_root=f[5],
            bloom=f[6], number=n(f[8]), gas_limit=n(f[9]), gas_used=n(f[10]), timestamp=n(f[11]),
            extra_data=f[12], mix_hash=f[13], base_fee=n(f[15]), withdrawals_root=f[16],
            **extra,  # type: ignore[arg-type]
        )

    def with_(self, **changes: object) -> "Header":
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Log:
    address: bytes
    topics: tuple[bytes, ...]
    data: bytes

    def encode(self) -> bytes:
        return encode_list(
            encode_bytes(self.address)
            + encode_list(b"".join(encode_bytes(t) for t in self.topics))
            + encode_bytes(self.data)
        )


@dataclass(frozen=True, slots=True)
class Receipt:
    tx_type: int
    status: int
    cumulative_gas: int
    logs: tuple[Log, ...]
    bloom: bytes

    def encode(self) -> bytes:
        """The consensus encoding (typed receipts are prefixed by their type)."""
        body = encode_list(
            encode_uint(self.status)
            + encode_uint(self.cumulative_gas)
            + encode_bytes(self.bloom)
            + encode_list(b"".join(log.encode() for log in self.logs))
        )
        return bytes((self.tx_type,)) + body if self.tx_type else body

    @classmethod
    def decode(cls, data: bytes) -> "Receipt":
        tx_type = 0
        if data[0] < 0x7F:
            tx_type, data = data[0], data[1:]
        status, cumulative, bloom, logs = rlp.decode(data)
        return cls(
            tx_type=tx_type,
            status=int.from_bytes(status, "big"),
            cumulative_gas=int.from_bytes(cumulative, "big"),
            logs=tuple(Log(address=a, topics=tuple(t), data=d) for a, t, d in logs),
            bloom=bloom,
        )


def logs_bloom(logs: tuple[Log, ...] | list[Log]) -> bytes:
    """The 2048-bit bloom of log addresses and topics (yellow paper M3:2048). Each distinct address or topic is
    hashed once (a settlement batch's hundred logs share their address and event topic), and bits are set in a
    byte array, not by growing a 2048-bit integer three times an item."""
    bloom = bytearray(256)
    seen: set[bytes] = set()
    for log in logs:
        for item in (log.address, *log.topics):
            if item in seen:
                continue
            seen.add(item)
            h = keccak(item)
            for i in (0, 2, 4):
                bit = ((h[i] << 8) | h[i + 1]) & 2047
                bloom[255 - (bit >> 3)] |= 1 << (bit & 7)
    return bytes(bloom)


def merged_bloom(blooms: Iterable[bytes]) -> bytes:
    """The union of blooms: a block's, from its receipts' (without hashing every log again)."""
    bits = 0
    for bloom in blooms:
        bits |= int.from_bytes(bloom, "big")
    return bits.to_bytes(256, "big")


def next_base_fee(parent: Header) -> int:
    """EIP-1559: move the base fee by up to 1/8 towards the half-full target."""
    target = parent.gas_limit // 2
    if target == 0 or parent.gas_used == target:
        return parent.base_fee
    if parent.gas_used > target:
        delta = parent.base_fee * (parent.gas_used - target) // target // 8
        return parent.base_fee + max(delta, 1)
    delta = parent.base_fee * (target - parent.gas_used) // target // 8
    return parent.base_fee - delta

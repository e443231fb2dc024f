"""Log blooms: the yellow paper's M3:2048 over each log's address and topics, per receipt and per block."""

from __future__ import annotations

import random

from chain.blocks import Log, logs_bloom, merged_bloom
from chain.hashing import keccak


def reference_bloom(logs: list[Log]) -> bytes:
    """M3:2048 as the yellow paper writes it: for every address and topic, three 11-bit indices from the first
    six bytes of its keccak, each setting one bit of a 2048-bit big-endian number."""
    bits = 0
    for log in logs:
        for item in (log.address, *log.topics):
            digest = keccak(item)
            for i in (0, 2, 4):
                bits |= 1 << (int.from_bytes(digest[i:i + 2], "big") % 2048)
    return bits.to_bytes(256, "big")


def random_logs(rng: random.Random, count: int) -> list[Log]:
    addresses = [rng.randbytes(20) for _ in range(3)]
    topics = [rng.randbytes(32) for _ in range(6)]
    return [Log(rng.choice(addresses), tuple(rng.choice(topics) if rng.random() < 0.5 else rng.randbytes(32)
                                             for _ in range(rng.randint(0, 4))), b"")
            for _ in range(count)]


def test_a_known_bloom() -> None:
    # an empty log list sets nothing; one log of the zero address and no topics sets exactly keccak(0x00*20)'s bits
    assert logs_bloom([]) == bytes(256)
    bloom = int.from_bytes(logs_bloom([Log(bytes(20), (), b"")]), "big")
    digest = keccak(bytes(20))
    assert bloom == sum({1 << (int.from_bytes(digest[i:i + 2], "big") & 2047) for i in (0, 2, 4)})


def test_blooms_match_the_definition_and_merge_per_block() -> None:
    rng = random.Random(7)
    for _ in range(200):
        receipts = [random_logs(rng, rng.randint(0, 12)) for _ in range(rng.randint(0, 5))]
        blooms = [logs_bloom(logs) for logs in receipts]
        assert blooms == [reference_bloom(logs) for logs in receipts]
        assert merged_bloom(blooms) == reference_bloom([log for logs in receipts for log in logs])

"""EIP-4844 blob transactions: the network form's sidecar split off and checked against the transaction's
versioned hashes (KZG blob proofs, or EIP-7594 cell proofs), and the blob gas market of each fork (EIP-4844,
EIP-7691's Prague schedule, EIP-7918's reserve price under Osaka)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rlp

from .errors import InvalidParams, TransactionRejected

GAS_PER_BLOB = 131_072
FIELD_ELEMENTS_PER_BLOB = 4_096
BLOB_SIZE = 32 * FIELD_ELEMENTS_PER_BLOB
CELLS_PER_EXT_BLOB = 128
VERSIONED_HASH_VERSION_KZG = 1
MIN_BLOB_BASE_FEE = 1
BLOB_BASE_COST = 2**13  # EIP-7918
MAX_BLOBS_PER_TX_OSAKA = 6  # EIP-7594


@dataclass(frozen=True)
class BlobSchedule:
    target: int
    max: int
    update_fraction: int


SCHEDULES = {
    "cancun": BlobSchedule(3, 6, 3_338_477),
    "prague": BlobSchedule(6, 9, 5_007_716),
    "osaka": BlobSchedule(6, 9, 5_007_716),
}


@dataclass(frozen=True)
class Sidecar:
    """The blobs a transaction carries on the network, with their commitments and proofs (version 0: one KZG
    proof per blob; version 1, EIP-7594: one proof per cell, 128 per blob)."""

    version: int
    blobs: tuple[bytes, ...]
    commitments: tuple[bytes, ...]
    proofs: tuple[bytes, ...]


def versioned_hash(commitment: bytes) -> bytes:
    return bytes((VERSIONED_HASH_VERSION_KZG,)) + hashlib.sha256(commitment).digest()[1:]


def split_network_form(raw: bytes) -> tuple[bytes, Sidecar | None]:
    """A type-3 encoding's canonical form (what its hash and blocks hold) and its sidecar, if it has one."""
    try:
        items = rlp.decode(raw[1:])
    except Exception as exc:
        raise InvalidParams(f"could not decode blob transaction: {exc}") from None
    if not isinstance(items, list) or not items or not isinstance(items[0], list):
        return raw, None  # the canonical form: the transaction alone
    if len(items) == 4:
        body, blobs, commitments, proofs = items
        version = 0
    elif len(items) == 5:
        body, version_bytes, blobs, commitments, proofs = items
        version = int.from_bytes(version_bytes, "big") if isinstance(version_bytes, bytes) else -1
        if version != 1:
            raise InvalidParams(f"invalid blob transaction: unknown sidecar version {version}")
    else:
        raise InvalidParams("invalid blob transaction: the network form is [tx, blobs, commitments, proofs] or "
                            "[tx, 1, blobs, commitments, cell proofs]")
    for name, value in (("blobs", blobs), ("commitments", commitments), ("proofs", proofs)):
        if not isinstance(value, list) or not all(isinstance(v, bytes) for v in value):
            raise InvalidParams(f"invalid blob transaction: {name} must be a list of byte strings")
    return b"\x03" + rlp.encode(body), Sidecar(version, tuple(blobs), tuple(commitments), tuple(proofs))


_setup: Any = None
_setup_lock = threading.Lock()


def trusted_setup() -> Any:
    """The KZG ceremony's trusted setup (the one py-evm's point-evaluation precompile uses), loaded once."""
    global _setup
    with _setup_lock:
        if _setup is None:
            import ckzg
            import eth

            path = Path(eth.__file__).parent / "_utils" / "kzg_trusted_setup.txt"
            _setup = ckzg.load_trusted_setup(str(path), 0)
        return _setup


def verify_sidecar(sidecar: Sidecar, hashes: tuple[bytes, ...]) -> None:
    """The sidecar matches the transaction's versioned hashes and every proof checks, or say what does not."""
    import ckzg

    count = len(hashes)
    if len(sidecar.blobs) != count or len(sidecar.commitments) != count:
        raise TransactionRejected(f"invalid blob transaction: {count} versioned hashes but {len(sidecar.blobs)} "
                                  f"blobs and {len(sidecar.commitments)} commitments")
    per_blob = 1 if sidecar.version == 0 else CELLS_PER_EXT_BLOB
    if len(sidecar.proofs) != count * per_blob:
        raise TransactionRejected(f"invalid blob transaction: {len(sidecar.proofs)} proofs for {count} blobs, "
                                  f"expected {count * per_blob}")
    for i, (blob, commitment) in enumerate(zip(sidecar.blobs, sidecar.commitments)):
        if len(blob) != BLOB_SIZE:
            raise TransactionRejected(f"invalid blob transaction: blob {i} is {len(blob)} bytes, not {BLOB_SIZE}")
        if len(commitment) != 48:
            raise TransactionRejected(f"invalid blob transaction: commitment {i} is not 48 bytes")
        if versioned_hash(commitment) != hashes[i]:
            raise TransactionRejected(f"invalid blob transaction: commitment {i} does not match versioned hash "
                                      f"0x{hashes[i].hex()}")
    if any(len(proof) != 48 for proof in sidecar.proofs):
        raise TransactionRejected("invalid blob transaction: a proof is not 48 bytes")
    setup = trusted_setup()
    try:
        if sidecar.version == 0:
            valid = ckzg.verify_blob_kzg_proof_batch(b"".join(sidecar.blobs), b"".join(sidecar.commitments),
                                                     b"".join(sidecar.proofs), setup)
        else:
            cells = [cell for blob in sidecar.blobs for cell in ckzg.compute_cells(blob, setup)]
            commitments = [c for c in sidecar.commitments for _ in range(CELLS_PER_EXT_BLOB)]
            indices = list(range(CELLS_PER_EXT_BLOB)) * count
            valid = ckzg.verify_cell_kzg_proof_batch(commitments, indices, cells, list(sidecar.proofs), setup)
    except Exception as exc:  # a blob that is not field elements, a point not on the curve
        raise TransactionRejected(f"invalid blob transaction: {exc}") from None
    if not valid:
        raise TransactionRejected("invalid blob transaction: the KZG proofs do not verify")


def fake_exponential(factor: int, numerator: int, denominator: int) -> int:
    """EIP-4844's integer approximation of factor * e ** (numerator / denominator)."""
    i, output, accumulator = 1, 0, factor * denominator
    while accumulator > 0:
        output += accumulator
        accumulator = (accumulator * numerator) // (denominator * i)
        i += 1
    return output // denominator


def blob_base_fee(excess_blob_gas: int, fork: str) -> int:
    schedule = SCHEDULES.get(fork)
    if schedule is None:
        return 0
    return fake_exponential(MIN_BLOB_BASE_FEE, excess_blob_gas, schedule.update_fraction)


def next_excess_blob_gas(parent_excess: int, parent_used: int, parent_base_fee: int, fork: str) -> int:
    """The excess blob gas of the block after a parent (EIP-4844; EIP-7918's reserve price under Osaka)."""
    schedule = SCHEDULES.get(fork)
    if schedule is None:
        return 0
    target = schedule.target * GAS_PER_BLOB
    if parent_excess + parent_used < target:
        return 0
    if fork == "osaka" and BLOB_BASE_COST * parent_base_fee > GAS_PER_BLOB * blob_base_fee(parent_excess, fork):
        return parent_excess + parent_used * (schedule.max - schedule.target) // schedule.max
    return parent_excess + parent_used - target


def max_blobs_per_block(fork: str) -> int:
    schedule = SCHEDULES.get(fork)
    return schedule.max if schedule is not None else 0


def check_blob_count(count: int, fork: str) -> None:
    if count == 0:
        raise TransactionRejected("invalid blob transaction: it carries no blobs")
    limit = MAX_BLOBS_PER_TX_OSAKA if fork == "osaka" else max_blobs_per_block(fork)
    if count > limit:
        raise TransactionRejected(f"invalid blob transaction: {count} blobs, at most {limit} per transaction "
                                  f"under {fork}")

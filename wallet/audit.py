"""An append-only, hash-chained audit log (JSON lines) of every signing request, decision and signature.

Each line is `{"seq", "time", ..., "prev", "hash"}` where `hash = sha256(prev || canonical JSON of the entry
without "hash")`, so editing, removing or reordering a line breaks the chain. The newest `seq` and `hash` are also
kept in `<log>.head` (written atomically after each append), which catches lines cut from the end; for more,
copy the head hash somewhere the signer's host cannot write.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AuditLogError
from .files import write_atomic

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditHead:
    seq: int
    hash: str


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(entry.get("prev", "").encode() + canonical).hexdigest()


class AuditLog:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self.head = verify(self.path)
        else:
            recorded = _read_head(self.head_path)
            if recorded is not None and recorded.seq > 0:
                raise AuditLogError(0, f"{self.path} is missing but {self.head_path} records {recorded.seq} "
                                       "line(s): the log was deleted, and with it the 24-hour limits it counts")
            self.head = AuditHead(0, GENESIS)
        if self.head.seq:
            self._write_head()

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Write one entry durably (fsync) and return it with its seq, prev and hash."""
        with self._lock:
            entry = {**record, "seq": self.head.seq + 1, "prev": self.head.hash}
            entry["hash"] = entry_hash(entry)
            line = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            self.head = AuditHead(entry["seq"], entry["hash"])
            self._write_head()
            return entry

    def _write_head(self) -> None:
        write_atomic(self.head_path, json.dumps({"seq": self.head.seq, "hash": self.head.hash}).encode())

    def entries(self) -> Iterator[dict[str, Any]]:
        if self.path.exists():
            yield from read_entries(self.path)


def read_entries(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                entry = json.loads(raw)
            except ValueError:
                raise AuditLogError(number, "not a JSON line") from None
            if not isinstance(entry, dict):
                raise AuditLogError(number, "not a JSON object")
            yield entry


def verify(path: Path | str, expected_head: str | None = None) -> AuditHead:
    """The head of a log whose every line chains to the one before; AuditLogError naming the first bad line."""
    path = Path(path)
    if not path.exists():
        raise AuditLogError(0, f"{path} does not exist")
    head = _read_head(path.with_name(path.name + ".head"))
    prev, seq = GENESIS, 0
    for number, entry in enumerate(read_entries(path), 1):
        if entry.get("prev") != prev:
            raise AuditLogError(number, "does not follow the line before (a line was removed, inserted or reordered)")
        if entry.get("seq") != seq + 1:
            raise AuditLogError(number, f"sequence {entry.get('seq')} where {seq + 1} was expected")
        if entry.get("hash") != entry_hash(entry):
            raise AuditLogError(number, "hash does not match the content (the line was edited)")
        prev, seq = entry["hash"], entry["seq"]
        if head is not None and seq == head.seq and prev != head.hash:
            raise AuditLogError(number, "line does not match the head file (the log was rewritten)")
    # The head may lag the log by the line being appended when the signer died; it may never be ahead of it.
    if head is not None and head.seq > seq:
        raise AuditLogError(seq, f"log ends at line {seq} but its head file records line {head.seq} "
                                 "(lines were cut from the end)")
    if expected_head is not None and expected_head != prev:
        raise AuditLogError(seq, f"head hash {prev} is not the expected {expected_head}")
    return AuditHead(seq, prev)


def _read_head(path: Path) -> AuditHead | None:
    if not path.exists():
        return None
    try:
        head = json.loads(path.read_bytes())
        return AuditHead(int(head["seq"]), str(head["hash"]))
    except (ValueError, KeyError, TypeError):
        raise AuditLogError(0, f"{path} is not a valid head file") from None

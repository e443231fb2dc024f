"""Log queries, polling filters (eth_newFilter...) and their bookkeeping."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import InvalidParams, LimitExceeded, ResourceNotFound
from .rpc import params as p

MAX_LOG_RANGE = 100_000


@dataclass(frozen=True)
class LogQuery:
    from_block: p.BlockRef
    to_block: p.BlockRef
    block_hash: bytes | None
    addresses: tuple[bytes, ...]
    topics: tuple[tuple[bytes, ...] | None, ...]  # None matches anything at that position

    def as_json(self) -> dict[str, Any]:
        """The address and topic criteria as a JSON-RPC filter object (for a fork's remote)."""
        return {"address": ["0x" + a.hex() for a in self.addresses],
                "topics": [None if t is None else ["0x" + x.hex() for x in t] for t in self.topics]}

    def matches(self, address: bytes, topics: tuple[bytes, ...]) -> bool:
        if self.addresses and address not in self.addresses:
            return False
        if len(self.topics) > len(topics):
            return False
        for want, have in zip(self.topics, topics, strict=False):  # topics may be longer
            if want is not None and have not in want:
                return False
        return True


def log_query(value: Any, name: str = "filter") -> LogQuery:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidParams(f"invalid {name}: expected a filter object")
    raw_address = value.get("address")
    if raw_address is None:
        addresses: tuple[bytes, ...] = ()
    elif isinstance(raw_address, list):
        addresses = tuple(p.address(a, f"{name}.address") for a in raw_address)
    else:
        addresses = (p.address(raw_address, f"{name}.address"),)
    topics: list[tuple[bytes, ...] | None] = []
    raw_topics = value.get("topics") or []
    if not isinstance(raw_topics, list):
        raise InvalidParams(f"invalid {name}.topics: expected a list")
    if len(raw_topics) > 4:
        raise InvalidParams(f"invalid {name}.topics: at most 4 positions")
    for i, t in enumerate(raw_topics):
        if t is None:
            topics.append(None)
        elif isinstance(t, list):
            topics.append(tuple(p.hash32(x, f"{name}.topics[{i}]") for x in t) or None)
        else:
            topics.append((p.hash32(t, f"{name}.topics[{i}]"),))
    block_hash = None
    if value.get("blockHash") is not None:
        if value.get("fromBlock") is not None or value.get("toBlock") is not None:
            raise InvalidParams(f"invalid {name}: blockHash excludes fromBlock/toBlock")
        block_hash = p.hash32(value["blockHash"], f"{name}.blockHash")
    return LogQuery(
        from_block=p.block_ref(value.get("fromBlock"), f"{name}.fromBlock"),
        to_block=p.block_ref(value.get("toBlock"), f"{name}.toBlock"),
        block_hash=block_hash, addresses=addresses, topics=tuple(topics),
    )


@dataclass
class Filter:
    kind: str  # "logs", "blocks" or "pending"
    query: LogQuery | None = None
    changes: list[Any] = field(default_factory=list)
    last_used: float = 0.0  # monotonic time of install or last poll


class Filters:
    """Installed polling filters; the node feeds them new blocks, logs and pending hashes.

    As geth's, a filter nobody polls for `ttl` seconds (5 minutes) is removed, and at most `cap` are installed at
    once, so clients that open filters and walk away cannot grow the node without bound. `clock` is injectable
    for tests.
    """

    MAX_BUFFER = 10_000  # changes kept per filter between polls (the oldest go first)
    TTL = 300.0
    CAP = 20_000

    def __init__(self, ttl: float = TTL, cap: int = CAP, clock: Callable[[], float] = time.monotonic) -> None:
        self._filters: dict[str, Filter] = {}
        self._ids = itertools.count(1)
        self.ttl, self.cap, self.clock = ttl, cap, clock

    def __len__(self) -> int:
        return len(self._filters)

    def expire(self) -> int:
        """Remove filters unused for longer than the TTL; how many went."""
        deadline = self.clock() - self.ttl
        stale = [fid for fid, f in self._filters.items() if f.last_used < deadline]
        for fid in stale:
            del self._filters[fid]
        return len(stale)

    def install(self, kind: str, query: LogQuery | None = None) -> str:
        self.expire()
        if len(self._filters) >= self.cap:
            raise LimitExceeded(f"too many filters: at most {self.cap} at once (unused ones expire after "
                                f"{int(self.ttl)} s; eth_uninstallFilter removes one)")
        filter_id = hex(next(self._ids))
        self._filters[filter_id] = Filter(kind, query, last_used=self.clock())
        return filter_id

    def uninstall(self, filter_id: str) -> bool:
        return self._filters.pop(filter_id, None) is not None

    def get(self, filter_id: str) -> Filter:
        found = self._filters.get(filter_id)
        if found is None or found.last_used < self.clock() - self.ttl:
            self._filters.pop(filter_id, None)
            raise ResourceNotFound(f"filter {filter_id} not found")
        found.last_used = self.clock()
        return found

    def take(self, filter_id: str) -> list[Any]:
        found = self.get(filter_id)
        out, found.changes = found.changes, []
        return out

    def on_block(self, block_hash_hex: str, logs: list[tuple[bytes, tuple[bytes, ...], dict[str, Any]]]) -> None:
        self.expire()
        for f in self._filters.values():
            if f.kind == "blocks":
                f.changes.append(block_hash_hex)
            elif f.kind == "logs" and f.query is not None:
                f.changes.extend(obj for address, topics, obj in logs if f.query.matches(address, topics))
            del f.changes[:-self.MAX_BUFFER]

    def on_pending(self, tx_hash_hex: str) -> None:
        for f in self._filters.values():
            if f.kind == "pending":
                f.changes.append(tx_hash_hex)
                del f.changes[:-self.MAX_BUFFER]

    def clear(self) -> None:
        self._filters.clear()

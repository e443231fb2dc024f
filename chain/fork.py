"""Forking: a local chain on top of another node's block.

`bourse node --fork-url URL [--fork-block-number N]` starts the chain at the remote's block N (latest by
default): that block's number, hash, timestamp, base fee and gas limit, and its state, read lazily. An account,
its code or a storage slot is fetched from the remote at block N the first time anything reads it, then kept:
in the live state (so execution never waits on the network twice) and in the SQLite store (so a node with
`--data-dir` does not fetch it again after a restart). Whatever the local chain writes is local from then on.
Blocks, transactions, receipts and logs up to block N, and state at blocks before N, are the remote's, asked for
when wanted. A remote that fails or is too slow gives a -32000 error naming its URL, never a hang.

State roots of local blocks cover the state this node has seen, not the remote's whole state.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Callable

from .errors import ChainError
from .hashing import keccak
from .state import EMPTY_CODE_HASH, Account

DEFAULT_TIMEOUT = 30.0
_BLOCK_CACHE = 1_024


class ForkError(ChainError):
    """The forked node could not answer: -32000, naming it."""

    code = -32000


class Remote:
    """JSON-RPC over HTTP to the forked node: a timeout on every request, batches for account reads."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"invalid fork URL {url!r}: expected http:// or https://")
        self.url, self.timeout = url, timeout
        self.requests = 0  # how many HTTP requests went out (tests check the cache with it)
        self._ids = 0
        self._lock = threading.Lock()

    def call(self, method: str, params: list[Any]) -> Any:
        return self.batch([(method, params)])[0]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        with self._lock:
            self._ids += len(calls)
            first = self._ids - len(calls)
            self.requests += 1
        body = [{"jsonrpc": "2.0", "id": first + i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        payload = json.dumps(body if len(body) > 1 else body[0]).encode()
        request = urllib.request.Request(self.url, payload, {"Content-Type": "application/json"})
        what = calls[0][0] if len(calls) == 1 else f"{len(calls)} requests"
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise ForkError(f"fork: {self.url} answered {what} with HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or "timed out" in str(reason):
                reason = f"no answer within {self.timeout:g} s"
            raise ForkError(f"fork: {self.url} did not answer {what}: {reason}") from None
        try:
            replies = json.loads(raw)
        except ValueError:
            raise ForkError(f"fork: {self.url} answered {what} with something that is not JSON") from None
        if isinstance(replies, dict):
            replies = [replies]
        if not isinstance(replies, list) or len(replies) != len(calls):
            raise ForkError(f"fork: {self.url} answered {what} with a malformed JSON-RPC reply")
        by_id = {r.get("id"): r for r in replies if isinstance(r, dict)}
        out = []
        for i, (method, _params) in enumerate(calls):
            reply = by_id.get(first + i)
            if reply is None:
                raise ForkError(f"fork: {self.url} left {method} unanswered")
            if "error" in reply:
                error = reply["error"] if isinstance(reply["error"], dict) else {"message": str(reply["error"])}
                raise ForkError(f"fork: {self.url} refused {method}: {error.get('message', error)}")
            out.append(reply.get("result"))
        return out


@dataclass(frozen=True)
class ForkPoint:
    """The remote block the local chain starts from."""

    url: str
    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int
    base_fee: int
    gas_limit: int
    chain_id: int

    def to_meta(self) -> bytes:
        return json.dumps({"url": self.url, "number": self.number, "hash": self.hash.hex(),
                           "parent_hash": self.parent_hash.hex(), "timestamp": self.timestamp,
                           "base_fee": self.base_fee, "gas_limit": self.gas_limit,
                           "chain_id": self.chain_id}).encode()

    @classmethod
    def from_meta(cls, raw: bytes) -> ForkPoint:
        d = json.loads(raw)
        return cls(url=d["url"], number=d["number"], hash=bytes.fromhex(d["hash"]),
                   parent_hash=bytes.fromhex(d["parent_hash"]), timestamp=d["timestamp"], base_fee=d["base_fee"],
                   gas_limit=d["gas_limit"], chain_id=d["chain_id"])


def open_fork(remote: Remote, block_number: int | None) -> ForkPoint:
    """Read the fork block (the remote's latest when no number is given) and the remote's chain id."""
    tag = "latest" if block_number is None else hex(block_number)
    block, chain_id = remote.batch([("eth_getBlockByNumber", [tag, False]), ("eth_chainId", [])])
    if block is None:
        raise ForkError(f"fork: {remote.url} has no block {block_number}")
    return ForkPoint(url=remote.url, number=int(block["number"], 16), hash=_b(block["hash"]),
                     parent_hash=_b(block["parentHash"]), timestamp=int(block["timestamp"], 16),
                     base_fee=int(block.get("baseFeePerGas") or "0x0", 16), gas_limit=int(block["gasLimit"], 16),
                     chain_id=int(chain_id, 16))


class RemoteState:
    """The forked state a LiveState has not seen yet: fetched at the fork block on first read, then local.

    `seen` holds what is settled locally: accounts (20-byte keys) and slots (52-byte keys) fetched or written
    here, and accounts whose storage the local chain wiped (21-byte keys) - those read nothing more remotely.
    `keep(markers, (address, account, code) or None, (address, slot, value) or None)` stores what was read
    durably (the node's SQLite store).
    """

    def __init__(self, remote: Remote, number: int, seen: set[bytes], keep: Callable[..., None]) -> None:
        self.remote, self.number, self.seen, self.keep = remote, number, seen, keep

    def account(self, address: bytes) -> tuple[Account | None, bytes]:
        """The account at the fork block and its code; None for an account that does not exist there."""
        block = hex(self.number)
        addr = "0x" + address.hex()
        balance, nonce, code = self.remote.batch([("eth_getBalance", [addr, block]),
                                                  ("eth_getTransactionCount", [addr, block]),
                                                  ("eth_getCode", [addr, block])])
        raw_code = _b(code)
        account = (int(nonce, 16), int(balance, 16), keccak(raw_code) if raw_code else EMPTY_CODE_HASH)
        exists = account[0] or account[1] or raw_code
        return (account if exists else None), raw_code

    def slot(self, address: bytes, slot: int) -> int:
        value = self.remote.call("eth_getStorageAt", ["0x" + address.hex(), hex(slot), hex(self.number)])
        return int(value, 16)

    def mark(self, key: bytes) -> None:
        self.seen.add(key)


class RemoteBlocks:
    """Blocks, transactions, receipts and logs at or before the fork block: the remote's, cached in memory."""

    def __init__(self, remote: Remote, point: ForkPoint) -> None:
        self.remote, self.point = remote, point
        self._blocks: dict[tuple[int, bool], Any] = {}

    def block(self, number: int, full: bool) -> Any:
        key = (number, full)
        if key not in self._blocks:
            if len(self._blocks) >= _BLOCK_CACHE:
                self._blocks.clear()
            self._blocks[key] = self.remote.call("eth_getBlockByNumber", [hex(number), full])
        return self._blocks[key]

    def block_by_hash(self, block_hash: bytes, full: bool) -> Any:
        found = self.remote.call("eth_getBlockByHash", ["0x" + block_hash.hex(), full])
        return found if found is not None and int(found["number"], 16) <= self.point.number else None

    def hash_of(self, number: int) -> bytes:
        found = self.block(number, False)
        return _b(found["hash"]) if found else b"\x00" * 32

    def transaction(self, tx_hash: bytes) -> Any:
        return self._before_fork(self.remote.call("eth_getTransactionByHash", ["0x" + tx_hash.hex()]))

    def receipt(self, tx_hash: bytes) -> Any:
        return self._before_fork(self.remote.call("eth_getTransactionReceipt", ["0x" + tx_hash.hex()]))

    def logs(self, flt: dict[str, Any], start: int, end: int) -> list[Any]:
        query = {k: v for k, v in flt.items() if k not in ("fromBlock", "toBlock", "blockHash")}
        query.update(fromBlock=hex(start), toBlock=hex(end))
        return self.remote.call("eth_getLogs", [query]) or []

    def _before_fork(self, found: Any) -> Any:
        if found is None or found.get("blockNumber") is None:
            return None
        return found if int(found["blockNumber"], 16) <= self.point.number else None


class RemoteReader:
    """State at a block before the fork block, read from the remote each time (not cached: rarely wanted)."""

    def __init__(self, remote: Remote, number: int) -> None:
        self.remote, self.number = remote, number
        self._codes: dict[bytes, bytes] = {}

    def account(self, address: bytes) -> Account | None:
        state = RemoteState(self.remote, self.number, set(), lambda *_: None)
        account, code = state.account(address)
        if account is not None:
            self._codes[account[2]] = code
        return account

    def storage(self, address: bytes, slot: int) -> int:
        return RemoteState(self.remote, self.number, set(), lambda *_: None).slot(address, slot)

    def code(self, code_hash: bytes) -> bytes:
        return self._codes.get(code_hash, b"")


class LazyHashes:
    """The 256 block hashes BLOCKHASH may read in block `next_number`: the recent ones given first, then older ones
    asked of `blocks` (anything with `hash_of(number)`: the backend, which knows stored blocks and, on a fork, asks
    the remote for those before it) on demand."""

    def __init__(self, local: list[bytes], next_number: int, blocks: Any) -> None:
        self.local, self.next_number, self.blocks = local, next_number, blocks

    def __iter__(self) -> Any:
        yield from self.local
        number = self.next_number - 1 - len(self.local)
        for _ in range(256 - len(self.local)):
            if number < 0:
                return
            yield self.blocks.hash_of(number)
            number -= 1


def _b(value: Any) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) and value.startswith("0x") else b""

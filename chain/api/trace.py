"""trace_*: Parity/OpenEthereum-style traces (what ape's `ape.reverts` and block explorers read) built from the
same call trees as debug_traceTransaction's callTracer."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidParams, ResourceNotFound
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.registry import rpc
from ..tracing.calls import CallTracer, flat_json
from ..tracing.prestate import PrestateTracer
from ..tracing.replay import Traced, replay_block, replay_transaction

TRACE_TYPES = {"trace", "stateDiff", "vmTrace"}
MAX_FILTER_BLOCKS = 10_000


class TraceApi:
    def __init__(self, node: Node) -> None:
        self.node = node

    @rpc("trace_transaction")
    def trace_transaction(self, params: Any) -> list[dict[str, Any]]:
        """Every call frame of a mined transaction, flat, with its trace address."""
        (tx_hash,) = p.positional(params, 1, 1, "trace_transaction")
        h = p.hash32(tx_hash, "transaction hash")
        with self.node.lock:
            if self.node.storage.tx(h) is None:
                raise ResourceNotFound(f"transaction {fmt.hb(h)} not found")
            tracer = CallTracer()
            traced = replay_transaction(self.node, h, tracer)
            return self._flat(tracer, traced)

    @rpc("trace_block")
    def trace_block(self, params: Any) -> list[dict[str, Any]]:
        """The flat traces of every transaction in a block."""
        (block,) = p.positional(params, 1, 1, "trace_block")
        with self.node.lock:
            number = self._number(block)
            return [entry for tracer, traced in self._replay(number) for entry in self._flat(tracer, traced)]

    @rpc("trace_replayBlockTransactions")
    def replay_block_transactions(self, params: Any) -> list[dict[str, Any]]:
        """Per transaction: its output, and the `trace` and/or `stateDiff` asked for (vmTrace is answered null)."""
        block, kinds = p.positional(params, 2, 2, "trace_replayBlockTransactions")
        wanted = _kinds(kinds)
        with self.node.lock:
            number = self._number(block)
            tracers: dict[int, tuple[CallTracer, PrestateTracer]] = {}

            def tracer_for(index: int, _tx: Any) -> Any:
                tracers[index] = (CallTracer(), PrestateTracer({"diffMode": True}))
                return _Both(*tracers[index])

            out = []
            for traced in replay_block(self.node, number, tracer_for):
                calls, prestate = tracers[traced.index]  # type: ignore[index]
                out.append({
                    "output": "0x" + bytes(traced.computation.output).hex(),
                    "stateDiff": state_diff(prestate.result(traced.overlay, traced.sender, traced.to,
                                                            self._coinbase(number)))
                    if "stateDiff" in wanted else None,
                    "trace": [_strip(e) for e in self._flat(calls, traced)] if "trace" in wanted else [],
                    "vmTrace": None,
                    "transactionHash": fmt.hb(traced.tx_hash) if traced.tx_hash else None,
                })
            return out

    @rpc("trace_filter")
    def trace_filter(self, params: Any) -> list[dict[str, Any]]:
        """Traces of a block range, filtered by fromAddress/toAddress, paged with after/count."""
        (query,) = p.positional(params, 1, 1, "trace_filter")
        if not isinstance(query, dict):
            raise InvalidParams("invalid filter: expected an object")
        with self.node.lock:
            head = self.node.backend.head.number
            start = self._number(query.get("fromBlock", "earliest"))
            end = self._number(query.get("toBlock", "latest"))
            if start > end:
                raise InvalidParams(f"invalid filter: fromBlock {start} is after toBlock {end}")
            if end - start > MAX_FILTER_BLOCKS:
                raise InvalidParams(f"invalid filter: at most {MAX_FILTER_BLOCKS} blocks per query")
            senders = _addresses(query.get("fromAddress"), "fromAddress")
            targets = _addresses(query.get("toAddress"), "toAddress")
            after = _count(query.get("after"), "after", 0)
            count = _count(query.get("count"), "count", None)
            found: list[dict[str, Any]] = []
            for number in range(max(start, 1), min(end, head) + 1):
                for tracer, traced in self._replay(number):
                    for entry in self._flat(tracer, traced):
                        action = entry["action"]
                        sender = action.get("from") or action.get("address")
                        target = action.get("to") or (entry.get("result") or {}).get("address") \
                            or action.get("refundAddress")
                        if senders is not None and sender not in senders:
                            continue
                        if targets is not None and target not in targets:
                            continue
                        found.append(entry)
            found = found[after:]
            return found if count is None else found[:count]

    def _replay(self, number: int) -> list[tuple[CallTracer, Traced]]:
        tracers: dict[int, CallTracer] = {}

        def tracer_for(index: int, _tx: Any) -> CallTracer:
            tracers[index] = CallTracer()
            return tracers[index]

        return [(tracers[t.index], t) for t in replay_block(self.node, number, tracer_for)]  # type: ignore[index]

    def _flat(self, tracer: CallTracer, traced: Traced) -> list[dict[str, Any]]:
        found = self.node.storage.block_by_number(traced.block)
        tree = tracer.tree(traced.gas_limit, traced.gas_used)
        root_frame = tracer.root
        if root_frame is not None:
            tree.gas_used = root_frame.gas_used  # Parity reports the frame's own gas, not the receipt's
        return flat_json(tree, {"blockHash": fmt.hb(found[1]) if found else None, "blockNumber": traced.block,
                                "transactionHash": fmt.hb(traced.tx_hash) if traced.tx_hash else None,
                                "transactionPosition": traced.index})

    def _number(self, value: Any) -> int:
        ref = p.block_ref(value)
        backend = self.node.backend
        return backend.resolve_hash(ref.hash) if ref.hash is not None else backend.resolve_block(ref.tag)  # type: ignore[arg-type]

    def _coinbase(self, number: int) -> bytes:
        found = self.node.storage.block_by_number(number)
        return found[0].coinbase if found is not None else self.node.backend.coinbase


class _Both(CallTracer):
    """A call tracer that also feeds a prestate tracer (one replay for trace and stateDiff)."""

    def __init__(self, calls: CallTracer, prestate: PrestateTracer) -> None:
        self._calls, self._prestate = calls, prestate
        self.wants_steps = calls.wants_steps

    def before_transaction(self, overlay: Any) -> None:
        self._prestate.before_transaction(overlay)

    def enter(self, frame: Any) -> None:
        self._calls.enter(frame)
        self._prestate.enter(frame)

    def step(self, frame: Any, pc: int, op: int, gas: int) -> None:
        self._calls.step(frame, pc, op, gas)


def state_diff(diff: dict[str, Any]) -> dict[str, Any]:
    """Parity's stateDiff from a prestate diff: "=" unchanged, {"*": {from, to}} changed, "+"/"-" created/removed."""
    out: dict[str, Any] = {}
    pre, post = diff["pre"], diff["post"]
    for address in sorted(set(pre) | set(post)):
        old, new = pre.get(address), post.get(address)
        if old is None:
            out[address] = {"balance": {"+": new.get("balance", "0x0")}, "nonce": {"+": hex(new.get("nonce", 0))},
                            "code": {"+": new.get("code", "0x")},
                            "storage": {k: {"+": v} for k, v in new.get("storage", {}).items()}}
            continue
        if address not in post:
            out[address] = {"balance": {"-": old.get("balance", "0x0")}, "nonce": {"-": hex(old.get("nonce", 0))},
                            "code": {"-": old.get("code", "0x")},
                            "storage": {k: {"-": v} for k, v in old.get("storage", {}).items()}}
            continue
        entry: dict[str, Any] = {}
        for field, default in (("balance", "0x0"), ("nonce", 0), ("code", "0x")):
            if field in new:
                before, after = old.get(field, default), new[field]
                if field == "nonce":
                    before, after = hex(before), hex(after)
                entry[field] = {"*": {"from": before, "to": after}}
            else:
                entry[field] = "="
        entry["storage"] = {k: {"*": {"from": old.get("storage", {}).get(k, "0x" + "00" * 32), "to": v}}
                            for k, v in new.get("storage", {}).items()}
        out[address] = entry
    return out


def _strip(entry: dict[str, Any]) -> dict[str, Any]:
    """A trace inside trace_replayBlockTransactions carries no block or transaction fields."""
    return {k: v for k, v in entry.items() if k not in ("blockHash", "blockNumber", "transactionHash",
                                                       "transactionPosition")}


def _kinds(value: Any) -> set[str]:
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise InvalidParams("invalid trace types: expected a list like [\"trace\", \"stateDiff\"]")
    unknown = set(value) - TRACE_TYPES
    if unknown:
        raise InvalidParams(f"invalid trace type {sorted(unknown)[0]!r} (known: {', '.join(sorted(TRACE_TYPES))})")
    return set(value)


def _addresses(value: Any, name: str) -> set[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidParams(f"invalid {name}: expected a list of addresses")
    return {fmt.addr(p.address(a, name)).lower() for a in value}


def _count(value: Any, name: str, default: int | None) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParams(f"invalid {name}: expected a non-negative integer")
    return value

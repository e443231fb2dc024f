"""debug_*: geth's tracing API (struct logger, callTracer, flatCallTracer, prestateTracer, 4byteTracer,
noopTracer) over re-executed transactions, blocks and calls; raw transactions and code by hash."""

from __future__ import annotations

import re
import time
from typing import Any

from ..errors import InvalidParams, ResourceNotFound
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.registry import rpc
from ..tracing.calls import CallTracer, call_json, flat_json, four_byte
from ..tracing.hooks import Tracer
from ..tracing.prestate import PrestateTracer
from ..tracing.replay import Traced, replay_block, replay_transaction, trace_call
from ..tracing.struct_log import StructLogger
from .transact import call_context

TRACERS = ("callTracer", "flatCallTracer", "prestateTracer", "4byteTracer", "noopTracer")
STRUCT_OPTIONS = {"disableStack", "disableStorage", "enableMemory", "enableReturnData", "limit", "debug"}
CONFIG_KEYS = {"callTracer": {"onlyTopCall", "withLog"}, "flatCallTracer": {"convertParityErrors",
                                                                          "includePrecompiles"},
               "prestateTracer": {"diffMode", "disableCode", "disableStorage"}, "4byteTracer": set(),
               "noopTracer": set()}
BLOCK_OVERRIDES = {"number": "number", "time": "timestamp", "gasLimit": "gas_limit", "baseFee": "base_fee",
                   "feeRecipient": "coinbase", "coinbase": "coinbase"}
DEFAULT_TIMEOUT = 5.0
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")


class TraceRequest:
    """What the options ask for, checked at the edge: the tracer, its config and the timeout."""

    def __init__(self, options: Any) -> None:
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise InvalidParams("invalid tracer options: expected an object")
        self.name = options.get("tracer")
        if self.name is not None and self.name not in TRACERS:
            raise InvalidParams(f"invalid tracer: unknown tracer {self.name!r} (known: {', '.join(TRACERS)}, or "
                                "none for the struct logger)")
        config = options.get("tracerConfig")
        if config is None:
            config = {}
        if not isinstance(config, dict):
            raise InvalidParams("invalid tracerConfig: expected an object")
        if self.name is not None:
            unknown = set(config) - CONFIG_KEYS[self.name]
            if unknown:
                raise InvalidParams(f"invalid tracerConfig: {self.name} has no option {sorted(unknown)[0]!r}")
        for key in config:
            if key in ("onlyTopCall", "withLog", "diffMode", "disableCode", "disableStorage", "convertParityErrors",
                       "includePrecompiles") and not isinstance(config[key], bool):
                raise InvalidParams(f"invalid tracerConfig.{key}: expected true or false")
        for key in STRUCT_OPTIONS & set(options):
            if key == "limit":
                if isinstance(options[key], bool) or not isinstance(options[key], int) or options[key] < 0:
                    raise InvalidParams("invalid limit: expected a non-negative integer")
            elif not isinstance(options[key], bool):
                raise InvalidParams(f"invalid {key}: expected true or false")
        self.config = config
        self.options = options
        self.timeout = _duration(options.get("timeout"))

    def tracer(self) -> Tracer:
        if self.name is None:
            tracer: Tracer = StructLogger(self.options)
        elif self.name in ("callTracer", "flatCallTracer", "4byteTracer"):
            tracer = CallTracer(self.config if self.name == "callTracer" else {})
        elif self.name == "prestateTracer":
            tracer = PrestateTracer(self.config)
        else:
            tracer = Tracer()
        tracer.deadline = time.monotonic() + self.timeout  # type: ignore[attr-defined]
        return tracer

    def result(self, tracer: Tracer, traced: Traced, node: Node, block_hash: bytes | None) -> Any:
        if isinstance(tracer, StructLogger):
            return tracer.result(traced.gas_used, traced.computation)
        if isinstance(tracer, PrestateTracer):
            return tracer.result(traced.overlay, traced.sender, traced.to, _coinbase(node, traced.block))
        if isinstance(tracer, CallTracer):
            tree = tracer.tree(traced.gas_limit, traced.gas_used)
            if self.name == "callTracer":
                return call_json(tree, tracer.with_log)
            if self.name == "4byteTracer":
                return four_byte(tree)
            return flat_json(tree, tx_position(traced, block_hash))
        return {}


def tx_position(traced: Traced, block_hash: bytes | None) -> dict[str, Any]:
    return {"blockHash": fmt.hb(block_hash) if block_hash else None, "blockNumber": traced.block,
            "transactionHash": fmt.hb(traced.tx_hash) if traced.tx_hash else None,
            "transactionPosition": traced.index}


def _coinbase(node: Node, number: int) -> bytes:
    found = node.storage.block_by_number(number)
    return found[0].coinbase if found is not None else node.backend.coinbase


def _duration(value: Any) -> float:
    if value is None:
        return DEFAULT_TIMEOUT
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidParams(f"invalid timeout: {value!r} is not a duration like \"5s\" or \"300ms\"")
    amount, unit = float(match.group(1)), match.group(2)
    return amount * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]


class DebugApi:
    def __init__(self, node: Node) -> None:
        self.node = node

    @rpc("debug_traceTransaction", bulky=True)
    def trace_transaction(self, params: Any) -> Any:
        """Re-execute a mined transaction with a tracer (geth's formats)."""
        tx_hash, options = p.positional(params, 1, 2, "debug_traceTransaction")
        h = p.hash32(tx_hash, "transaction hash")
        request = TraceRequest(options)
        with self.node.lock:
            stored = self.node.storage.tx(h)
            if stored is None:
                raise ResourceNotFound(f"transaction {fmt.hb(h)} not found")
            tracer = request.tracer()
            traced = replay_transaction(self.node, h, tracer)
            return request.result(tracer, traced, self.node, self._block_hash(stored.block))

    @rpc("debug_traceBlockByNumber", bulky=True)
    def trace_block_by_number(self, params: Any) -> list[dict[str, Any]]:
        """Every transaction of a block, traced: [{txHash, result}]."""
        block, options = p.positional(params, 1, 2, "debug_traceBlockByNumber")
        ref = p.block_ref(block)
        if ref.hash is not None:
            raise InvalidParams("invalid block: expected a number or tag (debug_traceBlockByHash takes hashes)")
        with self.node.lock:
            return self._trace_block(self.node.backend.resolve_block(ref.tag), TraceRequest(options))  # type: ignore[arg-type]

    @rpc("debug_traceBlockByHash", bulky=True)
    def trace_block_by_hash(self, params: Any) -> list[dict[str, Any]]:
        """Every transaction of a block (by hash), traced: [{txHash, result}]."""
        block_hash, options = p.positional(params, 1, 2, "debug_traceBlockByHash")
        h = p.hash32(block_hash, "block hash")
        request = TraceRequest(options)
        with self.node.lock:
            number = self.node.storage.block_number_by_hash(h)
            if number is None:
                raise ResourceNotFound(f"block {fmt.hb(h)} not found")
            return self._trace_block(number, request)

    def _trace_block(self, number: int, request: TraceRequest) -> list[dict[str, Any]]:
        tracers: dict[int, Tracer] = {}

        def tracer_for(index: int, _tx: Any) -> Tracer:
            tracers[index] = request.tracer()
            return tracers[index]

        block_hash = self._block_hash(number)
        return [{"txHash": fmt.hb(t.tx_hash), "result": request.result(tracers[t.index], t, self.node, block_hash)}
                for t in replay_block(self.node, number, tracer_for)]  # type: ignore[index]

    @rpc("debug_traceCall", bulky=True)
    def trace_call(self, params: Any) -> Any:
        """Trace a call as eth_call runs it (block tag; stateOverrides and blockOverrides in the options)."""
        call, block, options = p.positional(params, 1, 3, "debug_traceCall")
        req = p.call_request(call)
        request = TraceRequest(options)
        overrides = request.options.get("stateOverrides")
        block_overrides = _block_overrides(request.options.get("blockOverrides"))
        with self.node.lock:
            number = call_context(self.node, block)
            tracer = request.tracer()
            traced = trace_call(self.node, req, number, tracer, overrides, block_overrides)
            return request.result(tracer, traced, self.node, None)

    @rpc("debug_getRawTransaction")
    def get_raw_transaction(self, params: Any) -> str | None:
        """The signed bytes of a mined or pending transaction."""
        (tx_hash,) = p.positional(params, 1, 1, "debug_getRawTransaction")
        h = p.hash32(tx_hash, "transaction hash")
        with self.node.lock:
            stored = self.node.storage.tx(h)
            if stored is not None:
                return fmt.hb(stored.raw)
            pending = self.node.pool.by_hash.get(h)
            return fmt.hb(pending.raw) if pending is not None else None

    @rpc("debug_codeByHash")
    def code_by_hash(self, params: Any) -> str | None:
        """Contract code by its keccak hash."""
        (code_hash,) = p.positional(params, 1, 1, "debug_codeByHash")
        h = p.hash32(code_hash, "code hash")
        with self.node.lock:
            code = self.node.storage.code(h)
            if code is None:
                code = self.node.backend.live.code(h)
            return fmt.hb(code) if code else None

    def _block_hash(self, number: int) -> bytes | None:
        found = self.node.storage.block_by_number(number)
        return found[1] if found is not None else None


def _block_overrides(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidParams("invalid blockOverrides: expected an object")
    out: dict[str, Any] = {}
    for key, raw in value.items():
        field = BLOCK_OVERRIDES.get(key)
        if field is None:
            raise InvalidParams(f"invalid blockOverrides: unknown field {key!r} (known: {', '.join(BLOCK_OVERRIDES)})")
        out[field] = p.address(raw, f"blockOverrides.{key}") if field == "coinbase" else \
            p.quantity(raw, f"blockOverrides.{key}")
    return out

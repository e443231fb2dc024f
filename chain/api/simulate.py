"""eth_simulateV1: the request parsed and checked, the simulated blocks formatted as execution-apis gives them."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidParams
from ..execution import PRECOMPILES
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.registry import rpc
from ..simulate import MAX_BLOCKS, BlockSpec, Simulation, SimulationError, SimulatedBlock

_PAYLOAD_KEYS = {"blockStateCalls", "traceTransfers", "validation", "returnFullTransactions"}
_BLOCK_KEYS = {"blockOverrides", "stateOverrides", "calls"}
_OVERRIDE_FIELDS = {"number", "time", "gasLimit", "feeRecipient", "prevRandao", "baseFeePerGas", "blobBaseFee",
                    "withdrawals"}


class SimulateApi:
    def __init__(self, node: Node) -> None:
        self.node = node

    @rpc("eth_simulateV1")
    def simulate(self, params: Any) -> list[dict[str, Any]]:
        """Run calls in simulated blocks on top of a block (state and block overrides, validation, transfers)."""
        payload, block = p.positional(params, 1, 2, "eth_simulateV1")
        if not isinstance(payload, dict):
            raise InvalidParams("invalid eth_simulateV1 payload: expected an object with blockStateCalls")
        unknown = set(payload) - _PAYLOAD_KEYS
        if unknown:
            raise InvalidParams(f"invalid eth_simulateV1 payload: unknown field {sorted(unknown)[0]!r}")
        blocks = payload.get("blockStateCalls")
        if not isinstance(blocks, list):
            raise InvalidParams("invalid eth_simulateV1 payload: blockStateCalls must be a list")
        if len(blocks) > MAX_BLOCKS:
            raise SimulationError(-38026, f"too many blocks: {len(blocks)}, at most {MAX_BLOCKS}")
        flags = {key: _flag(payload, key) for key in ("traceTransfers", "validation", "returnFullTransactions")}
        specs = [_block_spec(entry, f"blockStateCalls[{i}]") for i, entry in enumerate(blocks)]
        with self.node.lock:
            ref = p.block_ref(block if block is not None else "latest")
            backend = self.node.backend
            base = backend.resolve_hash(ref.hash) if ref.hash is not None else backend.resolve_block(ref.tag)  # type: ignore[arg-type]
            simulated = Simulation(backend, base, flags["validation"], flags["traceTransfers"]).run(specs)
            return [_block_json(block, flags["returnFullTransactions"]) for block in simulated]


def _flag(payload: dict[str, Any], key: str) -> bool:
    value = payload.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidParams(f"invalid eth_simulateV1 payload: {key} must be true or false")
    return value


def _block_spec(entry: Any, name: str) -> BlockSpec:
    if not isinstance(entry, dict):
        raise InvalidParams(f"invalid {name}: expected an object")
    unknown = set(entry) - _BLOCK_KEYS
    if unknown:
        raise InvalidParams(f"invalid {name}: unknown field {sorted(unknown)[0]!r}")
    spec = BlockSpec()
    overrides = entry.get("blockOverrides") or {}
    if not isinstance(overrides, dict):
        raise InvalidParams(f"invalid {name}.blockOverrides: expected an object")
    for key, value in overrides.items():
        where = f"{name}.blockOverrides.{key}"
        if key not in _OVERRIDE_FIELDS:
            raise InvalidParams(f"invalid {where}: unknown field (known: {', '.join(sorted(_OVERRIDE_FIELDS))})")
        if value is None:
            continue
        if key == "number":
            spec.number = p.quantity(value, where, bits=64)
        elif key == "time":
            spec.timestamp = p.quantity(value, where, bits=64)
        elif key == "gasLimit":
            spec.gas_limit = p.quantity(value, where, bits=64)
        elif key == "baseFeePerGas":
            spec.base_fee = p.quantity(value, where)
        elif key == "feeRecipient":
            spec.coinbase = p.address(value, where)
        elif key == "prevRandao":
            spec.prev_randao = p.hash32(value, where)
        elif key == "blobBaseFee":
            spec.blob_base_fee = p.quantity(value, where)
        else:
            spec.withdrawals = _withdrawals(value, where)
    state = entry.get("stateOverrides")
    if state is not None:
        spec.state_overrides, spec.moves = _state_overrides(state, f"{name}.stateOverrides")
    calls = entry.get("calls") or []
    if not isinstance(calls, list):
        raise InvalidParams(f"invalid {name}.calls: expected a list")
    spec.calls = [p.call_request(call, f"{name}.calls[{i}]") for i, call in enumerate(calls)]
    return spec


def _withdrawals(value: Any, name: str) -> list[tuple[int, int, bytes, int]]:
    if not isinstance(value, list):
        raise InvalidParams(f"invalid {name}: expected a list")
    out = []
    for i, item in enumerate(value):
        where = f"{name}[{i}]"
        if not isinstance(item, dict):
            raise InvalidParams(f"invalid {where}: expected an object")
        out.append((p.quantity(item.get("index"), f"{where}.index", bits=64),
                    p.quantity(item.get("validatorIndex"), f"{where}.validatorIndex", bits=64),
                    p.address(item.get("address"), f"{where}.address"),
                    p.quantity(item.get("amount"), f"{where}.amount", bits=64)))
    return out


def _state_overrides(value: Any, name: str) -> tuple[dict[str, Any], dict[bytes, bytes]]:
    """The overrides for apply_overrides, and the precompiles to move (movePrecompileToAddress)."""
    if not isinstance(value, dict):
        raise InvalidParams(f"invalid {name}: expected an object keyed by address")
    overrides: dict[str, Any] = {}
    moves: dict[bytes, bytes] = {}
    for key, change in value.items():
        if not isinstance(change, dict):
            raise InvalidParams(f"invalid {name}.{key}: expected an object")
        change = dict(change)
        target = change.pop("movePrecompileToAddress", None)
        if target is not None:
            source = p.address(key, f"{name} address")
            destination = p.address(target, f"{name}.{key}.movePrecompileToAddress")
            if source not in PRECOMPILES:
                raise SimulationError(-32000, f"account {key} is not a precompile, so it cannot be moved")
            if destination == source:
                raise SimulationError(-38022, f"movePrecompileToAddress of {key} references itself")
            if destination in moves.values():
                raise SimulationError(-38023, f"multiple precompiles moved to {target}")
            moves[source] = destination
        overrides[key] = change
    return overrides, moves


def _block_json(block: SimulatedBlock, full: bool) -> dict[str, Any]:
    header = block.header
    if full:
        transactions: list[Any] = [
            fmt.tx_json(raw, tx_hash, sender, (block.hash, header.number, i, header.timestamp), header.base_fee)
            for i, (raw, tx_hash, sender) in enumerate(block.transactions)]
    else:
        transactions = [fmt.hb(tx_hash) for _, tx_hash, _ in block.transactions]
    size = len(header.encode()) + sum(len(raw) for raw, _, _ in block.transactions)
    out = fmt.block_json(header, block.hash, transactions, size)
    calls = []
    log_index = 0
    for i, call in enumerate(block.calls):
        tx_hash = block.transactions[i][1]
        logs = []
        for log in call.logs:
            entry = fmt.log_json(log, block.hash, header.number, tx_hash, i, log_index)
            entry["blockTimestamp"] = fmt.hx(header.timestamp)
            logs.append(entry)
            log_index += 1
        result: dict[str, Any] = {"returnData": fmt.hb(call.output), "logs": logs, "gasUsed": fmt.hx(call.gas_used),
                                  "status": fmt.hx(call.status)}
        if call.error is not None:
            code, message, data = call.error
            result["error"] = {"code": code, "message": message}
            if data is not None:
                result["error"]["data"] = fmt.hb(data)
        calls.append(result)
    out["calls"] = calls
    return out

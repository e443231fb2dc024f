"""Call trees: geth's callTracer and flatCallTracer, Parity's trace_* shape, and the 4byteTracer.

Frames come from `hooks`; SELFDESTRUCT becomes a frame of its own as geth reports it. Logs (withLog) are kept
only for frames that did not revert, with their position among the frame's calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth.exceptions import Revert

from ..execution import revert_reason
from .hooks import Frame, Tracer
from .struct_log import describe

SELFDESTRUCT = 0xFF


@dataclass
class Call:
    """A frame as the call tracers report it (SELFDESTRUCT included)."""

    type: str
    sender: bytes
    to: bytes
    value: int | None
    gas: int
    gas_used: int
    input: bytes
    output: bytes
    error: str | None
    revert_reason: str | None
    calls: list[Call] = field(default_factory=list)
    logs: list[tuple[int, int, bytes, tuple[int, ...], bytes]] = field(default_factory=list)  # + index at the end
    reverted: bool = False


class CallTracer(Tracer):
    wants_steps = True  # for SELFDESTRUCT, which is no message

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        config = config or {}
        self.only_top = bool(config.get("onlyTopCall", False))
        self.with_log = bool(config.get("withLog", False))
        self.root: Frame | None = None
        self._destructs: dict[int, list[tuple[int, bytes, bytes, int]]] = {}  # id(frame) -> (position, from, to, value)

    def enter(self, frame: Frame) -> None:
        if self.root is None:
            self.root = frame

    def step(self, frame: Frame, pc: int, op: int, gas: int) -> None:
        if op == SELFDESTRUCT:
            computation = frame.computation
            values = computation._stack.values
            if values:
                top = values[-1]
                beneficiary = (top if type(top) is int else int.from_bytes(top, "big")).to_bytes(32, "big")[12:]
                address = computation.msg.storage_address
                self._destructs.setdefault(id(frame), []).append(
                    (len(frame.children), address, beneficiary, computation.state.get_balance(address)))

    def tree(self, gas_limit: int, gas_used: int) -> Call:
        assert self.root is not None, "nothing was traced"
        top = self._call(self.root)
        top.gas_used = gas_used  # the transaction's (the receipt's), as geth and anvil report the top frame
        if self.with_log:  # a reverted frame's logs, and its callees', are not in the receipt: drop them
            _drop_reverted_logs(top)
        if self.with_log:  # each kept log's index among the transaction's logs, in the order they were emitted
            kept = sorted((log[1], id(call), n) for call in _walk(top) for n, log in enumerate(call.logs))
            index = {(owner, n): i for i, (_, owner, n) in enumerate(kept)}
            for call in _walk(top):
                call.logs = [(*log, index[(id(call), n)]) for n, log in enumerate(call.logs)]
        return top

    def _call(self, frame: Frame) -> Call:
        error = frame.error
        output = frame.output
        reason = None
        if isinstance(error, Revert):
            reason = revert_reason(output)
            reason = reason if reason is not None and not reason.startswith("custom error") else None
        value: int | None = frame.value if frame.kind != "STATICCALL" else None
        call = Call(frame.kind, frame.sender, frame.to, value, frame.gas, frame.gas_used, frame.input,
                    output if not error or isinstance(error, Revert) else b"", describe(error) if error else None,
                    reason, reverted=error is not None)
        if self.only_top:
            return call
        children = [(i, self._call(child)) for i, child in enumerate(frame.children)]
        for position, sender, to, amount in self._destructs.get(id(frame), []):
            children.append((position, Call("SELFDESTRUCT", sender, to, amount, 0, 0, b"", b"", None, None)))
        children.sort(key=lambda item: item[0])
        call.calls = [c for _, c in children]
        if self.with_log and error is None:
            call.logs = list(frame.logs)
        return call


def call_json(call: Call, with_log: bool = False) -> dict[str, Any]:
    """geth's callTracer frame."""
    out: dict[str, Any] = {"from": _addr(call.sender), "gas": hex(call.gas), "gasUsed": hex(call.gas_used),
                           "to": _addr(call.to), "input": "0x" + call.input.hex()}
    if call.output or call.type in ("CREATE", "CREATE2") and not call.error:
        out["output"] = "0x" + call.output.hex()
    if call.error:
        out["error"] = call.error
    if call.revert_reason:
        out["revertReason"] = call.revert_reason
    if call.calls:
        out["calls"] = [call_json(c, with_log) for c in call.calls]
    if with_log and call.logs:
        out["logs"] = [{"address": _addr(address), "topics": ["0x" + t.to_bytes(32, "big").hex() for t in topics],
                        "data": "0x" + data.hex(), "position": hex(position), "index": hex(index)}
                       for position, _seq, address, topics, data, index in call.logs]
    if call.value is not None:
        out["value"] = hex(call.value)
    out["type"] = call.type
    return out


def flat_json(call: Call, tx: dict[str, Any]) -> list[dict[str, Any]]:
    """Parity-style flat traces of a call tree (trace_transaction, geth's flatCallTracer): one entry per frame
    with its traceAddress."""
    out: list[dict[str, Any]] = []
    _flatten(call, [], out, tx)
    return out


def _flatten(call: Call, address: list[int], out: list[dict[str, Any]], tx: dict[str, Any]) -> None:
    entry: dict[str, Any] = {**_action(call), "subtraces": len(call.calls), "traceAddress": list(address), **tx}
    if call.error:  # a revert still reports what it used and returned; a fault reports nothing
        entry["error"] = _parity_error(call.error)
        entry["result"] = _result(call) if call.error == "execution reverted" else None
    else:
        entry["result"] = _result(call)
    out.append(entry)
    for i, child in enumerate(call.calls):
        _flatten(child, [*address, i], out, tx)


def _action(call: Call) -> dict[str, Any]:
    if call.type == "SELFDESTRUCT":
        return {"action": {"address": _addr(call.sender), "refundAddress": _addr(call.to),
                           "balance": hex(call.value or 0)}, "type": "suicide"}
    if call.type in ("CREATE", "CREATE2"):
        return {"action": {"from": _addr(call.sender), "gas": hex(call.gas), "init": "0x" + call.input.hex(),
                           "value": hex(call.value or 0), "creationMethod": call.type.lower()}, "type": "create"}
    return {"action": {"from": _addr(call.sender), "callType": call.type.lower(), "gas": hex(call.gas),
                       "input": "0x" + call.input.hex(), "to": _addr(call.to), "value": hex(call.value or 0)},
            "type": "call"}


def _result(call: Call) -> dict[str, Any] | None:
    if call.type == "SELFDESTRUCT":
        return None
    if call.type in ("CREATE", "CREATE2"):
        return {"address": _addr(call.to), "code": "0x" + call.output.hex(), "gasUsed": hex(call.gas_used)}
    return {"gasUsed": hex(call.gas_used), "output": "0x" + call.output.hex()}


def _parity_error(error: str) -> str:
    if error.startswith("out of gas"):
        return "Out of gas"
    return {"execution reverted": "Reverted", "invalid opcode": "Bad instruction",
            "invalid jump destination": "Bad jump destination", "stack underflow": "Stack underflow"}.get(error, error)


def four_byte(call: Call, counts: dict[str, int] | None = None) -> dict[str, int]:
    """geth's 4byteTracer: `0x<selector>-<calldata size after it>` -> how often, for every call with calldata."""
    counts = {} if counts is None else counts
    if call.type not in ("CREATE", "CREATE2", "SELFDESTRUCT") and len(call.input) >= 4:
        key = f"0x{call.input[:4].hex()}-{len(call.input) - 4}"
        counts[key] = counts.get(key, 0) + 1
    for child in call.calls:
        four_byte(child, counts)
    return counts


def _drop_reverted_logs(call: Call, reverted: bool = False) -> None:
    reverted = reverted or call.reverted
    if reverted:
        call.logs = []
    for child in call.calls:
        _drop_reverted_logs(child, reverted)


def _walk(call: Call) -> list[Call]:
    out = [call]
    for child in call.calls:
        out += _walk(child)
    return out


def _addr(address: bytes) -> str:
    return "0x" + bytes(address).hex()

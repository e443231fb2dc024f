"""geth's default tracer (the struct logger): one entry per executed opcode.

Each entry: pc, op, gas (left before the op), gasCost (geth's: a call's includes the gas passed on), depth
(1 for the transaction), stack (unless disableStack), memory (with enableMemory), storage (the contract's slots
seen so far, on SLOAD and SSTORE, unless disableStorage), returnData (with enableReturnData), refund (the
transaction's refund counter) and error (on the op that failed). Memory is off by default, as in geth, and `limit` caps the entries.
"""

from __future__ import annotations

from typing import Any

from .hooks import Frame, Tracer
from .opcodes import NAMES

SLOAD, SSTORE = 0x54, 0x55


class StructLogger(Tracer):
    wants_steps = True

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        config = config or {}
        self.stack = not config.get("disableStack", False)
        self.memory = bool(config.get("enableMemory", False))
        self.storage = not config.get("disableStorage", False)
        self.return_data = bool(config.get("enableReturnData", False))
        self.limit = int(config.get("limit", 0) or 0)
        self.logs: list[dict[str, Any]] = []
        self._seen: dict[bytes, dict[int, int]] = {}  # contract -> slots read or written so far
        self._frames: list[Frame] = []
        self._write: tuple[dict[int, int], int, int] | None = None  # an SSTORE's slot, set when it succeeds
        # the refund counter changes only with an SSTORE or a frame ending: recounted then, not every step
        self._refund_now = 0
        self._refund_stale = True

    def enter(self, frame: Frame) -> None:
        self._frames.append(frame)
        frame.log_entry = None  # type: ignore[attr-defined]  # the entry its current step writes
        self._refund_stale = True

    def exit(self, frame: Frame) -> None:
        self._frames.pop()
        self._refund_stale = True

    def step(self, frame: Frame, pc: int, op: int, gas: int) -> None:
        if self.limit and len(self.logs) >= self.limit:
            frame.log_entry = None  # type: ignore[attr-defined]
            return
        computation = frame.computation
        if self._refund_stale:
            self._refund_now = self._refund()
            self._refund_stale = False
        entry: dict[str, Any] = {"pc": pc, "op": NAMES[op], "gas": gas, "gasCost": 0, "depth": frame.depth + 1}
        values = computation._stack.values
        if self.stack:
            entry["stack"] = self._stack_text(values)
        if self.memory:
            memory = bytes(computation._memory._bytes)
            entry["memory"] = ["0x" + memory[i:i + 32].hex() for i in range(0, len(memory), 32)]
        self._write = None
        if self.storage and op in (SLOAD, SSTORE) and values:
            address = computation.msg.storage_address
            slots = self._seen.setdefault(address, {})
            key = _int(values[-1])
            if op == SLOAD:
                slots[key] = computation.state.get_storage(address, key)
            elif len(values) >= 2:  # written once the SSTORE succeeded, as anvil shows it
                self._write = (slots, key, _int(values[-2]))
            entry["storage"] = slots
        if op == SSTORE:
            self._refund_stale = True  # for the next step
        if self.return_data:
            entry["returnData"] = "0x" + bytes(computation.return_data).hex()
        entry["refund"] = self._refund_now  # always, as anvil reports it (geth leaves out a zero)
        self.logs.append(entry)
        frame.log_entry = entry  # type: ignore[attr-defined]  # a call's step ends after its callee's steps

    @staticmethod
    def _stack_text(values: list[Any]) -> list[str]:
        """The stack as hex strings (a traced run keeps only ints on it: see hooks.IntStack)."""
        try:
            return list(map(hex, values))
        except TypeError:
            return [hex(v if type(v) is int else int.from_bytes(v, "big")) for v in values]

    def step_end(self, frame: Frame, cost: int, error: Exception | None) -> None:
        entry = frame.log_entry  # type: ignore[attr-defined]
        if entry is None:
            return
        entry["gasCost"] = cost
        if self._write is not None and error is None:
            slots, key, value = self._write
            slots[key] = value
        self._write = None
        if "storage" in entry:
            entry["storage"] = {"0x" + k.to_bytes(32, "big").hex(): "0x" + v.to_bytes(32, "big").hex()
                                for k, v in sorted(entry["storage"].items())}
        if error is not None and type(error).__name__ != "Revert":  # REVERT is an outcome, not a faulting op
            entry["error"] = describe(error)

    def _refund(self) -> int:
        """The transaction's refund counter now: each open frame's own refunds and those of its finished,
        successful children."""
        total = 0
        for frame in self._frames:
            computation = frame.computation
            if computation is not None:
                total += computation._gas_meter.gas_refunded + frame.refund_from_children
        return total

    def result(self, gas_used: int, computation: Any) -> dict[str, Any]:
        return {"gas": gas_used, "failed": computation.is_error,
                "returnValue": "0x" + bytes(computation.output).hex(), "structLogs": self.logs}


def describe(error: Exception) -> str:
    """An EVM error as geth words it."""
    name = type(error).__name__
    text = str(error)
    if name == "OutOfGas":  # as anvil (revm) words the EIP-2200 case
        return "out of gas: not enough gas for reentrancy sentry" if "EIP-2200" in text else "out of gas"
    if name == "Revert":
        return "execution reverted"
    if name == "InvalidInstruction":
        return f"invalid opcode: {text}" if text else "invalid opcode"
    if name == "InvalidJumpDestination":
        return "invalid jump destination"
    if name == "InsufficientStack":
        return "stack underflow"
    if name == "FullStack":
        return "stack limit reached 1024 (1023)"
    if name == "WriteProtection":
        return "write protection"
    return f"{name}: {text}" if text else name


def _int(value: Any) -> int:
    return value if type(value) is int else int.from_bytes(value, "big")

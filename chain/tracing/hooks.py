"""The EVM with hooks for tracers: the same loop as `chain.evm`, plus a call to the tracer around every opcode and
every call frame. Only traced executions use it, so untraced blocks and calls pay nothing for tracing.

A tracer sees (geth's EVMLogger / revm's Inspector, in py-evm terms):
  enter(frame)                    a call or create frame starts (after its value moved)
  step(frame, pc, op, gas)        before an opcode; `frame.computation` is the live py-evm computation
  step_end(frame, cost, error)    after it, with geth's gas cost (a CALL/CREATE's includes the gas it passed on)
  exit(frame)                     the frame ended; `frame.computation` holds its outcome
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from eth.exceptions import Halt, OutOfGas, VMError
from eth.vm.logic.invalid import InvalidOpcode
from eth.vm.opcode import _FastOpcode

from ..errors import ChainError
from ..evm import FastStack

_NO_RESULT = object()


class TraceTimeout(ChainError):
    """A trace that ran past its `timeout` (not a VM error: py-evm must not swallow it)."""

    code = -32000
CALL_OPS = {0xF1: "CALL", 0xF2: "CALLCODE", 0xF4: "DELEGATECALL", 0xFA: "STATICCALL", 0xF0: "CREATE",
            0xF5: "CREATE2"}


@dataclass
class Frame:
    """One message: what called what, and (after exit) how it ended."""

    kind: str  # CALL, STATICCALL, DELEGATECALL, CALLCODE, CREATE, CREATE2
    sender: bytes
    to: bytes
    value: int
    gas: int
    input: bytes
    depth: int  # 0 for the transaction's own frame
    computation: Any = None
    children: list[Frame] = field(default_factory=list)
    logs: list[tuple[int, int, bytes, tuple[int, ...], bytes]] = field(default_factory=list)  # (position, seq, ...)
    refund_from_children: int = 0
    selfdestructs: list[tuple[bytes, int]] = field(default_factory=list)  # (beneficiary, value)

    @property
    def error(self) -> Exception | None:
        return self.computation.error if self.computation is not None and self.computation.is_error else None

    @property
    def gas_used(self) -> int:
        return self.gas - (self.computation.get_gas_remaining() if self.computation is not None else 0)

    @property
    def output(self) -> bytes:
        return bytes(self.computation.output) if self.computation is not None else b""


class Tracer:
    """Does nothing; tracers override what they need. `active` False skips a transaction (replaying a block up
    to the traced one)."""

    active = True
    wants_steps = False  # whether step()/step_end() are called at all (a call tracer needs only frames)
    deadline = 0.0  # time.monotonic() past which the trace stops (0: none)

    def before_transaction(self, overlay: Any) -> None:
        """The state just before the traced transaction (a prestate tracer copies it)."""

    def enter(self, frame: Frame) -> None:
        pass

    def step(self, frame: Frame, pc: int, op: int, gas: int) -> None:
        pass

    def step_end(self, frame: Frame, cost: int, error: Exception | None) -> None:
        pass

    def exit(self, frame: Frame) -> None:
        pass


def traced_computation_class(base: Any, tracer: Tracer) -> Any:
    """A subclass of the node's fast computation class that reports to `tracer`."""

    class TracedComputation(base):  # type: ignore[misc, valid-type]
        inline_precompile_calls = False  # replayed with py-evm's own calls: traces are what they were
        _frames: list[Frame] = []
        _log_seq = 0  # emission order of logs across the transaction's frames

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.use_stack(IntStack())

        @classmethod
        def _frame(cls, message: Any, kind: str) -> Frame:
            """geth's view: a DELEGATECALL/CALLCODE runs `to`'s code for the calling contract (`from`)."""
            if kind in ("DELEGATECALL", "CALLCODE"):
                sender, to = message.storage_address, message.code_address
            else:
                sender, to = message.sender, message.storage_address
            data = message.code if message.is_create else message.data_as_bytes
            return Frame(kind, sender, to, message.value, message.gas, bytes(data), message.depth)

        @classmethod
        def apply_message(cls, state: Any, message: Any, transaction_context: Any,
                          parent_computation: Any = None) -> Any:
            if message.is_create or not tracer.active:  # a create is framed by apply_create_message
                return super().apply_message(state, message, transaction_context, parent_computation)
            parent_op = cls._frames[-1].pending_op if cls._frames else None  # type: ignore[attr-defined]
            frame = cls._frame(message, _call_kind(parent_op))
            return cls._run_frame(frame, lambda: super(TracedComputation, cls).apply_message(
                state, message, transaction_context, parent_computation))

        @classmethod
        def apply_create_message(cls, state: Any, message: Any, transaction_context: Any,
                                 parent_computation: Any = None) -> Any:
            if not tracer.active:
                return super().apply_create_message(state, message, transaction_context, parent_computation)
            parent_op = cls._frames[-1].pending_op if cls._frames else None  # type: ignore[attr-defined]
            frame = cls._frame(message, "CREATE2" if parent_op == 0xF5 else "CREATE")
            return cls._run_frame(frame, lambda: super(TracedComputation, cls).apply_create_message(
                state, message, transaction_context, parent_computation))

        @classmethod
        def _run_frame(cls, frame: Frame, run: Any) -> Any:
            frame.pending_op = None  # type: ignore[attr-defined]
            frame.gas_at_child = None  # type: ignore[attr-defined]
            if cls._frames:
                cls._frames[-1].children.append(frame)
            cls._frames.append(frame)
            tracer.enter(frame)
            try:
                computation = run()
            finally:
                cls._frames.pop()
            frame.computation = computation
            if cls._frames and not computation.is_error:
                cls._frames[-1].refund_from_children += computation.get_gas_refund()
            tracer.exit(frame)
            return computation

        def apply_child_computation(self, child_msg: Any) -> Any:
            frames = type(self)._frames
            if frames and tracer.active:
                frames[-1].gas_at_child = self._gas_meter.gas_remaining  # type: ignore[attr-defined]
            return super().apply_child_computation(child_msg)

        def add_log_entry(self, account: bytes, topics: tuple[int, ...], data: bytes) -> None:
            super().add_log_entry(account, topics, data)
            frames = type(self)._frames
            if frames and tracer.active:
                frame = frames[-1]
                seq = type(self)._log_seq
                type(self)._log_seq = seq + 1
                frame.logs.append((len(frame.children), seq, account, tuple(topics), bytes(data)))

        @classmethod
        def apply_computation(cls, state: Any, message: Any, transaction_context: Any,
                              parent_computation: Any = None) -> Any:
            if not tracer.active or not tracer.wants_steps:
                return super().apply_computation(state, message, transaction_context, parent_computation)
            frame = cls._frames[-1] if cls._frames else None
            with cls(state, message, transaction_context) as computation:
                if frame is not None:
                    frame.computation = computation
                if computation.is_origin_computation:
                    computation.contracts_created = []
                    if message.is_create:
                        cls.consume_initcode_gas_cost(computation)
                if parent_computation is not None:
                    computation.contracts_created = parent_computation.contracts_created
                if message.is_create:
                    computation.contracts_created.append(message.storage_address)
                precompile = computation.precompiles.get(message.code_address, _NO_RESULT)
                if precompile is not _NO_RESULT:
                    if not message.is_delegation:
                        precompile(computation)
                    return computation
                lookup = computation.opcodes
                code = computation.code
                raw = code._raw_code_bytes
                end = len(raw)
                if not end:
                    return computation  # no code runs nothing (and, as in geth, logs no step)
                meter = computation._gas_meter
                fast = _FastOpcode
                step, step_end = tracer.step, tracer.step_end
                steps = 0
                while True:
                    steps += 1
                    if not steps & 1023 and tracer.deadline and time.monotonic() > tracer.deadline:
                        raise TraceTimeout("execution timeout: the trace took longer than its timeout")
                    pc = code.program_counter
                    if pc < end:
                        opcode = raw[pc]
                        code.program_counter = pc + 1
                    else:
                        opcode = 0x00
                    fn = lookup.get(opcode)
                    if fn is None:
                        fn = InvalidOpcode(opcode)
                    before = meter.gas_remaining
                    if frame is not None:
                        frame.pending_op = opcode  # type: ignore[attr-defined]
                        frame.gas_at_child = None  # type: ignore[attr-defined]
                        step(frame, pc, opcode, before)
                    try:
                        if type(fn) is fast:
                            cost = fn.gas_cost
                            if cost > meter.gas_remaining:
                                raise OutOfGas(
                                    f"Out of gas: Needed {cost} - Remaining {meter.gas_remaining} "
                                    f"- Reason: {fn.mnemonic}")
                            meter.gas_remaining -= cost
                            fn.logic_fn(computation)
                        else:
                            fn(computation=computation)
                    except Halt:
                        if frame is not None:
                            step_end(frame, _cost(frame, before, meter), None)
                        break
                    except VMError as exc:
                        if frame is not None:
                            step_end(frame, _cost(frame, before, meter), exc)
                        raise
                    if frame is not None:
                        at_child = frame.gas_at_child  # type: ignore[attr-defined]
                        step_end(frame, before - (meter.gas_remaining if at_child is None else at_child), None)
                        frame.pending_op = None  # type: ignore[attr-defined]
                    if opcode == 0x00:
                        break
            return computation

    TracedComputation.__name__ = f"Traced{base.__name__}"
    return TracedComputation


class IntStack(FastStack):
    """The stack as traced runs keep it: every item an int (PUSH converts its bytes at once), so a tracer can
    copy and print it with C-level calls."""

    __slots__ = ()

    def push_bytes(self, value: bytes) -> None:  # type: ignore[override]
        self.push_int(int.from_bytes(value, "big"))


def _cost(frame: Frame, before: int, meter: Any) -> int:
    """geth's gas cost of the step: for a call or create, what was charged up to the child starting (the gas it
    passed on included); for anything else, what the step consumed."""
    at_child = frame.gas_at_child  # type: ignore[attr-defined]
    return before - (at_child if at_child is not None else meter.gas_remaining)


def _call_kind(op: int | None) -> str:
    return CALL_OPS.get(op, "CALL") if op is not None else "CALL"

"""Leaner versions of the opcodes a contract runs most (stack, arithmetic, comparisons, jumps, memory words, SHA3).

py-evm's versions go through several method calls each (`stack_pop_ints`, `stack_push_int`, `extend_memory`
with its validation and a formatted reason string...). These work on the stack's list directly and take the
slow path only where py-evm's has real work to do (memory that must grow, and its gas). Semantics and static
gas are py-evm's: `replace_opcodes` swaps only opcodes whose py-evm version is a plain static-gas
`_FastOpcode`, keeping its gas cost and mnemonic, and tests/chain/test_fast_ops.py runs random programs through
both tables and compares every result, gas figure, stack and memory.

The stack holds ints here (PUSH, MLOAD and CALLDATALOAD push ints; py-evm's own opcodes may still push bytes,
which `_int` reads).
"""

from __future__ import annotations

from typing import Any, Callable

from eth.exceptions import FullStack, InsufficientStack, InvalidInstruction, InvalidJumpDestination
from eth.vm.opcode import _FastOpcode

from .hashing import keccak

MASK = 2**256 - 1
SHA3_WORD_GAS = 6
COPY_WORD_GAS = 3
SIGN = 2**255
JUMPDEST = 0x5B


def _int(value: Any) -> int:
    return value if type(value) is int else int.from_bytes(value, "big")


def _underflow(name: str) -> InsufficientStack:
    return InsufficientStack(f"Insufficient stack items for {name}")


def _push(size: int) -> Callable[[Any], None]:
    def push(computation: Any) -> None:
        code = computation.code
        pc = code.program_counter
        code.program_counter = pc + size
        chunk = code._raw_code_bytes[pc:pc + size]
        if len(chunk) < size:  # past the end of the code: the missing bytes are zeros on the right
            chunk = chunk.ljust(size, b"\x00")
        values = computation._stack.values
        if len(values) > 1023:
            raise FullStack("Stack limit reached")
        values.append(int.from_bytes(chunk, "big"))
    return push


def _dup(position: int) -> Callable[[Any], None]:
    def dup(computation: Any) -> None:
        values = computation._stack.values
        if len(values) > 1023:
            raise FullStack("Stack limit reached")
        if len(values) < position:
            raise _underflow(f"DUP{position}")
        values.append(values[-position])
    return dup


def _swap(position: int) -> Callable[[Any], None]:
    index = -position - 1

    def swap(computation: Any) -> None:
        values = computation._stack.values
        if len(values) <= position:
            raise _underflow(f"SWAP{position}")
        values[-1], values[index] = values[index], values[-1]
    return swap


def _binary(name: str, operation: Callable[[int, int], int]) -> Callable[[Any], None]:
    """An opcode taking the top two words (a = top, b = next) and pushing one."""
    def op(computation: Any) -> None:
        values = computation._stack.values
        if len(values) < 2:
            raise _underflow(name)
        a = values.pop()
        values[-1] = operation(_int(a), _int(values[-1]))
    return op


def _pop(computation: Any) -> None:
    values = computation._stack.values
    if not values:
        raise _underflow("POP")
    values.pop()


def _push0(computation: Any) -> None:
    values = computation._stack.values
    if len(values) > 1023:
        raise FullStack("Stack limit reached")
    values.append(0)


def _jumpdest(computation: Any) -> None:
    pass


def _iszero(computation: Any) -> None:
    values = computation._stack.values
    if not values:
        raise _underflow("ISZERO")
    values[-1] = 0 if _int(values[-1]) else 1


def _not(computation: Any) -> None:
    values = computation._stack.values
    if not values:
        raise _underflow("NOT")
    values[-1] = MASK ^ _int(values[-1])


def _jump_to(computation: Any, destination: int) -> None:
    code = computation.code
    code.program_counter = destination
    raw = code._raw_code_bytes
    if destination >= len(raw) or raw[destination] != JUMPDEST:
        raise InvalidJumpDestination("Invalid Jump Destination")
    if not code.is_valid_opcode(destination):
        raise InvalidInstruction("Jump resulted in invalid instruction")


def _jump(computation: Any) -> None:
    values = computation._stack.values
    if not values:
        raise _underflow("JUMP")
    _jump_to(computation, _int(values.pop()))


def _jumpi(computation: Any) -> None:
    values = computation._stack.values
    if len(values) < 2:
        raise _underflow("JUMPI")
    destination = _int(values.pop())
    if _int(values.pop()):
        _jump_to(computation, destination)


def _mload(computation: Any) -> None:
    values = computation._stack.values
    if not values:
        raise _underflow("MLOAD")
    start = _int(values[-1])
    end = start + 32
    memory = computation._memory._bytes
    if end > len(memory):  # grows (and pays for it) as py-evm grows it
        computation.extend_memory(start, 32)
        memory = computation._memory._bytes
    values[-1] = int.from_bytes(memory[start:end], "big")


def _mstore(computation: Any) -> None:
    values = computation._stack.values
    if len(values) < 2:
        raise _underflow("MSTORE")
    start = _int(values.pop())
    word = _int(values.pop()).to_bytes(32, "big")
    end = start + 32
    memory = computation._memory._bytes
    if end > len(memory):
        computation.extend_memory(start, 32)
        memory = computation._memory._bytes
    memory[start:end] = word


def _sha3(computation: Any) -> None:
    values = computation._stack.values
    if len(values) < 2:
        raise _underflow("SHA3")
    start = _int(values.pop())
    size = _int(values[-1])
    computation.extend_memory(start, size)
    data = bytes(computation._memory._bytes[start:start + size])
    computation.consume_gas(SHA3_WORD_GAS * ((size + 31) // 32), reason="SHA3: word gas cost")
    values[-1] = int.from_bytes(keccak(data), "big")


def _mcopy(computation: Any) -> None:
    values = computation._stack.values
    if len(values) < 3:
        raise _underflow("MCOPY")
    destination, source, length = _int(values.pop()), _int(values.pop()), _int(values.pop())
    computation.extend_memory(max(source, destination), length)
    computation.consume_gas(COPY_WORD_GAS * ((length + 31) // 32), reason="MCOPY fee")
    if length:
        memory = computation._memory._bytes
        memory[destination:destination + length] = memory[source:source + length]


def _codecopy(computation: Any) -> None:
    """py-evm's CODECOPY without its seek context manager and memory-write validation (Vyper's selector table
    and immutables are read with it: once per call to a Vyper contract, at least)."""
    values = computation._stack.values
    if len(values) < 3:
        raise _underflow("CODECOPY")
    destination, source, length = _int(values.pop()), _int(values.pop()), _int(values.pop())
    computation.extend_memory(destination, length)
    computation.consume_gas(COPY_WORD_GAS * ((length + 31) // 32), reason="CODECOPY: word gas cost")
    if length:
        chunk = computation.code._raw_code_bytes[source:source + length]
        computation._memory._bytes[destination:destination + length] = chunk.ljust(length, b"\x00")


def _calldataload(computation: Any) -> None:
    values = computation._stack.values
    if not values:
        raise _underflow("CALLDATALOAD")
    start = _int(values[-1])
    values[-1] = int.from_bytes(computation.msg.data_as_bytes[start:start + 32].ljust(32, b"\x00"), "big")


def _lt(a: int, b: int) -> int:
    return 1 if a < b else 0


def _gt(a: int, b: int) -> int:
    return 1 if a > b else 0


def _slt(a: int, b: int) -> int:
    return 1 if (a - 2 * (a & SIGN)) < (b - 2 * (b & SIGN)) else 0


def _sgt(a: int, b: int) -> int:
    return 1 if (a - 2 * (a & SIGN)) > (b - 2 * (b & SIGN)) else 0


def _div(numerator: int, denominator: int) -> int:
    return numerator // denominator if denominator else 0


def _mod(value: int, modulus: int) -> int:
    return value % modulus if modulus else 0


def _shl(shift: int, value: int) -> int:
    return (value << shift) & MASK if shift < 256 else 0


def _shr(shift: int, value: int) -> int:
    return value >> shift if shift < 256 else 0


FAST: dict[int, Callable[[Any], None]] = {
    0x01: _binary("ADD", lambda a, b: (a + b) & MASK),
    0x02: _binary("MUL", lambda a, b: (a * b) & MASK),
    0x03: _binary("SUB", lambda a, b: (a - b) & MASK),
    0x04: _binary("DIV", _div),
    0x06: _binary("MOD", _mod),
    0x10: _binary("LT", _lt),
    0x11: _binary("GT", _gt),
    0x12: _binary("SLT", _slt),
    0x13: _binary("SGT", _sgt),
    0x14: _binary("EQ", lambda a, b: 1 if a == b else 0),
    0x15: _iszero,
    0x16: _binary("AND", lambda a, b: a & b),
    0x17: _binary("OR", lambda a, b: a | b),
    0x18: _binary("XOR", lambda a, b: a ^ b),
    0x19: _not,
    0x1B: _binary("SHL", _shl),
    0x1C: _binary("SHR", _shr),
    0x20: _sha3,
    0x35: _calldataload,
    0x39: _codecopy,
    0x50: _pop,
    0x51: _mload,
    0x52: _mstore,
    0x56: _jump,
    0x57: _jumpi,
    0x5B: _jumpdest,
    0x5E: _mcopy,
    0x5F: _push0,
    **{0x60 + i: _push(i + 1) for i in range(32)},
    **{0x80 + i: _dup(i + 1) for i in range(16)},
    **{0x90 + i: _swap(i + 1) for i in range(16)},
}


def replace_opcodes(opcodes: dict[int, Any]) -> dict[int, Any]:
    """`opcodes` with the lean versions swapped in, where py-evm's is a static-gas `_FastOpcode` (same gas cost
    and mnemonic); everything else as it was."""
    out = dict(opcodes)
    for number, logic in FAST.items():
        old = out.get(number)
        if type(old) is _FastOpcode:
            out[number] = _FastOpcode(logic, old.mnemonic, old.gas_cost)
    return out

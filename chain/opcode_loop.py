"""The untraced opcode loop: reads the code bytes directly and runs the commonest opcodes itself.

`pip install` compiles this module with mypyc (setup.py; chain/compiled.py picks the build, and runs this source
when there is none or it is stale). The opcodes run here are exactly those of fast_ops.FAST that the fork's table
holds in their lean version (so their static gas is py-evm's, read from the table); the program counter and gas
stay in locals while they run and are handed back to py-evm's objects before any other opcode, any memory growth
(py-evm charges it) and on the way out. Everything else - dynamic gas, calls, storage, errors - is py-evm's, but for
one kind of call: a STATICCALL to ECRECOVER runs here without a child computation (`_static_call_to_ecrecover`;
tests/chain/test_inline_ecrecover_call.py compares it with py-evm's call path).
tests/chain/test_fast_ops.py runs random programs through this loop and through py-evm's own opcode table and
compares every result, gas figure and error.
"""

from __future__ import annotations

from typing import Any

from eth.exceptions import FullStack, Halt, InsufficientStack, InvalidInstruction, InvalidJumpDestination, OutOfGas
from eth.vm.forks.berlin.constants import COLD_ACCOUNT_ACCESS_COST, WARM_STORAGE_READ_COST
from eth.vm.forks.berlin.logic import StaticCallEIP2929
from eth.vm.forks.prague.logic import StaticCallEIP7702
from eth.vm.logic.invalid import InvalidOpcode
from eth.vm.opcode import _FastOpcode

from .fast_ops import FAST
from .fast_precompiles import ECRECOVER, ECRECOVER_GAS, ecrecover, recovered

MASK = 2**256 - 1
SIGN = 2**255
JUMPDEST = 0x5B
_costs_of: dict[int, tuple[Any, list[int]]] = {}  # id(opcode table) -> (the table, its static gas per inline opcode)
# code -> the positions py-evm found valid and invalid as jump targets: shared by every run of the same code, so a
# contract's JUMPDESTs are checked once, not again in each call (py-evm keeps them per CodeStream, one per message)
_jump_analyses: dict[bytes, tuple[set[int], set[int]]] = {}
MAX_JUMP_ANALYSES = 512
ADDRESS_MASK = 2**160 - 1
STATICCALL = 0xFA
# py-evm's STATICCALL since Berlin (EIP-2929 access costs): a fork's table holds a subclass configure() made of one
STATIC_CALLS = (StaticCallEIP2929, StaticCallEIP7702)


def _shared_jump_analysis(code: Any, raw: bytes) -> set[int]:
    """`code`'s valid jump targets, as a set shared with every CodeStream of the same bytes (py-evm's own checks
    fill it through `code.valid_positions`)."""
    known = _jump_analyses.get(raw)
    if known is None:
        if len(_jump_analyses) >= MAX_JUMP_ANALYSES:
            _jump_analyses.clear()
        known = (code.valid_positions, code.invalid_positions)
        _jump_analyses[raw] = known
    else:
        code.valid_positions, code.invalid_positions = known
    return known[0]


def _inline_costs(lookup: dict[int, Any]) -> list[int]:
    """Static gas of each opcode this loop runs itself (those whose lean version the table holds), -1 for others."""
    known = _costs_of.get(id(lookup))
    if known is not None and known[0] is lookup:
        return known[1]
    costs = [-1] * 256
    for number, logic in FAST.items():
        op = lookup.get(number)
        if op is not None and type(op) is _FastOpcode and op.logic_fn is logic:
            costs[number] = op.gas_cost
    _costs_of[id(lookup)] = (lookup, costs)
    return costs


def _int(value: Any) -> int:
    return value if type(value) is int else int.from_bytes(value, "big")


def _underflow(name: str) -> InsufficientStack:
    return InsufficientStack(f"Insufficient stack items for {name}")


def _signed(value: int) -> int:
    return value - 2 * (value & SIGN)


def _static_call_to_ecrecover(computation: Any, fn: Any, values: list[Any]) -> bool:
    """STATICCALL to the ECRECOVER precompile (settlement checks every order's signature with one) without the
    child message and computation py-evm builds for it: False, having changed nothing, unless the call is one
    whose every effect this reproduces - gas (static, memory growth, the EIP-2929 account load, the 63/64 rule,
    the precompile's 3,000 or all of the child's gas when short), return data, the output in memory and the
    success flag. Not taken at the depth limit, when 0x01 holds code, or when 0x01 is an account that exists and
    is empty (py-evm's touch would have the transaction delete it; otherwise the touch leaves nothing behind: a
    missing account stays missing, one with a balance stays)."""
    if len(values) < 6 or _int(values[-2]) & ADDRESS_MASK != 1 or type(fn).__mro__[1] not in STATIC_CALLS:
        return False
    if computation.msg.depth >= 1024 or computation.precompiles.get(ECRECOVER) is not ecrecover:
        return False
    state = computation.state
    if state.get_code(ECRECOVER) or (state.account_exists(ECRECOVER) and state.account_is_empty(ECRECOVER)):
        return False
    computation.consume_gas(fn.gas_cost, reason=fn.mnemonic)
    requested = _int(values.pop())
    values.pop()
    in_start, in_size = _int(values.pop()), _int(values.pop())
    out_start, out_size = _int(values.pop()), _int(values.pop())
    computation.extend_memory(in_start, in_size)
    computation.extend_memory(out_start, out_size)
    data = computation.memory_read_bytes(in_start, in_size)
    if state.is_address_warm(ECRECOVER):
        load = WARM_STORAGE_READ_COST
    else:
        state.mark_address_warm(ECRECOVER)
        load = COLD_ACCOUNT_ACCESS_COST
    computation.consume_gas(load, reason=f"{fn.mnemonic} charges implicit account load for reading code")
    remaining: int = computation._gas_meter.gas_remaining
    child_gas = min(requested, remaining - remaining // 64)
    computation.consume_gas(child_gas, reason=fn.mnemonic)
    if child_gas < ECRECOVER_GAS:  # the precompile runs out of gas: the call fails and its gas is gone
        computation.return_data = b""
        values.append(0)
        return True
    output = recovered(data)
    computation.return_data = output
    values.append(1)
    size = min(out_size, len(output))
    if size:
        computation.memory_write(out_start, size, output[:size])
    computation.return_gas(child_gas - ECRECOVER_GAS)
    return True


def run(computation: Any, lookup: dict[int, Any], inline_calls: bool = False) -> None:
    """Run `computation`'s code with the opcode table `lookup` from its program counter until it halts (Halt, STOP
    or the end of the code). A table without fast_ops' versions (py-evm's own) runs every opcode py-evm's way.
    With `inline_calls`, a STATICCALL to ECRECOVER runs here (`_static_call_to_ecrecover`): no child computation
    reaches a tracer or the computation's children."""
    code = computation.code
    raw: bytes = code._raw_code_bytes
    end = len(raw)
    meter = computation._gas_meter
    values: list[Any] = computation._stack.values
    costs = _inline_costs(lookup)
    valid_jumps: set[int] = _shared_jump_analysis(code, raw)
    pc: int = code.program_counter
    gas: int = meter.gas_remaining
    calldata = b""
    have_calldata = False
    handed_over = False  # True while py-evm's objects hold the current pc and gas (the locals may be stale)
    try:
        while True:
            opcode: int = raw[pc] if pc < end else 0x00  # running off the end is STOP
            pc += 1
            cost = costs[opcode]
            if cost < 0:  # py-evm's opcode
                code.program_counter = pc
                meter.gas_remaining = gas
                handed_over = True
                fn = lookup.get(opcode)
                if fn is None:
                    fn = InvalidOpcode(opcode)
                try:
                    if opcode == STATICCALL and inline_calls and _static_call_to_ecrecover(computation, fn, values):
                        pass
                    elif type(fn) is _FastOpcode:
                        static: int = fn.gas_cost
                        if static > gas:
                            raise OutOfGas(f"Out of gas: Needed {static} - Remaining {gas} - Reason: {fn.mnemonic}")
                        meter.gas_remaining = gas - static
                        fn.logic_fn(computation)
                    else:
                        fn(computation=computation)
                except Halt:
                    break
                if opcode == 0x00:
                    break
                pc = code.program_counter
                gas = meter.gas_remaining
                handed_over = False
                continue
            if cost > gas:
                raise OutOfGas(f"Out of gas: Needed {cost} - Remaining {gas} - Reason: {lookup[opcode].mnemonic}")
            gas -= cost
            if 0x5F <= opcode < 0xA0:
                if opcode < 0x80:  # PUSH0-32
                    if len(values) > 1023:
                        raise FullStack("Stack limit reached")
                    if opcode == 0x5F:
                        values.append(0)
                        continue
                    stop = pc + opcode - 0x5F
                    if opcode < 0x67 and stop <= end:  # PUSH1-7, the commonest: read byte by byte as a native
                        pushed = 0                      # integer (compiled), without a slice and int.from_bytes
                        while pc < stop:
                            pushed = (pushed << 8) | raw[pc]
                            pc += 1
                        values.append(pushed)
                        continue
                    chunk = raw[pc:stop]
                    if stop > end:  # past the end of the code: zeros on the right
                        chunk = chunk.ljust(opcode - 0x5F, b"\x00")
                    pc = stop
                    values.append(int.from_bytes(chunk, "big"))
                elif opcode < 0x90:  # DUP1-16
                    position = opcode - 0x7F
                    if len(values) > 1023:
                        raise FullStack("Stack limit reached")
                    if len(values) < position:
                        raise _underflow(f"DUP{position}")
                    values.append(values[-position])
                else:  # SWAP1-16
                    position = opcode - 0x8F
                    if len(values) <= position:
                        raise _underflow(f"SWAP{position}")
                    values[-1], values[-position - 1] = values[-position - 1], values[-1]
            elif opcode == JUMPDEST:
                pass
            elif opcode == 0x56 or opcode == 0x57:  # JUMP, JUMPI
                if opcode == 0x56:
                    if not values:
                        raise _underflow("JUMP")
                    destination = _int(values.pop())
                else:
                    if len(values) < 2:
                        raise _underflow("JUMPI")
                    destination = _int(values.pop())
                    if not _int(values.pop()):
                        continue
                pc = destination
                if destination >= end or raw[destination] != JUMPDEST:
                    raise InvalidJumpDestination("Invalid Jump Destination")
                if destination not in valid_jumps and not code.is_valid_opcode(destination):
                    raise InvalidInstruction("Jump resulted in invalid instruction")
            elif opcode == 0x51:  # MLOAD
                if not values:
                    raise _underflow("MLOAD")
                start = _int(values[-1])
                memory: bytearray = computation._memory._bytes
                if start + 32 > len(memory):  # grows (and pays for it) as py-evm grows it
                    code.program_counter, meter.gas_remaining, handed_over = pc, gas, True
                    computation.extend_memory(start, 32)
                    gas, handed_over = meter.gas_remaining, False
                    memory = computation._memory._bytes
                values[-1] = int.from_bytes(memory[start:start + 32], "big")
            elif opcode == 0x52:  # MSTORE
                if len(values) < 2:
                    raise _underflow("MSTORE")
                start = _int(values.pop())
                word = _int(values.pop()).to_bytes(32, "big")
                memory = computation._memory._bytes
                if start + 32 > len(memory):
                    code.program_counter, meter.gas_remaining, handed_over = pc, gas, True
                    computation.extend_memory(start, 32)
                    gas, handed_over = meter.gas_remaining, False
                    memory = computation._memory._bytes
                memory[start:start + 32] = word
            elif opcode == 0x50:  # POP
                if not values:
                    raise _underflow("POP")
                values.pop()
            elif opcode == 0x15:  # ISZERO
                if not values:
                    raise _underflow("ISZERO")
                values[-1] = 0 if _int(values[-1]) else 1
            elif opcode == 0x19:  # NOT
                if not values:
                    raise _underflow("NOT")
                values[-1] = MASK ^ _int(values[-1])
            elif opcode == 0x35:  # CALLDATALOAD
                if not values:
                    raise _underflow("CALLDATALOAD")
                start = _int(values[-1])
                if not have_calldata:  # py-evm copies the message's data on every read of data_as_bytes
                    calldata, have_calldata = computation.msg.data_as_bytes, True
                values[-1] = int.from_bytes(calldata[start:start + 32].ljust(32, b"\x00"), "big")
            elif opcode == 0x20 or opcode == 0x5E or opcode == 0x39:  # SHA3, MCOPY, CODECOPY: memory growth and
                # word gas, as fast_ops runs them
                code.program_counter, meter.gas_remaining, handed_over = pc, gas, True
                FAST[opcode](computation)
                gas, handed_over = meter.gas_remaining, False
            else:  # the binary operations: a = top, b = next
                if len(values) < 2:
                    raise _underflow(lookup[opcode].mnemonic)
                a = _int(values.pop())
                b = _int(values[-1])
                if opcode == 0x01:
                    values[-1] = (a + b) & MASK
                elif opcode == 0x03:
                    values[-1] = (a - b) & MASK
                elif opcode == 0x02:
                    values[-1] = (a * b) & MASK
                elif opcode == 0x04:
                    values[-1] = a // b if b else 0
                elif opcode == 0x06:
                    values[-1] = a % b if b else 0
                elif opcode == 0x10:
                    values[-1] = 1 if a < b else 0
                elif opcode == 0x11:
                    values[-1] = 1 if a > b else 0
                elif opcode == 0x12:
                    values[-1] = 1 if _signed(a) < _signed(b) else 0
                elif opcode == 0x13:
                    values[-1] = 1 if _signed(a) > _signed(b) else 0
                elif opcode == 0x14:
                    values[-1] = 1 if a == b else 0
                elif opcode == 0x16:
                    values[-1] = a & b
                elif opcode == 0x17:
                    values[-1] = a | b
                elif opcode == 0x18:
                    values[-1] = a ^ b
                elif opcode == 0x1B:
                    values[-1] = (b << a) & MASK if a < 256 else 0
                elif opcode == 0x1C:
                    values[-1] = b >> a if a < 256 else 0
                else:
                    raise AssertionError(f"opcode 0x{opcode:02x} has a lean version this loop does not run")
    finally:
        if not handed_over:
            code.program_counter = pc
            meter.gas_remaining = gas

"""eth_call's commonest case - view code reading storage and other contracts' views - run without py-evm's objects.

A call that reads storage and computes (a balance, a reserve, a quote through a pair, a proxy's getter) spends
most of its time in py-evm's message, computation, stack and gas-meter objects rather than in its opcodes. `run`
interprets such code directly: the stack is a list of ints, memory a bytearray, the state read through callables
(`Calls`), inner calls (STATICCALL, DELEGATECALL, CALL without value) a recursive `_frame`. It runs only what it
can run exactly and answers None - having changed nothing - the moment it meets anything else, so that py-evm runs
the call from the start and the answer and every error keep one source:

- opcodes outside SUPPORTED or absent from the fork's table (logs, SSTORE, GAS but before a call, code hashes,
  block hashes, PREVRANDAO, blobs, creation, INVALID...), a revert of the outermost frame (py-evm phrases the
  error);
- an inner call with value, to a precompile but ECRECOVER and IDENTITY (or to one of those two with less gas than
  it costs), to an EIP-7702 delegation or to console.log's address, or nested MAX_DEPTH deep;
- an invalid jump, a stack under- or overflow, memory past MAX_MEMORY, a RETURNDATACOPY past the return data -
  in any frame (an inner frame's REVERT is an answer: the caller sees a failed call and its return data);
- gas: it charges an upper bound of what py-evm charges (the fork's static gas, memory growth, SHA3/copy words,
  EXP bytes, every SLOAD and account access as a cold one), so a call that fits in its gas here fits in py-evm
  too, and one that might not is py-evm's to run out of gas. An inner call gets at most what py-evm would give it
  (all but a 64th of what is left here, which is at most what is left there), so an inner call that completes
  here completes there. A call's answer does not depend on its gas otherwise: GAS runs only where its value is
  the gas of the call right after it (`GAS; STATICCALL`, as compilers call), which then gets all but a 64th of
  what is left - the value here is lower than py-evm's, so the call gets at most what py-evm gives it, as above.

`pip install` compiles this module with mypyc (chain/compiled.py picks the build); tests/chain/
test_call_interpreter.py runs random programs (calling each other) and the platform's contracts' views through it
and through py-evm.
"""

from __future__ import annotations

from typing import Any, Callable, Final

from .fast_precompiles import ECRECOVER_GAS
from .hashing import keccak

MASK: Final = 2**256 - 1
SIGN: Final = 2**255
MAX_STACK: Final = 1024
MAX_MEMORY: Final = 1 << 22  # bytes: a call wanting more is py-evm's (it would cost ~32M gas anyway)
COLD_SLOAD: Final = 2100  # EIP-2929: the most an SLOAD has cost since Berlin (and more than it cost before)
COLD_ACCOUNT: Final = 2600  # EIP-2929: the most a call's or EXTCODESIZE's account access costs (700 before Berlin)
ADDRESS_MASK: Final = 2**160 - 1
MAX_DEPTH: Final = 64  # inner calls nested deeper are py-evm's (its limit is 1024)
ECRECOVER: Final = 1  # the precompiles run here (the others are py-evm's)
IDENTITY: Final = 4
LEFT: Final = -1  # a frame's outcome: left to py-evm
REVERTED: Final = 0
DONE: Final = 1
MAX_JUMP_TABLES: Final = 512

# opcode numbers (Final: a compiled build keeps them as C constants, not module lookups)
SHA3: Final = 0x20
CALLDATALOAD: Final = 0x35
CALLDATACOPY: Final = 0x37
CODECOPY: Final = 0x39
MLOAD: Final = 0x51
MSTORE: Final = 0x52
MSTORE8: Final = 0x53
SLOAD: Final = 0x54
JUMP: Final = 0x56
JUMPI: Final = 0x57
JUMPDEST: Final = 0x5B
MCOPY: Final = 0x5E
PUSH0: Final = 0x5F
PUSH1: Final = 0x60
PUSH32: Final = 0x7F
DUP1: Final = 0x80
DUP16: Final = 0x8F
SWAP1: Final = 0x90
SWAP16: Final = 0x9F
RETURN: Final = 0xF3
REVERT: Final = 0xFD
CALL: Final = 0xF1
DELEGATECALL: Final = 0xF4
STATICCALL: Final = 0xFA
EXTCODESIZE: Final = 0x3B
BALANCE: Final = 0x31
GAS: Final = 0x5A
SELFBALANCE: Final = 0x47
RETURNDATACOPY: Final = 0x3E
BLOCK_FIELDS: Final = (0x41, 0x42, 0x43, 0x45, 0x48)  # COINBASE, TIMESTAMP, NUMBER, GASLIMIT, BASEFEE
SUPPORTED: Final = frozenset([*range(0x00, 0x0C), *range(0x10, 0x1E), SHA3, 0x30, 0x32, 0x33, 0x34, CALLDATALOAD,
                              0x36, CALLDATACOPY, 0x38, CODECOPY, EXTCODESIZE, 0x3D, RETURNDATACOPY, *BLOCK_FIELDS,
                              BALANCE, 0x46, SELFBALANCE, 0x50, GAS, CALL, STATICCALL, DELEGATECALL, REVERT, MLOAD, MSTORE, MSTORE8, SLOAD, JUMP,
                              JUMPI, 0x58, 0x59, JUMPDEST, MCOPY, *range(PUSH0, SWAP16 + 1), RETURN])

_costs_of: dict[int, tuple[Any, list[int]]] = {}  # id(opcode table) -> (the table, the static gas of each opcode)
_jump_tables: dict[bytes, bytes] = {}  # code -> a byte per position: 1 where a JUMPDEST opcode stands


def static_costs(table: dict[int, Any]) -> list[int]:
    """Each opcode's static gas in a fork's opcode table (py-evm's `computation_class.opcodes`), -1 for those this
    interpreter leaves to py-evm."""
    known = _costs_of.get(id(table))
    if known is not None and known[0] is table:
        return known[1]
    costs = [-1] * 256
    for number in SUPPORTED:
        op = table.get(number)
        if op is not None:
            costs[number] = int(op.gas_cost)
    _costs_of[id(table)] = (table, costs)
    return costs


def jump_table(code: bytes) -> bytes:
    """Where `code` may jump to: JUMPDEST bytes that are not PUSH data (kept per code, a bounded number)."""
    known = _jump_tables.get(code)
    if known is not None:
        return known
    marks = bytearray(len(code))
    i = 0
    end = len(code)
    while i < end:
        op = code[i]
        if op == JUMPDEST:
            marks[i] = 1
        elif PUSH1 <= op <= PUSH32:
            i += op - PUSH0
        i += 1
    if len(_jump_tables) >= MAX_JUMP_TABLES:
        _jump_tables.clear()
    table = bytes(marks)
    _jump_tables[code] = table
    return table


def _signed(value: int) -> int:
    return value - 2 * (value & SIGN)


def _grow(memory: bytearray, start: int, size: int) -> int:
    """Grow memory to hold `size` bytes from `start` (nothing for size 0); the gas that costs, or -1 past
    MAX_MEMORY."""
    if not size:
        return 0
    end = start + size
    have = len(memory)
    if end <= have:
        return 0
    if end > MAX_MEMORY:
        return -1
    old = have >> 5
    new = (end + 31) >> 5
    memory.extend(bytes((new - old) << 5))
    return 3 * (new - old) + (new * new >> 9) - (old * old >> 9)


def _padded(source: bytes, start: int, size: int) -> bytes:
    """`size` bytes of `source` from `start`, zeros past its end."""
    if start >= len(source):
        return bytes(size)
    piece = source[start:start + size]
    return piece + bytes(size - len(piece)) if len(piece) < size else piece


class Calls:
    """What every frame of one call reads: the fork's gas table, the origin, the chain id, and the state through
    callables - `storage(address, slot)`, `block(opcode)` (BLOCK_FIELDS) and `code_of(address)` (None for an
    account whose code this does not run: a precompile, an EIP-7702 delegation, console.log's address), `balance(address)` (as it is once
    the call has bought its gas and moved its value) - and `recover(input)`, ECRECOVER's output for an input."""

    def __init__(self, costs: list[int], origin: int, chain_id: int, storage: Callable[[int, int], int],
                 block: Callable[[int], int], code_of: Callable[[int], bytes | None],
                 balance: Callable[[int], int], recover: Callable[[bytes], bytes]) -> None:
        self.costs = costs
        self.origin = origin
        self.chain_id = chain_id
        self.storage = storage
        self.block = block
        self.code_of = code_of
        self.balance = balance
        self.recover = recover


def run(calls: Calls, code: bytes, data: bytes, gas: int, address: int, value: int) -> bytes | None:
    """The output of running `code` as the outermost frame of a call with `gas` (after intrinsic gas) from
    `calls.origin` to `address` with `value` and calldata `data`; None if the call is not one this runs (see the
    module's docstring)."""
    status, output, _ = _frame(calls, code, data, gas, address, calls.origin, value, 0)
    return output if status == DONE else None


def _frame(calls: Calls, code: bytes, data: bytes, gas: int, address: int, caller: int, value: int,
           depth: int) -> tuple[int, bytes, int]:
    """Run one frame: (DONE or REVERTED, its output, the gas it has left), or (LEFT, ...) for a call this leaves
    to py-evm. A REVERT is an answer only below the outermost frame (the caller sees it as a failed call)."""
    costs = calls.costs
    stack: list[int] = []
    memory = bytearray()
    returned = b""  # the last inner call's return data
    jumps = b""
    pc = 0
    end = len(code)
    while pc < end:
        op = code[pc]
        cost = costs[op]
        if cost < 0:
            return LEFT, b"", 0
        gas -= cost
        if gas < 0:
            return LEFT, b"", 0
        pc += 1
        size = len(stack)
        if PUSH1 <= op <= PUSH32:
            if size >= MAX_STACK:
                return LEFT, b"", 0
            n = op - PUSH0
            if n <= 4 and pc + n <= end:  # a few bytes: no bytes object, no method call
                word = 0
                for i in range(pc, pc + n):
                    word = (word << 8) | code[i]
            else:
                chunk = code[pc:pc + n]
                word = int.from_bytes(chunk, "big")
                if len(chunk) < n:
                    word <<= 8 * (n - len(chunk))
            stack.append(word)
            pc += n
        elif DUP1 <= op <= DUP16:
            n = op - DUP1 + 1
            if size < n or size >= MAX_STACK:
                return LEFT, b"", 0
            stack.append(stack[size - n])
        elif SWAP1 <= op <= SWAP16:
            n = op - SWAP1 + 1
            if size <= n:
                return LEFT, b"", 0
            stack[size - 1], stack[size - 1 - n] = stack[size - 1 - n], stack[size - 1]
        elif op == JUMPDEST:
            pass
        elif op == JUMP or op == JUMPI:
            if size < (1 if op == JUMP else 2):
                return LEFT, b"", 0
            target = stack.pop()
            if op == JUMPI and not stack.pop():
                continue
            if not jumps:
                jumps = jump_table(code)
            if target >= end or not jumps[target]:
                return LEFT, b"", 0
            pc = target
        elif op == PUSH0:
            if size >= MAX_STACK:
                return LEFT, b"", 0
            stack.append(0)
        elif op == 0x50:  # POP
            if not size:
                return LEFT, b"", 0
            stack.pop()
        elif op <= 0x1D:
            if not op:  # STOP
                return DONE, b"", gas
            if op == 0x0A and size >= 2:  # EXP: 50 gas per byte of the exponent (since Spurious Dragon; 10 before)
                gas -= 50 * ((stack[-2].bit_length() + 7) >> 3)
                if gas < 0:
                    return LEFT, b"", 0
            if not _arithmetic(op, stack):
                return LEFT, b"", 0
        elif op == MLOAD or op == MSTORE or op == MSTORE8:
            need = 1 if op == MLOAD else 2
            if size < need:
                return LEFT, b"", 0
            offset = stack.pop()
            grown = _grow(memory, offset, 1 if op == MSTORE8 else 32)
            if grown < 0:
                return LEFT, b"", 0
            gas -= grown
            if gas < 0:
                return LEFT, b"", 0
            if op == MLOAD:
                stack.append(int.from_bytes(memory[offset:offset + 32], "big"))
            elif op == MSTORE:
                memory[offset:offset + 32] = stack.pop().to_bytes(32, "big")
            else:
                memory[offset] = stack.pop() & 0xFF
        elif op == SLOAD:
            if not size:
                return LEFT, b"", 0
            gas -= COLD_SLOAD
            if gas < 0:
                return LEFT, b"", 0
            stack[-1] = calls.storage(address, stack[-1])
        elif op == CALLDATALOAD:
            if not size:
                return LEFT, b"", 0
            start = stack[-1]
            stack[-1] = int.from_bytes(_padded(data, start, 32), "big") if start < len(data) else 0
        elif op == SHA3:
            if size < 2:
                return LEFT, b"", 0
            start = stack.pop()
            length = stack[-1]
            grown = _grow(memory, start, length)
            if grown < 0:
                return LEFT, b"", 0
            gas -= grown + 6 * ((length + 31) >> 5)
            if gas < 0:
                return LEFT, b"", 0
            stack[-1] = int.from_bytes(keccak(bytes(memory[start:start + length]) if length else b""), "big")
        elif op == RETURN or op == REVERT:
            if size < 2 or (op == REVERT and not depth):  # the outermost frame's revert: py-evm's error
                return LEFT, b"", 0
            start = stack.pop()
            length = stack.pop()
            grown = _grow(memory, start, length)
            if grown < 0 or gas < grown:
                return LEFT, b"", 0
            output = bytes(memory[start:start + length]) if length else b""
            return (DONE if op == RETURN else REVERTED), output, gas - grown
        elif op == CALLDATACOPY or op == CODECOPY or op == MCOPY or op == RETURNDATACOPY:
            if size < 3:
                return LEFT, b"", 0
            target = stack.pop()
            start = stack.pop()
            length = stack.pop()
            if op == RETURNDATACOPY and start + length > len(returned):  # an exceptional halt
                return LEFT, b"", 0
            if not length:
                continue
            grown = _grow(memory, target, length)
            source_grown = _grow(memory, start, length) if op == MCOPY else 0
            if grown < 0 or source_grown < 0:
                return LEFT, b"", 0
            gas -= grown + source_grown + 3 * ((length + 31) >> 5)
            if gas < 0:
                return LEFT, b"", 0
            if op == MCOPY:
                memory[target:target + length] = memory[start:start + length]
            elif op == RETURNDATACOPY:
                memory[target:target + length] = returned[start:start + length]
            else:
                memory[target:target + length] = _padded(data if op == CALLDATACOPY else code, start, length)
        elif op == CALL or op == STATICCALL or op == DELEGATECALL:
            if size < (7 if op == CALL else 6) or depth >= MAX_DEPTH:
                return LEFT, b"", 0
            requested = stack.pop()
            to = stack.pop() & ADDRESS_MASK
            if op == CALL and stack.pop():  # a value transfer: py-evm's
                return LEFT, b"", 0
            in_start = stack.pop()
            in_length = stack.pop()
            out_start = stack.pop()
            out_length = stack.pop()
            grown = _grow(memory, in_start, in_length)
            out_grown = _grow(memory, out_start, out_length)
            if grown < 0 or out_grown < 0:
                return LEFT, b"", 0
            gas -= grown + out_grown + COLD_ACCOUNT
            if gas < 0:
                return LEFT, b"", 0
            child_gas = min(requested, gas - (gas >> 6))  # EIP-150: all but one 64th at most
            callee = calls.code_of(to) if to != ECRECOVER and to != IDENTITY else b""
            if callee is None:
                return LEFT, b"", 0
            gas -= child_gas
            if to == ECRECOVER or to == IDENTITY:  # in any kind of call, the precompile's function of the input
                arguments = bytes(memory[in_start:in_start + in_length])
                price = ECRECOVER_GAS if to == ECRECOVER else 15 + 3 * ((in_length + 31) >> 5)
                if child_gas < price:  # py-evm's child may have more: whether it runs out is py-evm's to say
                    return LEFT, b"", 0
                status, left = DONE, child_gas - price
                output = calls.recover(arguments) if to == ECRECOVER else arguments
            elif not callee:  # an account without code: the call succeeds and returns nothing
                status, output, left = DONE, b"", child_gas
            elif op == DELEGATECALL:  # its code on this frame's account, sender and value
                status, output, left = _frame(calls, callee, bytes(memory[in_start:in_start + in_length]),
                                              child_gas, address, caller, value, depth + 1)
            else:
                status, output, left = _frame(calls, callee, bytes(memory[in_start:in_start + in_length]),
                                              child_gas, to, address, 0, depth + 1)
            if status == LEFT:
                return LEFT, b"", 0
            gas += left
            returned = output
            copied = min(out_length, len(output))
            if copied:
                memory[out_start:out_start + copied] = output[:copied]
            stack.append(1 if status == DONE else 0)
        elif op == EXTCODESIZE or op == BALANCE:
            if not size:
                return LEFT, b"", 0
            gas -= COLD_ACCOUNT
            if gas < 0:
                return LEFT, b"", 0
            if op == BALANCE:
                stack[-1] = calls.balance(stack[-1] & ADDRESS_MASK)
                continue
            callee = calls.code_of(stack[-1] & ADDRESS_MASK)
            if callee is None:
                return LEFT, b"", 0
            stack[-1] = len(callee)
        else:
            if size >= MAX_STACK:
                return LEFT, b"", 0
            if op == 0x30:  # ADDRESS
                stack.append(address)
            elif op == 0x32:  # ORIGIN
                stack.append(calls.origin)
            elif op == 0x33:  # CALLER
                stack.append(caller)
            elif op == 0x34:  # CALLVALUE
                stack.append(value)
            elif op == 0x36:  # CALLDATASIZE
                stack.append(len(data))
            elif op == 0x38:  # CODESIZE
                stack.append(end)
            elif op == 0x3D:  # RETURNDATASIZE
                stack.append(len(returned))
            elif op == 0x46:  # CHAINID
                stack.append(calls.chain_id)
            elif op == SELFBALANCE:
                stack.append(calls.balance(address))
            elif op == GAS:  # only as the gas of the call right after it (how compilers call): see the docstring
                following = code[pc] if pc < end else 0
                if following != CALL and following != STATICCALL and following != DELEGATECALL:
                    return LEFT, b"", 0
                stack.append(gas)
            elif 0x41 <= op <= 0x48:  # the block's fields (the others have no static cost here)
                stack.append(calls.block(op))
            elif op == 0x58:  # PC
                stack.append(pc - 1)
            elif op == 0x59:  # MSIZE
                stack.append(len(memory))
            else:
                return LEFT, b"", 0
    return DONE, b"", gas


def _arithmetic(op: int, stack: list[int]) -> bool:
    """Run one arithmetic, comparison or bitwise opcode (0x01-0x1D) on `stack`; False on a stack underflow or an
    opcode number with none."""
    size = len(stack)
    if op == 0x15 or op == 0x19:  # ISZERO, NOT
        if not size:
            return False
        a = stack[-1]
        stack[-1] = (0 if a else 1) if op == 0x15 else MASK ^ a
        return True
    if op == 0x08 or op == 0x09:  # ADDMOD, MULMOD
        if size < 3:
            return False
        a = stack.pop()
        b = stack.pop()
        n = stack[-1]
        stack[-1] = 0 if not n else ((a + b) % n if op == 0x08 else (a * b) % n)
        return True
    if size < 2:
        return False
    a = stack.pop()
    b = stack[-1]
    if op == 0x01:
        r = (a + b) & MASK
    elif op == 0x02:
        r = (a * b) & MASK
    elif op == 0x03:
        r = (a - b) & MASK
    elif op == 0x04:
        r = a // b if b else 0
    elif op == 0x05:  # SDIV
        if not b:
            r = 0
        else:
            sa, sb = _signed(a), _signed(b)
            q = abs(sa) // abs(sb)
            r = (-q if (sa < 0) != (sb < 0) else q) & MASK
    elif op == 0x06:
        r = a % b if b else 0
    elif op == 0x07:  # SMOD
        if not b:
            r = 0
        else:
            sa = _signed(a)
            m = abs(sa) % abs(_signed(b))
            r = (-m if sa < 0 else m) & MASK
    elif op == 0x0A:  # EXP (its gas per exponent byte: see run)
        r = pow(a, b, 2**256)
    elif op == 0x0B:  # SIGNEXTEND
        if a > 30:
            r = b
        else:
            bit = 1 << (8 * a + 7)
            r = (b | (MASK - bit + 1)) if b & bit else (b & (bit - 1))
    elif op == 0x10:
        r = 1 if a < b else 0
    elif op == 0x11:
        r = 1 if a > b else 0
    elif op == 0x12:
        r = 1 if _signed(a) < _signed(b) else 0
    elif op == 0x13:
        r = 1 if _signed(a) > _signed(b) else 0
    elif op == 0x14:
        r = 1 if a == b else 0
    elif op == 0x16:
        r = a & b
    elif op == 0x17:
        r = a | b
    elif op == 0x18:
        r = a ^ b
    elif op == 0x1A:  # BYTE
        r = (b >> (248 - 8 * a)) & 0xFF if a < 32 else 0
    elif op == 0x1B:  # SHL
        r = (b << a) & MASK if a < 256 else 0
    elif op == 0x1C:  # SHR
        r = b >> a if a < 256 else 0
    elif op == 0x1D:  # SAR
        sb = _signed(b)
        r = (sb >> a if a < 256 else (0 if sb >= 0 else -1)) & MASK
    else:  # 0x0C-0x0F and 0x1E-0x1F have no static cost, so never come here
        stack.append(a)
        return False
    stack[-1] = r
    return True

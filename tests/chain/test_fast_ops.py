"""The lean opcodes (chain/fast_ops.py, run by chain/opcode_loop.py) against py-evm's own: random programs - stack
and arithmetic words, comparisons, memory words at small and huge offsets, jumps to good and bad destinations, PUSH
past the end of the code - run through both opcode tables; their struct-log traces (every step's stack, memory and
gas), results and errors must be the same. Each runs twice: through the opcode loop this install runs (compiled by
mypyc when it could be) and through its Python source."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain import Node, NodeConfig
from chain.execution import PENDING
from chain.fast_ops import FAST
from chain.provider import BourseProvider
from chain.rpc.params import CallRequest

TARGET = "0x" + "42" * 20
OPS = sorted(op for op in FAST if not 0x60 <= op <= 0x7F)
DUMP = bytes([0x60, 0x00, 0x52, 0x60, 0x20, 0x52, 0x60, 0x40, 0x52,  # the top three words to memory 0..95
              0x59, 0x60, 0x00, 0xF3])  # RETURN(0, MSIZE)


@pytest.fixture(scope="module")
def node(opcode_loop_build: str) -> Node:
    return Node(NodeConfig(predeploy=False))


def word(draw: Any) -> bytes:
    size = draw(st.integers(1, 32))
    value = draw(st.one_of(st.integers(0, 3), st.integers(0, 300), st.integers(0, 2**(8 * size) - 1),
                           st.sampled_from([0, 1, 2**255 >> (256 - 8 * size), 2**(8 * size) - 1])))
    return bytes([0x5F + size]) + (value % 2**(8 * size)).to_bytes(size, "big")


@st.composite
def programs(draw: Any) -> bytes:
    code = bytearray()
    for _ in range(24):  # a deep stack first, so that most programs run to the end
        code += word(draw)
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.integers(0, 9))
        if kind < 4:
            code += word(draw)
        elif kind == 4:  # a memory offset, usually small
            code += bytes([0x61]) + draw(st.one_of(st.integers(0, 200), st.integers(0, 65535))).to_bytes(2, "big")
        elif kind == 5:  # a jump to a JUMPDEST placed right after it, or to anywhere
            target = len(code) + 4 if draw(st.booleans()) else draw(st.integers(0, 400))
            code += bytes([0x61]) + target.to_bytes(2, "big") + bytes([0x56, 0x5B])
        elif kind == 7:
            code.append(0x5F)  # PUSH0 (inline in the untraced loop)
        elif kind == 6:  # SHA3 of a small region (most random sizes run out of gas)
            code += bytes([0x60, draw(st.integers(0, 96)), 0x60, draw(st.integers(0, 64)), 0x20])
        elif kind == 8 and draw(st.booleans()):  # CODECOPY of a small region, at times past the code's end
            code += bytes([0x60, draw(st.integers(0, 80)), 0x60, draw(st.integers(0, 200)), 0x60,
                           draw(st.integers(0, 64)), 0x39])
        else:
            code.append(draw(st.sampled_from(OPS)))
    if draw(st.integers(0, 4)):
        code += DUMP
    if draw(st.integers(0, 9)) == 0:
        code += bytes([draw(st.integers(0x60, 0x7F))])  # a PUSH that runs off the end
    return bytes(code)


def run(node: Node, code: bytes, gas: int, calldata: bytes) -> Any:
    """The call's struct-log trace (every step's pc, op, gas, cost, stack and memory), result and error - and
    the untraced run's output, gas and error (the untraced loop runs PUSH, DUP and SWAP inline)."""
    reply = BourseProvider(node).call("debug_traceCall", [
        {"to": TARGET, "data": "0x" + calldata.hex(), "gas": hex(gas)}, "latest",
        {"enableMemory": True, "stateOverrides": {TARGET: {"code": "0x" + code.hex()}}}])
    assert "error" not in reply, reply
    req = CallRequest(to=bytes.fromhex(TARGET[2:]), data=calldata, gas=gas)
    with node.lock:
        result = node.executor.run(req, PENDING, {TARGET: {"code": "0x" + code.hex()}})
    return reply["result"], result.output, result.gas_used, type(result.error).__name__


def returned(node: Node, code: bytes) -> tuple[bytes, str]:
    req = CallRequest(to=bytes.fromhex(TARGET[2:]), gas=100_000)
    with node.lock:
        result = node.executor.run(req, PENDING, {TARGET: {"code": "0x" + code.hex()}})
    return result.output, type(result.error).__name__


@contextmanager
def py_evm_opcodes(node: Node) -> Iterator[None]:
    """Inside: the node runs py-evm's own opcode table instead of the lean one (and its own calls)."""
    computation = node.backend.state_class.computation_class
    fast, computation.opcodes = computation.opcodes, computation.__mro__[1].opcodes
    computation.inline_precompile_calls = False
    try:
        yield
    finally:
        computation.opcodes = fast
        computation.inline_precompile_calls = True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code=programs(), spare=st.sampled_from([0, 20, 300, 3_000, 1_000_000]), calldata=st.binary(max_size=70))
def test_the_lean_opcodes_behave_as_py_evm_s(node: Node, code: bytes, spare: int, calldata: bytes) -> None:
    gas = 21_000 + sum(16 if b else 4 for b in calldata) + spare  # from nothing left after the first op to plenty
    computation = node.backend.state_class.computation_class
    fast = computation.opcodes
    original = computation.__mro__[1].opcodes
    assert fast is not original and any(fast[op] is not original[op] for op in FAST)
    lean = run(node, code, gas, calldata)
    with py_evm_opcodes(node):
        reference = run(node, code, gas, calldata)
    assert lean == reference


def test_a_known_program(node: Node) -> None:
    """3 - 1, 2 < 3, a word through memory: the values themselves, not only agreement."""
    code = bytes([0x60, 1, 0x60, 3, 0x03, 0x60, 3, 0x60, 2, 0x10, 0x61, 0x12, 0x34, 0x61, 0x01, 0x00, 0x52,
                  0x61, 0x01, 0x00, 0x51]) + DUMP
    output, error = returned(node, code)
    assert error == "NoneType"
    assert [int.from_bytes(output[i:i + 32], "big") for i in (0, 32, 64)] == [0x1234, 1, 2]


@pytest.mark.parametrize("code", [bytes([0x60, 3, 0x56]), bytes([0x60, 4, 0x56, 0x00]), bytes([0x60, 1, 0x60, 6, 0x57]),
                                  bytes([0x60, 0x7F])])
def test_jumps_to_the_end_of_the_code_and_pushes_past_it(node: Node, code: bytes) -> None:
    lean = returned(node, code)
    with py_evm_opcodes(node):
        assert lean == returned(node, code)


def test_mcopy_copies_overlapping_regions_and_grows_memory_as_py_evm_does(node: Node) -> None:
    """A word at 0, copied 32 bytes to 16 (the regions overlap), then memory returned: the bytes and the gas of
    the memory growth equal py-evm's own MCOPY's."""
    word = bytes(range(1, 33))
    code = (bytes([0x7F]) + word + bytes([0x60, 0x00, 0x52,  # MSTORE(0, word)
                                          0x60, 0x20, 0x60, 0x00, 0x60, 0x10, 0x5E,  # MCOPY(16, 0, 32)
                                          0x59, 0x60, 0x00, 0xF3]))  # RETURN(0, MSIZE)
    lean = returned(node, code)
    assert lean == (word[:16] + word + bytes(16), "NoneType")
    with py_evm_opcodes(node):
        assert lean == returned(node, code)


def test_jump_targets_found_once_are_shared_by_later_runs_of_the_same_code(node: Node) -> None:
    """The loop keeps each code's valid and invalid jump targets across calls: a second and third run of the same
    bytes - one jumping to a JUMPDEST byte inside PUSH data, one to a real JUMPDEST - end exactly as py-evm's own
    table ends them each time."""
    from chain.opcode_loop import _jump_analyses

    into_push_data = bytes([0x61, 0x5B, 0x5B, 0x60, 0x01, 0x56])  # PUSH2 0x5B5B; JUMP(1): inside the PUSH
    to_jumpdest = bytes([0x60, 0x04, 0x56, 0x00, 0x5B,  # JUMP(4) over a STOP to a JUMPDEST, then return 7
                         0x60, 0x07, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xF3])
    for code in (into_push_data, to_jumpdest):
        with py_evm_opcodes(node):
            reference = returned(node, code)
        assert [returned(node, code) for _ in range(3)] == [reference] * 3
        assert code in _jump_analyses
    assert returned(node, into_push_data)[1] == "InvalidInstruction"
    assert returned(node, to_jumpdest) == ((7).to_bytes(32, "big"), "NoneType")


def test_codecopy_pads_past_the_end_of_the_code_with_zeros_over_what_memory_held(node: Node) -> None:
    """A word of ones at 0, then CODECOPY(0, 40, 32) of this 47-byte code: its last 7 bytes, then zeros (past its
    end) over the ones - equal to py-evm's own CODECOPY, gas included."""
    code = bytes([0x7F]) + b"\xff" * 32 + bytes([0x60, 0x00, 0x52,  # MSTORE(0, ones)
                                                 0x60, 0x20, 0x60, 0x28, 0x60, 0x00, 0x39,  # CODECOPY(0, 40, 32)
                                                 0x59, 0x60, 0x00, 0xF3])  # RETURN(0, MSIZE)
    lean = returned(node, code)
    assert len(code) == 47 and lean == (code[40:] + bytes(25), "NoneType")
    with py_evm_opcodes(node):
        assert lean == returned(node, code)
    gas = 60_000
    lean_run = run(node, code, gas, b"")
    with py_evm_opcodes(node):
        assert lean_run == run(node, code, gas, b"")

"""eth_call's interpreter for view code (chain/call_interpreter.py) against py-evm: random programs (calling each
other, themselves and precompiles), edge cases of gas and context, and the platform contracts' views run both
ways; where the interpreter answers, py-evm must succeed with the same output, and where it does not, it must have
changed nothing (the call then runs through py-evm as before). Each test runs with the interpreter this install
runs (compiled by mypyc when it could be) and with its Python source."""

from __future__ import annotations

import random
import sys
from typing import Any, Iterator

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain import Node, NodeConfig, execution
from chain.call_interpreter import SUPPORTED
from chain.compiled import call_interpreter
from chain.execution import PENDING, CallResult
from chain.provider import BourseProvider
from chain.rpc.params import CallRequest
from contracts.artifacts import load
from contracts.predeploy import PREDEPLOYS

TARGET = bytes.fromhex("42" * 20)
OTHER = bytes.fromhex("43" * 20)  # the programs call it, and it calls itself
THIRD = bytes.fromhex("44" * 20)
NOBODY = bytes.fromhex("45" * 20)  # an account without code
SENDER = bytes.fromhex("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266".lower())  # dev account 0
ECRECOVER = (1).to_bytes(20, "big")  # precompiles: the two the interpreter runs, and one it leaves to py-evm
IDENTITY = (4).to_bytes(20, "big")
SHA256 = (2).to_bytes(20, "big")
LEFT_TO_PY_EVM = [0x3A, 0x3F, 0x40, 0x44, 0x55, 0x5A, 0x5C, 0xA1, 0xF0, 0xF2, 0xFE, 0x0C]
ARITHMETIC = sorted(op for op in SUPPORTED if op < 0x60 and op not in (0x00, 0x56, 0x57))
DUMP = bytes([0x60, 0x00, 0x52, 0x60, 0x20, 0x52, 0x60, 0x40, 0x52,  # the top three words to memory 0..95
              0x59, 0x60, 0x00, 0xF3])  # RETURN(0, MSIZE)


@pytest.fixture(scope="module", params=["installed", "source"])
def interpreter_build(request: pytest.FixtureRequest) -> Iterator[str]:
    installed = execution.interpret
    if request.param == "source":
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("BOURSE_PURE_PYTHON", "1")
            execution.interpret = call_interpreter()
        assert type(execution.interpret.run).__name__ == "function"
    try:
        yield request.param
    finally:
        execution.interpret = installed


@pytest.fixture(scope="module")
def node(interpreter_build: str) -> Node:
    return Node(NodeConfig())


def word(rng: random.Random) -> bytes:
    size = rng.randint(1, 32)
    value = rng.choice([rng.randint(0, 3), rng.randint(0, 300), rng.randint(0, 300), rng.getrandbits(8 * size),
                        2**(8 * size) - 1, 2**255 >> (256 - 8 * size)])
    return bytes([0x5F + size]) + (value % 2**(8 * size)).to_bytes(size, "big")


def inner_call(rng: random.Random) -> bytes:
    """CALL (at times with value), STATICCALL or DELEGATECALL of a contract, an account without code or a
    precompile, with small argument and return regions and gas from a little to all; then at times the return
    data's size, or a copy of it (at times past its end)."""
    op = rng.choice([0xF1, 0xFA, 0xF4])
    target = rng.choice([OTHER, OTHER, OTHER, OTHER, THIRD, THIRD, NOBODY, IDENTITY, ECRECOVER, SHA256])
    code = bytearray()
    for value in (rng.randint(0, 64), rng.randint(0, 96), rng.randint(0, 64), rng.randint(0, 96)):
        code += bytes([0x60, value])  # return length and start, argument length and start
    if op == 0xF1:
        code += bytes([0x60, 1 if rng.random() < 0.1 else 0])
    gas = rng.choice([0, 3_000, 50_000, 2**32 - 1, 2**32 - 1])
    gas_push = bytes([0x5A]) if rng.random() < 0.4 else bytes([0x63]) + gas.to_bytes(4, "big")  # GAS, as compilers
    code += bytes([0x73]) + target + gas_push + bytes([op])
    if rng.random() < 0.5:
        code += bytes([0x3D]) if rng.random() < 0.5 else \
            bytes([0x60, rng.randint(0, 40), 0x60, rng.randint(0, 40), 0x60, rng.randint(0, 64), 0x3E])
    return bytes(code)


def program(rng: random.Random, inner: bool = False) -> bytes:
    """Stack words first, then a mix of everything the interpreter runs (and, rarely, what it leaves to py-evm):
    arithmetic on random words, memory at small and huge offsets, SLOADs of set and unset slots, jumps to good and
    bad places, copies past the ends of code and calldata, calls of other contracts, RETURN (or, in a called
    contract, REVERT) of memory at times, a PUSH that runs off the end."""
    code = bytearray()
    for _ in range(rng.randint(0, 24)):
        code += word(rng)
    for _ in range(rng.randint(1, 12 if inner else 40)):
        kind = rng.randint(0, 14)
        if kind < 4:
            code += word(rng)
        elif kind == 4:  # a memory offset, usually small
            code += bytes([0x61]) + rng.choice([rng.randint(0, 200), rng.randint(0, 65535)]).to_bytes(2, "big")
        elif kind == 5:  # a jump or a conditional jump to a JUMPDEST right after it, or to anywhere
            target = len(code) + 4 if rng.random() < 0.85 else rng.randint(0, 400)
            code += bytes([0x61]) + target.to_bytes(2, "big") + bytes([rng.choice([0x56, 0x57]), 0x5B])
        elif kind == 6:  # SHA3 of a small region
            code += bytes([0x60, rng.randint(0, 96), 0x60, rng.randint(0, 64), 0x20])
        elif kind == 7:  # a copy of a small region, at times past the end of its source
            code += bytes([0x60, rng.randint(0, 80), 0x60, rng.randint(0, 200), 0x60, rng.randint(0, 64),
                           rng.choice([0x37, 0x39, 0x5E])])
        elif kind == 8:  # SLOAD of a slot the test sets, or of one it does not
            code += bytes([0x60, rng.randint(0, 5), 0x54])
        elif kind == 9:
            code += bytes([0x60, rng.randint(0, 70), 0x35])  # CALLDATALOAD
        elif kind == 10 and rng.random() < 0.2:
            code.append(rng.choice(LEFT_TO_PY_EVM))
        elif kind == 11:
            code.append(rng.choice([0x30, 0x32, 0x33, 0x34, 0x36, 0x38, 0x3D, 0x41, 0x42, 0x43, 0x45, 0x46, 0x48, 0x58,
                                    0x59, 0x5F, 0x50, 0x5B]))
        elif kind == 12:
            code.append(rng.choice([*range(0x80, 0xA0)]))  # DUP, SWAP
        elif kind == 13 and (not inner or rng.random() < 0.3):
            code += inner_call(rng)
        elif kind == 14 and rng.random() < 0.3:  # the balance of the sender, this contract, another, or nobody's
            code += bytes([0x73]) + rng.choice([SENDER, TARGET, OTHER, NOBODY]) + bytes([0x31])
        elif kind == 14 and rng.random() < 0.3:
            code.append(0x47)  # SELFBALANCE
        else:
            code.append(rng.choice(ARITHMETIC))
    if rng.random() < (0.3 if inner else 0.7):
        code += DUMP
    elif rng.random() < (0.9 if inner else 0.3):
        ending = 0xFD if inner and rng.random() < 0.5 else 0xF3  # RETURN or REVERT of a small region
        code += bytes([0x60, rng.randint(0, 64), 0x60, rng.randint(0, 64), ending])
    if rng.random() < 0.1:
        code += bytes([rng.randint(0x60, 0x7F)])  # a PUSH that runs off the end
    return bytes(code)


def both_ways(node: Node, req: CallRequest, overrides: dict[str, Any] | None,
              number: int = PENDING) -> tuple[bytes | None, CallResult]:
    """What the interpreter answers for `req` at block `number` (None: left to py-evm) and what py-evm's message
    path answers."""
    executor = node.executor
    with node.lock:
        executor.interpret_calls = False
        try:
            reference = executor._message_call(req, number, overrides)
        finally:
            executor.interpret_calls = True
        assert reference is not None
        header, overlay, sender = executor._prepare(req, number, overrides)
        zeros = req.data.count(0)
        limit = req.gas if req.gas is not None else executor.default_gas(header)
        gas = limit - 21_000 - 4 * zeros - 16 * (len(req.data) - zeros)
        before = contents(overlay)
        answer = executor._interpreted(req, header, overlay, sender, gas, limit * (req.gas_price or 0))
        assert contents(overlay) == before  # it changed nothing
    return answer, reference


def contents(overlay: Any) -> Any:
    return (dict(overlay._accounts), {a: dict(s) for a, s in overlay._storage.items()}, set(overlay._warm),
            len(overlay._undo))


def check(node: Node, seed: int) -> bool:
    """One random program both ways; whether the interpreter answered it."""
    rng = random.Random(seed)
    if rng.random() < 0.4:  # mostly calls: each answered only if every inner frame is
        code = b"".join(word(rng) for _ in range(3)) + b"".join(
            inner_call(rng) + bytes([0x60, rng.randint(0, 4), 0x54]) for _ in range(rng.randint(1, 3))) + DUMP
    else:
        code = program(rng)
    other, third = program(rng, inner=True), program(rng, inner=True)
    storage = {f"0x{slot:064x}": f"0x{rng.getrandbits(rng.choice([8, 256])):064x}" for slot in range(3)}
    other_storage = {f"0x{slot:064x}": f"0x{rng.getrandbits(16):064x}" for slot in range(2, 5)}
    calldata = rng.randbytes(rng.randint(0, 70))
    spare = rng.choice([0, 300, 3_000, 100_000, 1_000_000, 1_000_000]) if rng.random() < 0.5 else 1_000_000
    gas = 21_000 + sum(16 if b else 4 for b in calldata) + spare
    req = CallRequest(sender=node.accounts[0].address, to=TARGET, data=calldata, gas=gas, value=rng.choice([0, 0, 7]),
                      gas_price=rng.choice([None, None, 10**9]))
    number = rng.choice([PENDING, node.backend.head.number])
    answer, reference = both_ways(node, req, {"0x" + TARGET.hex(): {"code": "0x" + code.hex(), "state": storage,
                                                                    "balance": hex(rng.choice([0, 10**18]))},
                                              "0x" + OTHER.hex(): {"code": "0x" + other.hex(), "state": other_storage,
                                                                   "balance": "0x5"},
                                              "0x" + THIRD.hex(): {"code": "0x" + third.hex()}}, number)
    if answer is not None:
        assert reference.error is None, (code.hex(), reference.error)
        assert answer == reference.output, code.hex()
    return answer is not None


def test_random_programs_answer_as_py_evm_does_or_are_left_to_it(node: Node) -> None:
    """400 programs: every answer equals py-evm's, and the mix both answers many and leaves many (errors, gas,
    opcodes it does not run) - a generator that did neither would prove nothing."""
    answered = sum(check(node, seed) for seed in range(400))
    assert 50 <= answered <= 350, answered


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**64))
def test_more_random_programs(node: Node, seed: int) -> None:
    # Hypothesis lowers the recursion limit py-evm raised at import (its calls nest ~10 Python frames each, and
    # these programs call themselves up to the EVM's 1024): py-evm's limit inside, Hypothesis's restored after
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 100_000))
    try:
        check(node, seed)
    finally:
        sys.setrecursionlimit(limit)


def returned(node: Node, code: bytes, calldata: bytes = b"", gas: int = 100_000) -> tuple[bytes | None, CallResult]:
    req = CallRequest(sender=node.accounts[0].address, to=TARGET, data=calldata, gas=gas)
    return both_ways(node, req, {"0x" + TARGET.hex(): {"code": "0x" + code.hex()}})


RETURN_TOP = bytes([0x5F, 0x52, 0x60, 0x20, 0x5F, 0xF3])  # MSTORE(0, top); RETURN(0, 32)


def push(value: int) -> bytes:
    return bytes([0x7F]) + (value % 2**256).to_bytes(32, "big")


@pytest.mark.parametrize("ops, expected", [
    (push(7) + push(-21 % 2**256) + bytes([0x05]), -3 % 2**256),  # SDIV -21 / 7
    (push(-1) + push(-2**255) + bytes([0x05]), 2**255),  # SDIV: the one overflow wraps
    (push(3) + push(-8) + bytes([0x07]), -2 % 2**256),  # SMOD takes the dividend's sign
    (push(0xFF) + push(0) + bytes([0x0B]), 2**256 - 1),  # SIGNEXTEND of a byte's sign bit
    (push(0x1234) + push(30) + bytes([0x1A]), 0x12),  # BYTE 30
    (push(-16) + push(2) + bytes([0x1D]), -4 % 2**256),  # SAR keeps the sign
    (push(1) + push(256) + bytes([0x1B]), 0),  # SHL by 256
    (push(3) + push(10) + bytes([0x0A]), 1000),  # EXP: 10 ** 3
    (push(5) + push(2**256 - 1) + push(2**256 - 1) + bytes([0x09]), 0),  # MULMOD of (2^256-1)^2 mod 5
], ids=["sdiv", "sdiv-overflow", "smod", "signextend", "byte", "sar", "shl-256", "exp", "mulmod"])
def test_known_values(node: Node, ops: bytes, expected: int) -> None:
    answer, reference = returned(node, ops + RETURN_TOP)
    assert answer is not None and answer == reference.output
    assert int.from_bytes(answer[:32], "big") == expected


@pytest.mark.parametrize("code, why", [
    (bytes([0x60, 0x03, 0x56, 0x00]), "a jump to a STOP"),
    (bytes([0x61, 0x5B, 0x5B, 0x60, 0x01, 0x56]), "a jump into PUSH data"),
    (bytes([0x01]), "a stack underflow"),
    (bytes([0x5F]) * 1025, "a stack overflow"),
    (bytes([0x63, 0xFF, 0xFF, 0xFF, 0xFF, 0x51]), "memory far past the limit"),
    (bytes([0x5A]), "GAS"),
    (bytes([0x60, 0x00, 0x60, 0x00, 0xFD]), "REVERT"),
], ids=["stop", "push-data", "underflow", "overflow", "memory", "gas", "revert"])
def test_what_it_leaves_to_py_evm(node: Node, code: bytes, why: str) -> None:
    assert returned(node, code)[0] is None, why


def test_gas_it_might_not_have_is_left_to_py_evm(node: Node) -> None:
    """SLOAD costs 2,100 cold: with 2,102 gas after the intrinsic cost the interpreter answers, with less it leaves
    the call to py-evm (which runs out of gas with 2,101: 2 for the PUSH, 2,100 for the SLOAD... and the next PUSH)."""
    code = bytes([0x5F, 0x54, 0x5F, 0x52, 0x60, 0x20, 0x5F, 0xF3])  # MSTORE(0, SLOAD(0)); RETURN(0, 32)
    plenty = returned(node, code, gas=21_000 + 2_200)
    assert plenty[0] == bytes(32) == plenty[1].output
    short = returned(node, code, gas=21_000 + 2_101)
    assert short[0] is None and type(short[1].error).__name__ == "OutOfGas"


def p2(value: int) -> bytes:
    return bytes([0x61]) + value.to_bytes(2, "big")


@pytest.mark.parametrize("code", [
    bytes([0x5F]) + p2(31_968) + bytes([0x52]),  # MSTORE growing memory to 1,000 words (its quadratic cost matters)
    p2(64_000) + bytes([0x51]),  # MLOAD
    bytes([0x5F]) + p2(5_000) + bytes([0x53]),  # MSTORE8
    p2(1_000) + bytes([0x5F, 0x20]),  # SHA3 of 1,000 bytes
    p2(500) + p2(3) + p2(40) + bytes([0x37]),  # CALLDATACOPY past the calldata's end
    p2(600) + p2(1) + p2(2_000) + bytes([0x39]),  # CODECOPY
    p2(600) + p2(0) + p2(2_000) + bytes([0x5E]),  # MCOPY
    push(2**200 + 5) + push(3) + bytes([0x0A]),  # EXP: 26 bytes of exponent
    p2(3_000) + p2(100) + bytes([0xF3]),  # RETURN of memory it grows
    bytes([0x60, 0x01, 0x54, 0x60, 0x02, 0x54, 0x60, 0x01, 0x54]),  # SLOADs: two cold, then a warm one
], ids=["mstore", "mload", "mstore8", "sha3", "calldatacopy", "codecopy", "mcopy", "exp", "return", "sload"])
def test_with_the_exact_gas_it_answers_and_with_less_it_leaves_the_call_to_py_evm(node: Node, code: bytes) -> None:
    """The gas py-evm's call uses, then one less: with the exact figure the interpreter answers (its gas is exact
    for these, but a warm SLOAD, which it counts as cold), with one less py-evm runs out of gas and the interpreter
    must not answer. Charging less than py-evm anywhere fails the second."""
    calldata = bytes(range(1, 20))
    req = CallRequest(sender=node.accounts[0].address, to=TARGET, data=calldata, gas=1_000_000)
    overrides = {"0x" + TARGET.hex(): {"code": "0x" + code.hex()}}
    with node.lock:
        exact = node.executor.run(req, PENDING, overrides).consumed
    req.gas = exact + (2_000 if code[-1] == 0x54 else 0)
    answer, reference = both_ways(node, req, overrides)
    assert reference.error is None and answer == reference.output
    req.gas = exact - 1
    answer, reference = both_ways(node, req, overrides)
    assert type(reference.error).__name__ == "OutOfGas" and answer is None


def test_the_block_s_fields_are_those_of_the_block_the_call_runs_in(node: Node) -> None:
    """COINBASE, TIMESTAMP, NUMBER, GASLIMIT, BASEFEE and CHAINID at `pending`, at the head and two blocks below it,
    after the coinbase changed: py-evm's values, and the block number the call names."""
    provider = BourseProvider(node)
    for _ in range(3):
        assert "error" not in provider.call("evm_mine", [])
    assert "error" not in provider.call("anvil_setCoinbase", ["0x" + "c0" * 20])
    code = bytearray()
    for i, op in enumerate([0x41, 0x42, 0x43, 0x45, 0x48, 0x46]):
        code += bytes([op, 0x60, 32 * i, 0x52])  # MSTORE(32 * i, field)
    code += bytes([0x60, 192, 0x5F, 0xF3])  # RETURN(0, 192)
    head = node.backend.head.number
    for number, expected in ((PENDING, head + 1), (head, head), (head - 2, head - 2)):
        req = CallRequest(sender=node.accounts[0].address, to=TARGET, gas=100_000)
        answer, reference = both_ways(node, req, {"0x" + TARGET.hex(): {"code": "0x" + code.hex()}}, number)
        assert answer is not None and answer == reference.output
        fields = [int.from_bytes(answer[i:i + 32], "big") for i in range(0, 192, 32)]
        assert fields[0] == 0xC0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0C0 and fields[2] == expected
        assert fields[5] == node.backend.chain_id and fields[1] > 0 and fields[3] > 0


def call_of(op: int, target: bytes, value: int | None = None) -> bytes:
    """`op` (CALL, STATICCALL, DELEGATECALL) of `target` with all the gas it may have, the calldata copied to
    memory 0 as its arguments, no return region."""
    code = bytes([0x36, 0x5F, 0x5F, 0x37, 0x5F, 0x5F, 0x36, 0x5F])  # calldata to memory 0; out 0,0; in 0,size
    if value is not None:
        code += bytes([0x60, value])
    return code + bytes([0x73]) + target + bytes([0x63, 0xFF, 0xFF, 0xFF, 0xFF, op])


RETURN_RETURNED = bytes([0x3D, 0x5F, 0x5F, 0x3E, 0x3D, 0x5F, 0xF3])  # copy the return data to 0 and return it
REPORT = bytes([0x5F, 0x54, 0x5F, 0x52, 0x33, 0x60, 0x20, 0x52, 0x30, 0x60, 0x40, 0x52, 0x34, 0x60, 0x60, 0x52,
                0x60, 0x80, 0x5F, 0xF3])  # RETURN(SLOAD(0), CALLER, ADDRESS, CALLVALUE)


def called(node: Node, target_code: bytes, other_code: bytes, value: int = 0) -> tuple[bytes | None, CallResult]:
    req = CallRequest(sender=node.accounts[0].address, to=TARGET, gas=1_000_000, value=value, data=b"\x01\x02")
    return both_ways(node, req, {"0x" + TARGET.hex(): {"code": "0x" + target_code.hex(),
                                                       "state": {"0x" + "00" * 32: "0x" + "00" * 30 + "1234"}},
                                 "0x" + OTHER.hex(): {"code": "0x" + other_code.hex(),
                                                      "state": {"0x" + "00" * 32: "0x" + "00" * 31 + "77"}}})


@pytest.mark.parametrize("op, expected", [
    (0xF4, [0x1234, "sender", TARGET, 5]),  # DELEGATECALL: the proxy's storage, sender, address and value
    (0xFA, [0x77, TARGET, OTHER, 0]),  # STATICCALL: the callee's own
    (0xF1, [0x77, TARGET, OTHER, 0]),  # CALL without value
], ids=["delegatecall", "staticcall", "call"])
def test_inner_calls_run_in_the_callee_s_context_or_for_delegatecall_the_caller_s(node: Node, op: int,
                                                                                    expected: list[Any]) -> None:
    value = 5 if op == 0xF4 else 0
    answer, reference = called(node, call_of(op, OTHER, 0 if op == 0xF1 else None) + bytes([0x50]) + RETURN_RETURNED,
                               REPORT, value)
    assert answer is not None and answer == reference.output
    words = [int.from_bytes(answer[i:i + 32], "big") for i in range(0, 128, 32)]
    sender = int.from_bytes(node.accounts[0].address, "big")
    assert words == [sender if e == "sender" else int.from_bytes(e, "big") if isinstance(e, bytes) else e
                     for e in expected]


def test_an_inner_revert_is_a_failed_call_with_its_data(node: Node) -> None:
    reverting = bytes([0x60, 0x2A, 0x5F, 0x52, 0x60, 0x20, 0x5F, 0xFD])  # REVERT(0, 32) holding 42
    report = bytes([0x5F, 0x52, 0x3D, 0x60, 0x20, 0x52, 0x3D, 0x5F, 0x60, 0x40, 0x3E, 0x60, 0x60, 0x5F, 0xF3])
    answer, reference = called(node, call_of(0xFA, OTHER) + report, reverting)  # success, size, data
    assert answer is not None and answer == reference.output
    assert [int.from_bytes(answer[i:i + 32], "big") for i in range(0, 96, 32)] == [0, 32, 42]


@pytest.mark.parametrize("target_code, why", [
    (call_of(0xF1, OTHER, 1) + bytes([0x00]), "a call with value"),
    (call_of(0xFA, SHA256) + bytes([0x00]), "a precompile it does not run"),
    (call_of(0xFA, ECRECOVER)[:-6] + bytes([0x61, 0x0B, 0xB7, 0xFA, 0x00]), "ECRECOVER with 2,999 gas"),
    (call_of(0xFA, IDENTITY)[:-6] + bytes([0x60, 17, 0xFA, 0x00]), "IDENTITY of 2 bytes with 17 gas (it costs 18)"),
    (call_of(0xFA, OTHER) + bytes([0x00]), "calls nested deeper than MAX_DEPTH"),
], ids=["value", "precompile", "ecrecover-short", "identity-short", "depth"])
def test_inner_calls_it_leaves_to_py_evm(node: Node, target_code: bytes, why: str) -> None:
    answer, reference = called(node, target_code, call_of(0xFA, OTHER) + bytes([0x00]))  # OTHER calls itself
    assert answer is None and reference.error is None, why


def test_balances_are_those_after_the_gas_purchase_and_the_value(node: Node) -> None:
    """SELFBALANCE and BALANCE of the sender and of another account, in a call with value 7 and a gas price: this
    contract holds its balance plus 7, the sender its balance less 7 and the gas bought, the other its own."""
    code = bytes([0x47, 0x5F, 0x52, 0x73]) + SENDER + bytes([0x31, 0x60, 0x20, 0x52, 0x73]) + OTHER + \
        bytes([0x31, 0x60, 0x40, 0x52, 0x60, 0x60, 0x5F, 0xF3])  # RETURN(SELFBALANCE, BALANCE(sender), BALANCE(OTHER))
    sender_balance = node.backend.balance(SENDER, node.backend.head.number)
    req = CallRequest(sender=SENDER, to=TARGET, gas=100_000, value=7, gas_price=10**9)
    answer, reference = both_ways(node, req, {"0x" + TARGET.hex(): {"code": "0x" + code.hex(), "balance": "0x64"},
                                              "0x" + OTHER.hex(): {"balance": "0x9"}})
    assert answer is not None and answer == reference.output
    assert [int.from_bytes(answer[i:i + 32], "big") for i in (0, 32, 64)] == \
        [100 + 7, sender_balance - 7 - 100_000 * 10**9, 9]


def test_gas_is_run_as_the_gas_of_the_call_right_after_it(node: Node) -> None:
    """`GAS; STATICCALL` (how Solidity and Vyper call) is answered; a GAS whose value goes anywhere else is not."""
    with_gas = call_of(0xFA, OTHER)[:-6] + bytes([0x5A, 0xFA, 0x50]) + RETURN_RETURNED
    answer, reference = called(node, with_gas, REPORT)
    assert answer is not None and answer == reference.output and answer[32:64] == bytes(12) + TARGET
    answer, reference = called(node, bytes([0x5A, 0x50]) + with_gas, REPORT)  # GAS; POP first
    assert answer is None and reference.error is None


def test_precompiles_it_runs_answer_as_py_evm_s(node: Node) -> None:
    """ECRECOVER of a real signature (the signer's address), of a bad one (nothing), and IDENTITY (its input):
    the calldata is the precompile's input, the return data the output."""
    from coincurve import PrivateKey
    from eth_utils import keccak

    key = PrivateKey(b"\x07" * 32)
    digest = keccak(b"bourse")
    signature = key.sign_recoverable(digest, hasher=None)
    good = digest + (27 + signature[64]).to_bytes(32, "big") + signature[:64]
    signer = keccak(key.public_key.format(compressed=False)[1:])[-20:]
    for target, data, expected in ((ECRECOVER, good, bytes(12) + signer), (ECRECOVER, good[:40] + b"\x05", b""),
                                   (IDENTITY, b"\x01\x02\x03", b"\x01\x02\x03")):
        req = CallRequest(sender=node.accounts[0].address, to=TARGET, gas=1_000_000, data=data)
        code = call_of(0xFA, target) + bytes([0x50]) + RETURN_RETURNED
        answer, reference = both_ways(node, req, {"0x" + TARGET.hex(): {"code": "0x" + code.hex()}})
        assert answer is not None and answer == reference.output == expected


def test_the_platform_contracts_views_answer_as_py_evm_does(node: Node) -> None:
    """Every view of every platform contract that takes simple arguments, called as a wallet would: the same
    output as py-evm's; nearly all are answered here (those that read GAS, or revert, are py-evm's)."""
    sample = {"address": node.accounts[0].address, "uint256": 1, "bytes32": b"\x01" * 32, "uint8": 1, "bool": True}
    answered, left = [], []
    for contract in PREDEPLOYS:
        if contract.blueprint:
            continue
        for fn in load(contract.name).abi:
            types = [i["type"] for i in fn.get("inputs", ())]
            if fn["type"] != "function" or fn.get("stateMutability") not in ("view", "pure") \
                    or any(t not in sample for t in types):
                continue
            data = function_signature_to_4byte_selector(f"{fn['name']}({','.join(types)})") + \
                encode(types, [sample[t] for t in types])
            req = CallRequest(sender=node.accounts[0].address, to=bytes.fromhex(contract.address[2:]), data=data)
            answer, reference = both_ways(node, req, None)
            if answer is None:
                left.append(f"{contract.name}.{fn['name']}")
            else:
                assert reference.error is None and answer == reference.output, (contract.name, fn["name"])
                answered.append(f"{contract.name}.{fn['name']}")
    for expected in ("PlatformToken.balanceOf", "PlatformToken.name", "PlatformToken.totalSupply",
                     "WrappedNative.allowance", "AmmFactory.getPair", "SettlementVault.balanceOf",
                     "SettlementVault.DOMAIN_SEPARATOR", "SettlementVault.nonceState", "ListingVote.rounds"):
        assert expected in answered, (expected, left)
    assert len(answered) > 4 * len(left), left


def test_eth_call_over_json_rpc_answers_with_the_interpreter_and_reverts_with_py_evm(node: Node) -> None:
    """Through the provider: a balance is answered (and equals py-evm's), a call that reverts still gets code 3
    with its data, a call with GAS in it still runs."""
    provider = BourseProvider(node)
    me = "0x" + node.accounts[0].address.hex()
    token = next(p.address for p in PREDEPLOYS if p.name == "PlatformToken")
    data = "0x70a08231" + me[2:].rjust(64, "0")
    interpreted = provider.call("eth_call", [{"from": me, "to": token, "data": data}, "latest"])
    node.executor.interpret_calls = False
    try:
        assert provider.call("eth_call", [{"from": me, "to": token, "data": data}, "latest"])["result"] \
            == interpreted["result"]
    finally:
        node.executor.interpret_calls = True
    assert int(interpreted["result"], 16) > 0
    reverting = "0x" + bytes([0x60, 0x2A, 0x5F, 0x52, 0x60, 0x20, 0x5F, 0xFD]).hex()  # REVERT(0, 32) with 42
    reply = provider.call("eth_call", [{"to": "0x" + OTHER.hex(), "data": "0x"}, "latest",
                                       {"0x" + OTHER.hex(): {"code": reverting}}])
    assert reply["error"]["code"] == 3 and int(reply["error"]["data"], 16) == 42
    gas_left = "0x" + (bytes([0x5A]) + RETURN_TOP).hex()  # MSTORE(0, GAS); RETURN(0, 32)
    reply = provider.call("eth_call", [{"to": "0x" + OTHER.hex(), "data": "0x", "gas": hex(50_000)}, "latest",
                                       {"0x" + OTHER.hex(): {"code": gas_left}}])
    assert int(reply["result"], 16) == 50_000 - 21_000 - 2  # what was left after GAS's own 2

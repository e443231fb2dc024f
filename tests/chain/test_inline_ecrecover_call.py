"""A STATICCALL to ECRECOVER run inside the opcode loop (chain/opcode_loop.py `_static_call_to_ecrecover`, no child
computation) against py-evm's call path: random gas requests (short of the precompile's 3,000 too), input and
output regions (memory growth, outputs cut short, none), one or two calls (cold then warm), valid and broken
signatures - the same output, memory, return data, success flags, gas and errors. Mined transactions leave the
same state root and traces, whether 0x01 is missing, holds a balance, exists empty or holds code. Each runs through the
installed loop and through its Python source."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from coincurve import PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain import Node, NodeConfig
from chain.execution import PENDING
from chain.provider import BourseProvider
from chain.rpc.params import CallRequest

CALLER = "0x" + "43" * 20
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@pytest.fixture(scope="module")
def node(opcode_loop_build: str) -> Node:
    return Node(NodeConfig(predeploy=False))


@contextmanager
def py_evm_calls(node: Node) -> Iterator[None]:
    computation = node.backend.state_class.computation_class
    assert computation.inline_precompile_calls
    computation.inline_precompile_calls = False
    try:
        yield
    finally:
        computation.inline_precompile_calls = True


def push(value: int) -> bytes:
    size = max(1, (value.bit_length() + 7) // 8)
    return bytes([0x5F + size]) + value.to_bytes(size, "big")


def program(calls: list[tuple[int, int, int, int, int]]) -> bytes:
    """CALLDATACOPY the input to memory 0; each (gas, in_start, in_size, out_start, out_size) a STATICCALL to 0x01;
    then RETURNDATASIZE, the success flags and the return data appended to memory, and all of memory returned."""
    code = bytes([0x36, 0x5F, 0x5F, 0x37])
    for gas, in_start, in_size, out_start, out_size in calls:
        code += push(out_size) + push(out_start) + push(in_size) + push(in_start) + push(1) + push(gas) + b"\xfa"
    code += bytes([0x3D])  # RETURNDATASIZE
    for _ in range(len(calls) + 1):
        code += bytes([0x59, 0x52])  # MSTORE(MSIZE, top)
    code += bytes([0x3D, 0x5F, 0x59, 0x3E])  # RETURNDATACOPY(MSIZE, 0, RETURNDATASIZE)
    return code + bytes([0x59, 0x5F, 0xF3])  # RETURN(0, MSIZE)


def signature_input(message: bytes, secret: int, broken: str) -> bytes:
    raw = PrivateKey(secret.to_bytes(32, "big")).sign_recoverable(message, hasher=None)
    v, r, s = 27 + raw[64], raw[:32], raw[32:64]
    if broken == "v":
        v = 29
    elif broken == "r":
        r = bytes(32)
    return message + v.to_bytes(32, "big") + r + s


def run(node: Node, code: bytes, data: bytes, gas: int) -> tuple[bytes, int, str]:
    req = CallRequest(to=bytes.fromhex(CALLER[2:]), data=data, gas=gas)
    with node.lock:
        result = node.executor.run(req, PENDING, {CALLER: {"code": "0x" + code.hex()}})
    return bytes(result.output), result.gas_used, type(result.error).__name__


gas_requests = st.one_of(st.sampled_from([0, 2_999, 3_000, 3_001, 2**256 - 1]), st.integers(0, 200_000))
regions = st.tuples(st.sampled_from([0, 32, 100, 5_000]), st.sampled_from([0, 31, 64, 128, 200]))
outputs = st.tuples(st.sampled_from([0, 96, 300, 4_000_000]), st.sampled_from([0, 1, 20, 32, 64]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=st.binary(min_size=32, max_size=32), secret=st.integers(1, 2**255),
       broken=st.sampled_from(["", "", "v", "r"]),
       calls=st.lists(st.tuples(gas_requests, regions, outputs), min_size=1, max_size=2),
       gas=st.sampled_from([30_000, 60_000, 1_000_000]))
def test_the_inline_call_behaves_as_py_evm_s(node: Node, message: bytes, secret: int, broken: str,
                                            calls: list[Any], gas: int) -> None:
    code = program([(g, i0, i1, o0, o1) for g, (i0, i1), (o0, o1) in calls])
    data = signature_input(message, secret, broken)
    inline = run(node, code, data, gas)
    with py_evm_calls(node):
        reference = run(node, code, data, gas)
    assert inline == reference


def test_a_recovered_signer_lands_where_the_call_asked(node: Node) -> None:
    from eth_account import Account
    secret = 7
    data = signature_input(bytes(32), secret, "")
    output, _, error = run(node, program([(100_000, 0, 128, 128, 32)]), data, 100_000)
    assert error == "NoneType"
    assert output[128 + 12:160].hex() == Account.from_key(secret.to_bytes(32, "big")).address[2:].lower()
    assert output[160:192] == (32).to_bytes(32, "big") and output[192:224] == (1).to_bytes(32, "big")  # size, ok
    assert output[224:256] == output[128:160]  # the return data, copied back
    short = run(node, program([(2_999, 0, 128, 128, 32)]), data, 100_000)[0]
    assert short[160:224] == bytes(64) and short[128:160] == bytes(32)  # no return data, failed, nothing written


@pytest.mark.parametrize("account", ["missing", "funded", "empty", "code"])
def test_mined_calls_leave_the_same_state_as_py_evm_s(opcode_loop_build: str, account: str) -> None:
    roots = []
    for inline in (True, False):
        node = Node(NodeConfig(predeploy=False, genesis_timestamp=1_700_000_000))  # both runs: the same blocks
        rpc = BourseProvider(node)
        assert "error" not in rpc.call("evm_setNextBlockTimestamp", [1_700_000_100])
        contract = "0x" + "44" * 20
        code = program([(100_000, 0, 128, 128, 32), (2_999, 0, 128, 128, 32)])
        assert "error" not in rpc.call("anvil_setCode", [contract, "0x" + code.hex()])
        ecrecover = "0x" + "00" * 19 + "01"
        if account == "funded":
            rpc.call("anvil_setBalance", [ecrecover, "0x5"])
        elif account == "empty":
            rpc.call("anvil_setBalance", [ecrecover, "0x0"])
        elif account == "code":
            rpc.call("anvil_setCode", [ecrecover, "0x00"])
        sender = rpc.call("eth_accounts", [])["result"][0]
        computation = node.backend.state_class.computation_class
        computation.inline_precompile_calls = inline
        try:
            sent = rpc.call("eth_sendTransaction", [{"from": sender, "to": contract, "gas": "0x30000",
                                                     "data": "0x" + signature_input(bytes(32), 9, "").hex()}])
        finally:
            computation.inline_precompile_calls = True
        receipt = rpc.call("eth_getTransactionReceipt", [sent["result"]])["result"]
        block = rpc.call("eth_getBlockByNumber", ["latest", False])["result"]
        exists = rpc.call("eth_getProof", [ecrecover, [], "latest"])["result"]
        traces = [rpc.call(method, params)["result"] for method, params in (  # replayed: py-evm's calls either way
            ("debug_traceTransaction", [sent["result"], {"tracer": "callTracer"}]),
            ("debug_traceTransaction", [sent["result"], {"tracer": "prestateTracer", "tracerConfig": {
                "diffMode": True}}]),
            ("trace_transaction", [sent["result"]]))]
        roots.append((receipt["status"], receipt["gasUsed"], block["stateRoot"], exists["accountProof"][-1],
                      traces))
        node.close()
    assert roots[0] == roots[1]

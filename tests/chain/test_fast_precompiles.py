"""ECRECOVER on coincurve (chain/fast_precompiles.py) against py-evm's: valid signatures (both v), high s, r or s
zero or at the curve order, v other than 27/28, short and long inputs, points that do not recover - the same output
and gas for every one, through a real STATICCALL from contract code."""

from __future__ import annotations

from typing import Any

import pytest
from coincurve import PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from chain import Node, NodeConfig
from chain.execution import PENDING
from chain.fast_precompiles import SECP256K1_N, ecrecover
from chain.rpc.params import CallRequest

CALLER = "0x" + "43" * 20
# CALLDATACOPY the input to memory 0, STATICCALL 0x01 with it (output to 0..31), return (success, output word)
PROGRAM = bytes([0x36, 0x5F, 0x5F, 0x37,  # calldatacopy(0, 0, calldatasize)
                 0x60, 0x20, 0x5F, 0x36, 0x5F, 0x60, 0x01, 0x5A, 0xFA,  # staticcall(gas, 1, 0, size, 0, 32)
                 0x60, 0x20, 0x52,  # mstore(32, success)
                 0x3D, 0x60, 0x40, 0x52,  # mstore(64, returndatasize)
                 0x60, 0x60, 0x5F, 0xF3])  # return(0, 96)


@pytest.fixture(scope="module")
def node() -> Node:
    return Node(NodeConfig(predeploy=False))


def call(node: Node, data: bytes) -> tuple[bytes, int]:
    req = CallRequest(to=bytes.fromhex(CALLER[2:]), data=data, gas=100_000)
    with node.lock:
        result = node.executor.run(req, PENDING, {CALLER: {"code": "0x" + PROGRAM.hex()}})
    assert result.error is None
    return result.output, result.gas_used


def both(node: Node, data: bytes) -> tuple[Any, Any]:
    computation = node.backend.state_class.computation_class
    ours = call(node, data)
    assert computation._precompiles[(1).to_bytes(20, "big")] is ecrecover
    fast = computation._precompiles
    computation._precompiles = computation.__mro__[1].get_precompiles()
    try:
        return ours, call(node, data)
    finally:
        computation._precompiles = fast


def signed(message: bytes, secret: bytes) -> tuple[int, int, int]:
    raw = PrivateKey(secret).sign_recoverable(message, hasher=None)
    return 27 + raw[64], int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big")


def word(n: int) -> bytes:
    return (n % 2**256).to_bytes(32, "big")


@settings(max_examples=150, deadline=None)
@given(message=st.binary(min_size=32, max_size=32), secret=st.integers(1, SECP256K1_N - 1),
       change=st.sampled_from(["none", "high_s", "v", "r0", "s0", "rn", "sn", "garbage_r", "short", "long"]),
       noise=st.binary(min_size=0, max_size=40))
def test_ecrecover_matches_py_evm(node: Node, message: bytes, secret: int, change: str, noise: bytes) -> None:
    v, r, s = signed(message, secret.to_bytes(32, "big"))
    if change == "high_s":
        s, v = SECP256K1_N - s, 55 - v  # the same point: still recovers (the precompile has no low-s rule)
    elif change == "v":
        v = (0, 1, 26, 29, 2**255 + 27, int.from_bytes(noise[:2], "big"))[len(noise) % 6]
    elif change in ("r0", "s0", "rn", "sn"):
        value = 0 if change[1] == "0" else SECP256K1_N
        r, s = (value, s) if change[0] == "r" else (r, value)
    elif change == "garbage_r":
        r = int.from_bytes((noise + bytes(32))[:32], "big")
    data = message + word(v) + word(r) + word(s)
    if change == "short":
        data = data[:len(noise) + 64]
    elif change == "long":
        data += noise
    ours, reference = both(node, data)
    assert ours == reference


def test_a_valid_signature_recovers_its_signer(node: Node) -> None:
    from eth_account import Account
    secret = bytes(range(1, 33))
    message = bytes(32)
    v, r, s = signed(message, secret)
    output, gas = call(node, message + word(v) + word(r) + word(s))
    assert output[12:32].hex() == Account.from_key(secret).address[2:].lower()
    assert int.from_bytes(output[32:64], "big") == 1 and int.from_bytes(output[64:96], "big") == 32

"""Osaka: CLZ (EIP-7939), P256VERIFY (EIP-7951), ModExp bounds and price (EIP-7823, EIP-7883), the transaction
gas-limit cap (EIP-7825), the block size bound (EIP-7934), and the older forks left as they were."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from eth_account import Account

from chain import Node, NodeConfig
from chain.osaka import SECP256R1_N, SECP256R1_P, TX_GAS_LIMIT_CAP, modexp_gas_osaka, p256_verify
from chain.provider import BourseProvider

KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDR0 = Account.from_key(KEY0).address
CODE = "0x" + "44" * 20
P256 = "0x" + "00" * 18 + "0100"
MODEXP = "0x" + "00" * 19 + "05"


def _provider(fork: str = "osaka", **config: Any) -> BourseProvider:
    return BourseProvider(Node(NodeConfig(predeploy=False, hardfork=fork, **config)))


def _call(pv: BourseProvider, to: str, data: str = "0x", gas: int | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"to": to, "data": data}
    if gas is not None:
        request["gas"] = hex(gas)
    return pv.call("eth_call", [request, "latest"])


# -- EIP-7939 CLZ ----------------------------------------------------------------------------------------
# The EIP's test cases: (input, leading zeros)
CLZ_CASES = [(0, 256), (1 << 255, 0), (2**256 - 1, 0), (1 << 254, 1), ((1 << 255) - 1, 1), (1, 255)]


def _clz_returner(value: int) -> str:
    """PUSH32 value, CLZ, return the word."""
    return "0x7f" + value.to_bytes(32, "big").hex() + "1e60005260206000f3"


@pytest.mark.parametrize("value,expected", CLZ_CASES)
def test_clz_counts_leading_zeros(value: int, expected: int) -> None:
    pv = _provider()
    pv.call("anvil_setCode", [CODE, _clz_returner(value)])
    assert int(_call(pv, CODE)["result"], 16) == expected


def test_clz_costs_five_gas_and_is_invalid_before_osaka() -> None:
    osaka = _provider()
    osaka.call("anvil_setCode", [CODE, "0x60011e00"])  # PUSH1 1, CLZ, STOP
    trace = osaka.call("debug_traceCall", [{"to": CODE}, "latest", {}])["result"]
    step = next(s for s in trace["structLogs"] if s["op"] == "CLZ")
    assert step["gasCost"] == 5 and not trace["failed"]
    prague = _provider("prague")
    prague.call("anvil_setCode", [CODE, "0x60011e00"])
    assert "error" in _call(prague, CODE, gas=100_000)  # an undefined opcode there


# -- EIP-7951 P256VERIFY ---------------------------------------------------------------------------------------
# From the EIP's assets/eip-7951/test-vectors.json (Wycheproof ecdsa_secp256r1_sha256_p1363 #1, #3, #9)
WYCHEPROOF_VALID = ("bb5a52f42f9c9261ed4361f59422a1e30036e7c32b270c8807a419feca605023"
                    "2ba3a8be6b94d5ec80a6d9d1190a436effe50d85a1eee859b8cc6af9bd5c2e18"
                    "4cd60b855d442f5b3c7b11eb6c4e0ae7525fe710fab9aa7c77a67f79e6fadd76"
                    "2927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838"
                    "c7787964eaac00e5921fb1498a60f4606766b3d9685001558d1a974e7341513e")
WYCHEPROOF_MODIFIED_R = ("bb5a52f42f9c9261ed4361f59422a1e30036e7c32b270c8807a419feca605023"
                         "d45c5740946b2a147f59262ee6f5bc90bd01ed280528b62b3aed5fc93f06f739"
                         "b329f479a2bbd0a5c384ee1493b1f5186a87139cac5df4087c134b49156847db"
                         "2927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838"
                         "c7787964eaac00e5921fb1498a60f4606766b3d9685001558d1a974e7341513e")
WYCHEPROOF_ZERO_RS = ("bb5a52f42f9c9261ed4361f59422a1e30036e7c32b270c8807a419feca605023" + "00" * 64 +
                      "2927b10512bae3eddcfe467828128bad2903269919f7086069c8c4df6c732838"
                      "c7787964eaac00e5921fb1498a60f4606766b3d9685001558d1a974e7341513e")


def _signed(digest: bytes, key: ec.EllipticCurvePrivateKey | None = None) -> bytes:
    key = key or ec.generate_private_key(ec.SECP256R1())
    r, s = decode_dss_signature(key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
    numbers = key.public_key().public_numbers()
    return digest + b"".join(v.to_bytes(32, "big") for v in (r, s, numbers.x, numbers.y))


def test_p256_vectors() -> None:
    assert p256_verify(bytes.fromhex(WYCHEPROOF_VALID))
    assert not p256_verify(bytes.fromhex(WYCHEPROOF_MODIFIED_R))
    assert not p256_verify(bytes.fromhex(WYCHEPROOF_ZERO_RS))
    good = _signed(b"\x11" * 32)
    assert p256_verify(good)
    r, s = int.from_bytes(good[32:64], "big"), int.from_bytes(good[64:96], "big")
    high_s = good[:64] + (SECP256R1_N - s).to_bytes(32, "big") + good[96:]
    assert p256_verify(high_s)  # no low-s rule, unlike secp256k1 transactions
    assert not p256_verify(good[:-1])  # 159 bytes
    assert not p256_verify(good + b"\x00")  # 161 bytes
    assert not p256_verify(b"\x12" * 32 + good[32:])  # another message
    assert not p256_verify(good[:32] + SECP256R1_N.to_bytes(32, "big") + good[64:])  # r = n
    assert not p256_verify(good[:96] + SECP256R1_P.to_bytes(32, "big") + good[128:])  # qx = p
    assert not p256_verify(good[:96] + b"\x00" * 64)  # the point at infinity
    off_curve = good[:128] + ((int.from_bytes(good[128:], "big") + 1) % SECP256R1_P).to_bytes(32, "big")
    assert not p256_verify(off_curve)
    assert r and s


def test_p256verify_precompile_over_rpc() -> None:
    pv = _provider()
    assert _call(pv, P256, "0x" + WYCHEPROOF_VALID)["result"] == "0x" + "00" * 31 + "01"
    assert _call(pv, P256, "0x" + WYCHEPROOF_MODIFIED_R)["result"] == "0x"  # invalid: empty output, no error
    # 6,900 gas: a call with 21,000 + 6,900 + calldata works, a little less runs out
    calldata = 16 * sum(1 for b in bytes.fromhex(WYCHEPROOF_VALID) if b) + 4 * sum(
        1 for b in bytes.fromhex(WYCHEPROOF_VALID) if not b)
    assert _call(pv, P256, "0x" + WYCHEPROOF_VALID, gas=21_000 + calldata + 6_900)["result"].endswith("01")
    assert "error" in _call(pv, P256, "0x" + WYCHEPROOF_VALID, gas=21_000 + calldata + 6_899)
    assert _call(_provider("prague"), P256, "0x" + WYCHEPROOF_VALID)["result"] == "0x"  # an empty account there


# -- EIP-7823 / EIP-7883 ModExp -----------------------------------------------------------------------------------
def _modexp_input(base: bytes, exponent: bytes, modulus: bytes) -> bytes:
    return b"".join(len(x).to_bytes(32, "big") for x in (base, exponent, modulus)) + base + exponent + modulus


def test_modexp_price_follows_eip7883() -> None:
    assert modexp_gas_osaka(_modexp_input(b"\x03", b"\x05", b"\x07")) == 500  # the new floor
    # 64-byte operands: words = 8 -> complexity 2*64 = 128; exponent 2**255 -> 255 iterations
    data = _modexp_input(b"\x01" * 64, (1 << 255).to_bytes(32, "big"), b"\x02" * 64)
    assert modexp_gas_osaka(data) == 128 * 255
    # a 40-byte exponent: 16 * 8 extra iterations plus the head's bit length - 1
    data = _modexp_input(b"\x01" * 32, b"\x01" + b"\x00" * 39, b"\x02" * 32)
    assert modexp_gas_osaka(data) == 16 * (16 * 8 + 248)


def test_modexp_inputs_above_1024_bytes_fail() -> None:
    pv = _provider()
    ok = _modexp_input(b"\x03", b"\x05", b"\x07")
    assert int(_call(pv, MODEXP, "0x" + ok.hex())["result"], 16) == pow(3, 5, 7)
    too_long = _modexp_input(b"\x03" * 1025, b"\x01", b"\x07")
    assert "error" in _call(pv, MODEXP, "0x" + too_long.hex(), gas=1_000_000)
    assert "result" in _call(_provider("prague"), MODEXP, "0x" + too_long.hex(), gas=1_000_000)


# -- EIP-7825 transaction gas cap -----------------------------------------------------------------------------------
def test_transactions_above_the_gas_cap_are_refused_when_enforced() -> None:
    pv = _provider(enable_tx_gas_limit=True)
    raw = Account.sign_transaction({"chainId": 31337, "nonce": 0, "gas": TX_GAS_LIMIT_CAP + 1, "maxFeePerGas": 10**10,
                                    "maxPriorityFeePerGas": 1, "to": CODE, "value": 0}, KEY0).raw_transaction
    error = pv.call("eth_sendRawTransaction", ["0x" + raw.hex()])["error"]
    assert error["code"] == -32003 and "gas limit too high" in error["message"]
    raw = Account.sign_transaction({"chainId": 31337, "nonce": 0, "gas": TX_GAS_LIMIT_CAP, "maxFeePerGas": 10**10,
                                    "maxPriorityFeePerGas": 1, "to": CODE, "value": 0}, KEY0).raw_transaction
    assert "result" in pv.call("eth_sendRawTransaction", ["0x" + raw.hex()])
    raw = Account.sign_transaction({"chainId": 31337, "nonce": 0, "gas": TX_GAS_LIMIT_CAP + 1, "maxFeePerGas": 10**10,
                                    "maxPriorityFeePerGas": 1, "to": CODE, "value": 0}, KEY0).raw_transaction
    assert "result" in _provider("prague", enable_tx_gas_limit=True).call("eth_sendRawTransaction", ["0x" + raw.hex()])
    # off by default, as anvil 1.7 (ape and others send the block's gas limit)
    assert "result" in _provider().call("eth_sendRawTransaction", ["0x" + raw.hex()])


def test_calls_and_estimates_default_to_the_block_gas_limit_or_the_enforced_cap() -> None:
    pv = _provider()
    pv.call("anvil_setCode", [CODE, "0x5a60005260206000f3"])  # return GAS
    assert 30_000_000 - 21_100 < int(_call(pv, CODE)["result"], 16) < 30_000_000
    pv = _provider(enable_tx_gas_limit=True)
    pv.call("anvil_setCode", [CODE, "0x5a60005260206000f3"])  # return GAS
    left = int(_call(pv, CODE)["result"], 16)
    assert TX_GAS_LIMIT_CAP - 21_100 < left < TX_GAS_LIMIT_CAP
    pv.call("anvil_setCode", [CODE, "0x5b600056"])  # an endless loop: the estimate gives up at the cap
    error = pv.call("eth_estimateGas", [{"from": ADDR0, "to": CODE}])["error"]
    assert error["code"] == -32000 and "out of gas" in error["message"]


def test_osaka_is_the_default_and_older_forks_remain() -> None:
    assert NodeConfig().hardfork == "osaka"
    for fork in ("shanghai", "cancun", "prague", "osaka"):
        pv = _provider(fork)
        tx = pv.call("eth_sendTransaction", [{"from": ADDR0, "to": CODE, "value": "0x1"}])["result"]
        assert pv.call("eth_getTransactionReceipt", [tx])["result"]["status"] == "0x1"

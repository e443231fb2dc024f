"""Spec bugs a differential run against anvil and the execution-apis schemas found, and inputs that used to
wedge the node: each answered with the right code now, and the node keeps working after."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from chain import Node, NodeConfig
from chain.hashing import keccak
from chain.provider import BourseProvider

KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDR0 = Account.from_key(KEY0).address
OTHER = "0x" + "22" * 20


def _provider(fork: str = "prague") -> BourseProvider:
    return BourseProvider(Node(NodeConfig(predeploy=False, hardfork=fork)))


def _ok(pv: BourseProvider, method: str, params: list[Any]) -> Any:
    reply = pv.call(method, params)
    assert "error" not in reply, reply
    return reply["result"]


def _error(pv: BourseProvider, method: str, params: list[Any]) -> dict[str, Any]:
    reply = pv.call(method, params)
    assert "error" in reply, reply
    return reply["error"]


def _signed(pv: BourseProvider, **fields: Any) -> str:
    tx = {"chainId": 31337, "nonce": int(_ok(pv, "eth_getTransactionCount", [ADDR0, "pending"]), 16),
          "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1, "to": OTHER, "value": 0, "gas": 60_000}
    tx.update(fields)
    return "0x" + Account.sign_transaction(tx, KEY0).raw_transaction.hex()


# -- EIP-7623 -------------------------------------------------------------------------------------------
def test_calldata_floor_refuses_a_gas_limit_below_it() -> None:
    pv = _provider("prague")
    head = _ok(pv, "eth_blockNumber", [])
    error = _error(pv, "eth_sendRawTransaction", [_signed(pv, data=b"\0" * 5000, gas=60_000)])
    assert error["code"] == -32003
    assert "intrinsic gas too low" in error["message"] and "71000" in error["message"]
    assert _ok(pv, "eth_blockNumber", []) == head  # nothing mined, nothing pooled
    assert _ok(pv, "txpool_status", [])["pending"] == "0x0"
    tx_hash = _ok(pv, "eth_sendRawTransaction", [_signed(pv, data=b"\0" * 5000, gas=71_000)])
    assert _ok(pv, "eth_getTransactionReceipt", [tx_hash])["gasUsed"] == hex(71_000)


def test_calldata_floor_is_pragues_only() -> None:
    pv = _provider("cancun")
    tx_hash = _ok(pv, "eth_sendRawTransaction", [_signed(pv, data=b"\0" * 5000, gas=60_000)])
    assert _ok(pv, "eth_getTransactionReceipt", [tx_hash])["gasUsed"] == hex(21_000 + 4 * 5000)


def test_estimate_covers_the_floor() -> None:
    pv = _provider("prague")
    estimate = int(_ok(pv, "eth_estimateGas", [{"from": ADDR0, "to": OTHER, "data": "0x" + "00" * 5000}]), 16)
    assert estimate == 71_000


# -- eth_call and BASEFEE ------------------------------------------------------------------------------
BASEFEE_STORER = "0x600360010b61010055486101015500"  # SIGNEXTEND, SSTORE, BASEFEE, SSTORE


@pytest.mark.parametrize("extra", [{}, {"accessList": []}, {"from": ADDR0}, {"gasPrice": "0x0"}])
def test_basefee_reads_the_blocks_base_fee_in_calls(extra: dict[str, Any]) -> None:
    # anvil runs calls with the block's base fee visible to BASEFEE; geth zeroes it for calls without a fee.
    # Storing a nonzero base fee costs a fresh SSTORE: 60,000 gas is not enough, as on anvil.
    pv = _provider()
    _ok(pv, "anvil_setCode", [OTHER, BASEFEE_STORER])
    assert _error(pv, "eth_call", [{"to": OTHER, "gas": hex(60_000), **extra}])["message"] == "out of gas"
    _ok(pv, "anvil_setCode", [OTHER, "0x4860005260206000f3"])  # return BASEFEE
    base_fee = int(_ok(pv, "eth_getBlockByNumber", ["pending", False])["baseFeePerGas"], 16)
    assert int(_ok(pv, "eth_call", [{"to": OTHER, **extra}, "pending"]), 16) == base_fee > 0


# -- schema: transactions and the pending block -----------------------------------------------------------
def test_transactions_carry_block_timestamp() -> None:
    pv = _provider()
    tx_hash = _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "value": "0x1"}])
    tx = _ok(pv, "eth_getTransactionByHash", [tx_hash])
    block = _ok(pv, "eth_getBlockByNumber", [tx["blockNumber"], True])
    assert tx["blockTimestamp"] == block["timestamp"] == block["transactions"][0]["blockTimestamp"]
    _ok(pv, "evm_setAutomine", [False])
    pending_hash = _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "value": "0x1"}])
    assert _ok(pv, "eth_getTransactionByHash", [pending_hash])["blockTimestamp"] is None


def test_pending_block_has_hash_miner_and_nonce() -> None:
    pv = _provider()
    _ok(pv, "anvil_setCoinbase", [OTHER])
    block = _ok(pv, "eth_getBlockByNumber", ["pending", False])
    assert block["miner"] == OTHER and block["nonce"] == "0x0000000000000000"
    assert isinstance(block["hash"], str) and len(block["hash"]) == 66
    assert block["number"] == hex(int(_ok(pv, "eth_blockNumber", []), 16) + 1)


def test_sign_transaction_answers_raw_and_tx() -> None:
    pv = _provider()
    signed = _ok(pv, "eth_signTransaction", [{"from": ADDR0, "to": OTHER, "value": "0x5", "gas": "0x5208"}])
    assert signed["tx"]["hash"] == "0x" + keccak(bytes.fromhex(signed["raw"][2:])).hex()
    assert signed["tx"]["value"] == "0x5" and signed["tx"]["to"] == OTHER
    tx_hash = _ok(pv, "eth_sendRawTransaction", [signed["raw"]])
    assert tx_hash == signed["tx"]["hash"]
    # web3.py decodes this shape (it failed on the raw bytes alone)
    w3 = Web3(pv)
    assert w3.eth.sign_transaction({"from": ADDR0, "to": OTHER, "value": 1, "gas": 21_000, "nonce": 1,
                                    "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1}).tx["value"] == 1


# -- transaction types against the hardfork ---------------------------------------------------------------
def _set_code_tx(pv: BourseProvider) -> str:
    auth = Account.sign_authorization({"chainId": 31337, "address": OTHER, "nonce": 1}, KEY0)
    return _signed(pv, authorizationList=[auth], gas=100_000)


@pytest.mark.parametrize("fork", ["shanghai", "cancun"])
def test_set_code_transactions_need_prague(fork: str) -> None:
    pv = _provider(fork)
    error = _error(pv, "eth_sendRawTransaction", [_set_code_tx(pv)])
    assert error["code"] == -32003
    assert "type 4" in error["message"] and fork in error["message"] and "prague" in error["message"]
    assert _ok(pv, "eth_blockNumber", []) == "0x0"
    auth = {"chainId": "0x7a69", "address": OTHER, "nonce": "0x1", "yParity": "0x0", "r": "0x1", "s": "0x1"}
    assert _error(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "authorizationList": [auth]}])[
        "code"] == -32003
    assert _error(pv, "eth_call", [{"from": ADDR0, "to": OTHER, "authorizationList": [auth]}])["code"] == -32003


def test_set_code_transactions_run_under_prague() -> None:
    pv = _provider("prague")
    tx_hash = _ok(pv, "eth_sendRawTransaction", [_set_code_tx(pv)])
    assert _ok(pv, "eth_getTransactionReceipt", [tx_hash])["status"] == "0x1"
    assert _ok(pv, "eth_getCode", [ADDR0, "latest"]) == "0xef0100" + OTHER[2:]


# -- numbers no header or word can hold -------------------------------------------------------------------
def test_oversized_numbers_are_invalid_params() -> None:
    pv = _provider()
    huge = "0x" + "f" * 5000
    for method, params in [
        ("eth_getBlockByNumber", [huge, False]),
        ("eth_getBalance", [OTHER, huge]),
        ("eth_getBlockByNumber", ["0x10000000000000000", False]),
        ("eth_getStorageAt", [OTHER, "0x1" + "0" * 64, "latest"]),
        ("anvil_setStorageAt", [OTHER, "0x1" + "0" * 64, "0x01"]),
        ("eth_getStorageAt", [OTHER, huge, "latest"]),
    ]:
        error = _error(pv, method, params)
        assert error["code"] == -32602, (method, error)
        assert len(error["message"]) < 200  # the number is not echoed back
    assert _ok(pv, "eth_getStorageAt", [OTHER, "0x" + "f" * 64, "latest"]) == "0x" + "00" * 32


TOO_BIG = hex(2**64)
MAX_WORD = hex(2**256 - 1)


@pytest.mark.parametrize("method,params", [
    ("evm_increaseTime", [TOO_BIG]),
    ("evm_increaseTime", [hex(2**64 - 1000)]),  # now + offset past 2**64
    ("evm_mine", [TOO_BIG]),
    ("evm_mine", [{"timestamp": TOO_BIG}]),
    ("anvil_setTime", [TOO_BIG]),
    ("evm_setNextBlockTimestamp", [TOO_BIG]),
    ("anvil_mine", ["0x2", hex(2**63)]),
    ("evm_setBlockGasLimit", [MAX_WORD]),
    ("anvil_setNextBlockBaseFeePerGas", [MAX_WORD]),
    ("anvil_setMinGasPrice", [MAX_WORD]),
    ("evm_setIntervalMining", [MAX_WORD]),
])
def test_dev_methods_refuse_values_that_would_wedge_the_node(method: str, params: list[Any]) -> None:
    pv = _provider()
    error = _error(pv, method, params)
    assert error["code"] == -32602, error
    if "Time" in method or "mine" in method or "Timestamp" in method:
        assert "timestamp too big" in error["message"] or "2**64" in error["message"]
    # nothing changed: the node still mines and sends
    before = int(_ok(pv, "eth_blockNumber", []), 16)
    tx_hash = _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "value": "0x1"}])
    assert _ok(pv, "eth_getTransactionReceipt", [tx_hash])["status"] == "0x1"
    assert int(_ok(pv, "eth_blockNumber", []), 16) == before + 1
    _ok(pv, "evm_mine", [])


def test_largest_allowed_values_still_work() -> None:
    pv = _provider()
    _ok(pv, "evm_setBlockGasLimit", [hex(2**63 - 1)])
    _ok(pv, "anvil_setNextBlockBaseFeePerGas", [hex(10**12)])
    _ok(pv, "evm_setNextBlockTimestamp", [hex(2**64 - 10)])
    _ok(pv, "evm_mine", [])
    assert _ok(pv, "eth_getBlockByNumber", ["latest", False])["timestamp"] == hex(2**64 - 10)
    assert _error(pv, "anvil_mine", ["0x20", "0x1"])["code"] == -32602  # the 20th block would pass 2**64


def test_block_timestamps_strictly_increase() -> None:
    # Consensus requires it and hardhat's network does it; ERC-5805 lookups (`getPastVotes(t)` after one more
    # block) need it: blocks mined within one second get consecutive seconds.
    pv = _provider()
    _ok(pv, "anvil_mine", ["0x5"])
    _ok(pv, "evm_mine", [])
    stamps = [int(_ok(pv, "eth_getBlockByNumber", [hex(n), False])["timestamp"], 16) for n in range(7)]
    assert all(later > earlier for earlier, later in zip(stamps, stamps[1:]))
    pending = int(_ok(pv, "eth_getBlockByNumber", ["pending", False])["timestamp"], 16)
    assert pending > stamps[-1]
    _ok(pv, "evm_setNextBlockTimestamp", [hex(stamps[-1])])  # an explicit timestamp may repeat, as on anvil
    _ok(pv, "evm_mine", [])
    assert int(_ok(pv, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16) == stamps[-1]


def test_increase_time_counts_from_the_chain_even_when_blocks_ran_ahead_of_the_clock() -> None:
    pv = _provider()
    _ok(pv, "anvil_mine", ["0x40"])  # 64 blocks in well under 64 s: the chain is ahead of the wall clock
    before = int(_ok(pv, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    _ok(pv, "evm_increaseTime", ["0x64"])
    _ok(pv, "evm_mine", [])
    after = int(_ok(pv, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    assert after >= before + 100

"""Calls at `pending`, and estimates without a block, run in the next block's context (as anvil runs them): the
OpenZeppelin suites set the next timestamp and expect the pre-send estimate to see it. Tools that accept only
anvil or hardhat nodes recognise this one by its client version."""

from __future__ import annotations

from web3 import Web3

from .conftest import rpc

A0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
PROBE = "0x1000000000000000000000000000000000000001"
# TIMESTAMP, NUMBER and BASEFEE into memory, returned as three words
CONTEXT_CODE = "0x425f5243602052486040526060" + "5ff3"
# reverts unless TIMESTAMP >= 2,000,000,000 (a "too early" guard)
NOT_BEFORE_CODE = "0x42637735940011600b57005b5f5ffd"
LATER = 2_000_000_000


def _words(hex_data: str) -> list[int]:
    raw = bytes.fromhex(hex_data[2:])
    return [int.from_bytes(raw[i:i + 32], "big") for i in range(0, len(raw), 32)]


def test_calls_at_pending_see_the_next_blocks_number_timestamp_and_base_fee(web3: Web3, url: str) -> None:
    head = web3.eth.get_block("latest")
    assert rpc(url, "evm_setNextBlockTimestamp", [LATER])["result"] is None
    override = {PROBE: {"code": CONTEXT_CODE}}
    pending = _words(rpc(url, "eth_call", [{"to": PROBE}, "pending", override])["result"])
    latest = _words(rpc(url, "eth_call", [{"to": PROBE}, "latest", override])["result"])
    next_base_fee = int(rpc(url, "eth_getBlockByNumber", ["pending", False])["result"]["baseFeePerGas"], 16)
    assert pending == [LATER, head["number"] + 1, next_base_fee]
    assert latest == [head["timestamp"], head["number"], head["baseFeePerGas"]]
    web3.eth.send_transaction({"from": A0, "to": A0, "value": 1})  # the next block takes that timestamp
    assert web3.eth.get_block("latest")["timestamp"] == LATER


def test_an_estimate_without_a_block_runs_in_the_next_block(web3: Web3, url: str) -> None:
    assert rpc(url, "anvil_setCode", [PROBE, NOT_BEFORE_CODE])["result"] is None
    call = {"from": A0, "to": PROBE}
    assert "execution reverted" in rpc(url, "eth_estimateGas", [call])["error"]["message"]
    rpc(url, "evm_setNextBlockTimestamp", [LATER])
    assert int(rpc(url, "eth_estimateGas", [call])["result"], 16) > 21_000  # what hardhat-ethers asks before sending
    assert int(rpc(url, "eth_estimateGas", [call, "pending"])["result"], 16) > 21_000
    assert "execution reverted" in rpc(url, "eth_estimateGas", [call, "latest"])["error"]["message"]
    assert rpc(url, "eth_createAccessList", [call, "pending"])["result"]["gasUsed"] != "0x0"
    sent = rpc(url, "eth_sendTransaction", [call])  # no gas given: the node estimates it for the next block
    assert web3.eth.get_transaction_receipt(sent["result"])["status"] == 1


def test_the_client_version_names_anvil_compatibility(url: str) -> None:
    version = rpc(url, "web3_clientVersion")["result"]
    assert version.lower().startswith("anvil")  # what @nomicfoundation/hardhat-network-helpers checks
    assert "anvil" in version.lower() and "bourse" in version  # ape-foundry; and it does not pretend to be anvil


def test_the_client_version_can_be_overridden() -> None:
    from chain import Node, NodeConfig
    from chain.provider import BourseProvider

    node = Node(NodeConfig(predeploy=False, accounts=1, client_version="Geth/v1.14.0"))
    try:
        assert Web3(BourseProvider(node)).client_version == "Geth/v1.14.0"
    finally:
        node.close()

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


# COINBASE, CHAINID, GASLIMIT, BLOCKHASH(NUMBER - 1) and TIMESTAMP into memory, returned as five words
BLOCK_CODE = "0x415f52466020524560405260014303406060524260805260a05ff3"


def test_calls_see_each_change_of_the_block_context(web3: Web3, url: str) -> None:
    """The node reuses a block's execution context across calls: every change to what it holds is seen."""
    override = {PROBE: {"code": BLOCK_CODE}}

    def context(block: str = "pending") -> list[int]:
        return _words(rpc(url, "eth_call", [{"to": PROBE}, block, override])["result"])

    first = context()
    assert context() == first and first[1] == web3.eth.chain_id
    rpc(url, "anvil_setCoinbase", ["0x" + "c0" * 20])
    assert context()[0] == int("c0" * 20, 16)
    rpc(url, "anvil_setChainId", [4242])
    assert context()[1] == 4242
    rpc(url, "anvil_setChainId", [first[1]])
    rpc(url, "evm_setBlockGasLimit", [hex(first[2] - 1)])
    assert context()[2] == first[2] - 1
    rpc(url, "evm_mine", [])
    latest = web3.eth.get_block("latest")
    assert context()[3] == int.from_bytes(latest["hash"], "big")  # the next block's parent: the one just mined
    assert context("latest")[3] == int.from_bytes(latest["parentHash"], "big")  # as anvil: block N reads N-1's
    traced = rpc(url, "debug_traceCall", [{"to": PROBE}, "latest", {"tracer": "callTracer",
                                                                    "stateOverrides": override}])["result"]
    assert _words(traced["output"])[3] == int.from_bytes(latest["parentHash"], "big")  # a trace replays the same
    rpc(url, "evm_setNextBlockTimestamp", [LATER + 7])
    assert context()[4] == LATER + 7


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


def test_blockhash_at_an_older_block_reads_the_256_before_it(web3: Web3, url: str) -> None:
    """A call at block N reads the hashes of N-1 .. N-256 (kept recent ones, then stored ones), zero beyond."""
    rpc(url, "anvil_mine", [hex(300)])
    at = web3.eth.block_number - 20
    override = {PROBE: {"code": "0x5f35405f5260205ff3"}}  # BLOCKHASH(calldata word 0)

    def blockhash(number: int, block: int) -> int:
        call = {"to": PROBE, "data": "0x" + number.to_bytes(32, "big").hex()}
        return int(rpc(url, "eth_call", [call, hex(block), override])["result"], 16)

    def real(number: int) -> int:
        return int.from_bytes(web3.eth.get_block(number)["hash"], "big")

    assert blockhash(at - 1, at) == real(at - 1)
    assert blockhash(at - 256, at) == real(at - 256)  # older than what the node keeps in memory: read from storage
    assert blockhash(at - 257, at) == 0 and blockhash(at, at) == 0
    assert blockhash(at - 1, at - 1) == 0 and blockhash(at - 2, at - 1) == real(at - 2)

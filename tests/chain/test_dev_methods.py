"""anvil_/hardhat_/evm_ dev methods over HTTP."""

from __future__ import annotations

from web3 import Web3

from .conftest import rpc
from .evm_code import LOADER, deployable

A0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
A1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_snapshot_and_revert_restore_blocks_and_balances(web3: Web3, url: str) -> None:
    snap = rpc(url, "evm_snapshot")["result"]
    head = web3.eth.block_number
    web3.eth.send_transaction({"from": A0, "to": A1, "value": 10**18})
    rpc(url, "anvil_setBalance", [A1, "0x1"])
    assert web3.eth.get_balance(A1) == 1
    assert rpc(url, "evm_revert", [snap])["result"] is True
    assert web3.eth.block_number == head
    assert web3.eth.get_balance(A1) == 10_000 * 10**18
    assert web3.eth.get_transaction_count(A0) == 0
    assert rpc(url, "evm_revert", [snap])["result"] is False  # used up


def test_state_edits(web3: Web3, url: str) -> None:
    target = "0x" + "77" * 20
    assert rpc(url, "hardhat_setBalance", [target, hex(5 * 10**18)])["result"] is None
    assert web3.eth.get_balance(target) == 5 * 10**18
    rpc(url, "anvil_setCode", [target, "0x" + LOADER.hex()])
    assert web3.eth.get_code(target) == LOADER
    rpc(url, "anvil_setStorageAt", [target, "0x3", "0x" + (42).to_bytes(32, "big").hex()])
    assert int(web3.eth.call({"to": target, "data": "0x" + (3).to_bytes(32, "big").hex()}).hex(), 16) == 42
    rpc(url, "anvil_setNonce", [target, "0x9"])
    assert web3.eth.get_transaction_count(target) == 9
    assert rpc(url, "anvil_setBalance", [target, "zz"])["error"]["code"] == -32602


def test_mine_many_blocks_with_interval_and_timestamps(web3: Web3, url: str) -> None:
    head = web3.eth.get_block("latest")
    rpc(url, "anvil_mine", ["0x5", "0xa"])
    assert web3.eth.block_number == head["number"] + 5
    last = web3.eth.get_block("latest")
    assert last["timestamp"] >= head["timestamp"] + 40
    rpc(url, "evm_setNextBlockTimestamp", [hex(last["timestamp"] + 1000)])
    rpc(url, "evm_mine")
    assert web3.eth.get_block("latest")["timestamp"] == last["timestamp"] + 1000
    assert rpc(url, "evm_setNextBlockTimestamp", ["0x1"])["error"]["code"] == -32602
    offset = int(rpc(url, "evm_increaseTime", [3600])["result"], 16)
    assert offset >= 3600
    rpc(url, "evm_mine", [{"blocks": 2}])
    assert web3.eth.block_number == last["number"] + 3


def test_manual_mining_pool_and_drop(web3: Web3, url: str) -> None:
    rpc(url, "evm_setAutomine", [False])
    assert rpc(url, "anvil_getAutomine")["result"] is False
    head = web3.eth.block_number
    h1 = web3.eth.send_transaction({"from": A0, "to": A1, "value": 1})
    h2 = web3.eth.send_transaction({"from": A0, "to": A1, "value": 2})
    assert web3.eth.block_number == head
    assert rpc(url, "eth_getTransactionReceipt", [h1.to_0x_hex()])["result"] is None
    assert rpc(url, "txpool_status")["result"] == {"pending": "0x2", "queued": "0x0"}
    content = rpc(url, "txpool_content")["result"]["pending"][A0.lower()]
    assert set(content) == {"0", "1"}
    assert web3.eth.get_transaction_count(A0, "pending") == 2
    assert rpc(url, "anvil_dropTransaction", [h2.to_0x_hex()])["result"] == h2.to_0x_hex()
    rpc(url, "evm_mine")
    assert web3.eth.block_number == head + 1
    assert web3.eth.get_transaction_receipt(h1)["status"] == 1
    assert rpc(url, "eth_getTransactionReceipt", [h2.to_0x_hex()])["result"] is None
    rpc(url, "evm_setAutomine", [True])


def test_future_nonce_waits_in_queue_until_the_gap_fills(web3: Web3, url: str) -> None:
    from eth_account import Account

    key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
    tx = {"to": A1, "value": 1, "gas": 21_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1, "chainId": 31337}
    later = web3.eth.send_raw_transaction(Account.sign_transaction({**tx, "nonce": 1}, key).raw_transaction)
    assert rpc(url, "txpool_status")["result"]["queued"] == "0x1"
    web3.eth.send_raw_transaction(Account.sign_transaction({**tx, "nonce": 0}, key).raw_transaction)
    assert web3.eth.get_transaction_receipt(later)["status"] == 1
    assert web3.eth.get_transaction_count(A0) == 2


def test_impersonation_sends_from_an_address_without_its_key(web3: Web3, url: str) -> None:
    whale = "0x" + "99" * 20
    rpc(url, "anvil_setBalance", [whale, hex(10**18)])
    refused = rpc(url, "eth_sendTransaction", [{"from": whale, "to": A1, "value": "0x1"}])
    assert refused["error"]["code"] == -32000
    rpc(url, "anvil_impersonateAccount", [whale])
    h = rpc(url, "eth_sendTransaction", [{"from": whale, "to": A1, "value": "0x1"}])["result"]
    receipt = web3.eth.get_transaction_receipt(h)
    assert receipt["status"] == 1 and receipt["from"].lower() == whale
    assert web3.eth.get_transaction(h)["from"].lower() == whale
    rpc(url, "anvil_stopImpersonatingAccount", [whale])
    assert rpc(url, "eth_sendTransaction", [{"from": whale, "to": A1, "value": "0x1"}])["error"]["code"] == -32000


def test_block_parameters_coinbase_base_fee_gas_limit_min_price(web3: Web3, url: str) -> None:
    miner = "0x" + "cb" * 20
    rpc(url, "anvil_setCoinbase", [miner])
    rpc(url, "anvil_setNextBlockBaseFeePerGas", [hex(7 * 10**9)])
    rpc(url, "evm_setBlockGasLimit", [hex(25_000_000)])
    web3.eth.send_transaction({"from": A0, "to": A1, "value": 1})
    block = web3.eth.get_block("latest")
    assert block["miner"].lower() == miner and block["baseFeePerGas"] == 7 * 10**9
    assert block["gasLimit"] == 25_000_000
    assert web3.eth.get_balance(Web3.to_checksum_address(miner)) > 0
    rpc(url, "anvil_setMinGasPrice", [hex(10**12)])
    refused = rpc(url, "eth_sendTransaction", [{"from": A0, "to": A1, "value": "0x1", "maxFeePerGas": hex(10**10)}])
    assert "underpriced" in refused["error"]["message"]
    rpc(url, "anvil_setMinGasPrice", ["0x0"])
    rpc(url, "anvil_setCoinbase", ["0x" + "00" * 20])
    rpc(url, "evm_setBlockGasLimit", [hex(30_000_000)])


def test_deploy_then_reset_returns_to_genesis(web3: Web3, url: str) -> None:
    web3.eth.send_transaction({"from": A0, "data": deployable(LOADER)})
    assert web3.eth.block_number >= 1
    # reset is covered on a private node so the shared one keeps its snapshots
    from chain import Node, NodeConfig
    from chain.provider import BourseProvider

    node = Node(NodeConfig(accounts=1))
    private = Web3(BourseProvider(node))
    private.eth.send_transaction({"from": A0, "to": A1, "value": 1})
    assert private.eth.block_number == 1
    private.provider.make_request("anvil_reset", [])
    assert private.eth.block_number == 0
    assert private.eth.get_balance(A1) == 0

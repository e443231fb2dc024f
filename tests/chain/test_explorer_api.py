"""The methods the block explorer page reads: the platform contracts, a contract's ABI and sources, and a
transaction decoded (call, logs, revert reason, call tree) with the ABIs the node knows."""

from __future__ import annotations

from typing import Any

from eth_abi import encode

from chain import Node
from chain.hashing import keccak
from contracts.predeploy import PREDEPLOYS

from .conftest import rpc

TOKEN = next(p.address for p in PREDEPLOYS if p.name == "PlatformToken")


def call(url: str, method: str, *params: Any) -> Any:
    reply = rpc(url, method, list(params))
    assert "error" not in reply, reply
    return reply["result"]


def transfer_data(to: str, amount: int) -> str:
    return "0x" + (keccak(b"transfer(address,uint256)")[:4] + encode(["address", "uint256"], [to, amount])).hex()


def test_explorer_info_lists_the_platform_contracts_and_the_mining_mode(node: Node, url: str) -> None:
    info = call(url, "bourse_explorerInfo")
    assert info["chainId"] == hex(node.config.chain_id) and info["miningMode"] == "auto"
    assert info["nativeSymbol"] == "ETH"
    assert {"label": "Platform token (BRS)", "name": "PlatformToken", "address": TOKEN} in info["platform"]
    call(url, "evm_setIntervalMining", 5)
    assert (call(url, "bourse_explorerInfo")["miningMode"], call(url, "bourse_explorerInfo")["blockTime"]) == \
        ("interval", 5)


def test_contract_info_gives_the_abi_and_sources_of_known_code_only(url: str) -> None:
    info = call(url, "bourse_contractInfo", TOKEN)
    assert info["name"] == "PlatformToken"
    assert any(entry.get("name") == "transfer" for entry in info["abi"])
    assert any("def transfer(" in source["content"] for source in info["sources"])
    accounts = call(url, "eth_accounts")
    assert call(url, "bourse_contractInfo", accounts[0]) is None  # no code
    assert rpc(url, "bourse_contractInfo", ["0x12"])["error"]["code"] == -32602


def test_a_transfer_is_decoded_with_its_call_and_event(url: str) -> None:
    owner, receiver = call(url, "eth_accounts")[:2]
    tx = call(url, "eth_sendTransaction", {"from": owner, "to": TOKEN, "data": transfer_data(receiver, 5 * 10**18)})
    decoded = call(url, "bourse_decodeTransaction", tx)
    assert decoded["contract"] == "PlatformToken" and decoded["revert"] is None
    assert decoded["call"]["signature"] == "transfer(address,uint256)"
    assert [(a["name"], a["value"]) for a in decoded["call"]["args"]] == [("receiver", receiver),
                                                                          ("amount", str(5 * 10**18))]
    [log] = decoded["logs"]
    assert log["contract"] == "PlatformToken" and log["event"]["name"] == "Transfer"
    assert [(a["name"], a["value"], a["indexed"]) for a in log["event"]["args"]] == [
        ("sender", owner, True), ("receiver", receiver, True), ("value", str(5 * 10**18), False)]
    assert decoded["trace"]["contract"] == "PlatformToken" and decoded["trace"]["call"]["name"] == "transfer"


def test_a_reverted_transaction_shows_its_reason(url: str) -> None:
    stranger, receiver = call(url, "eth_accounts")[3:5]  # holds no BRS
    tx = call(url, "eth_sendTransaction", {"from": stranger, "to": TOKEN, "gas": hex(200_000),
                                           "data": transfer_data(receiver, 1)})
    decoded = call(url, "bourse_decodeTransaction", tx)
    assert call(url, "eth_getTransactionReceipt", tx)["status"] == "0x0"
    assert decoded["revert"]["reason"]["name"] == "Error"
    assert "balance" in decoded["revert"]["reason"]["message"]
    assert decoded["logs"] == [] and decoded["call"]["name"] == "transfer"


def test_a_plain_transfer_and_an_unknown_hash(url: str) -> None:
    sender, receiver = call(url, "eth_accounts")[:2]
    tx = call(url, "eth_sendTransaction", {"from": sender, "to": receiver, "value": hex(10**18)})
    decoded = call(url, "bourse_decodeTransaction", tx)
    assert decoded["contract"] is None and decoded["call"] is None and decoded["logs"] == []
    assert rpc(url, "bourse_decodeTransaction", ["0x" + "00" * 32])["error"]["code"] == -32001

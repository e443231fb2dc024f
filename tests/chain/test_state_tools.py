"""State tools: EIP-1186 proofs checked by an independent Merkle-Patricia verifier (the `trie` package), whole
accounts and many slots, eth_config, filling, EIP-7966 sync sends, ERC-20 dealing, and anvil's chain controls."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Iterator

import pytest
import rlp
from eth_account import Account
from eth_utils import keccak
from trie import HexaryTrie

from chain import Node, NodeConfig
from chain.config import MiningMode
from chain.provider import BourseProvider
from chain.server import ServerThread

from .conftest import rpc

KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDR0 = Account.from_key(KEY0).address
TOKEN = "0x0000000000000000000000000000000000B05e01"  # the platform token (predeployed, Vyper)
WRAPPED = "0x0000000000000000000000000000000000B05e02"
OTHER = "0x" + "77" * 20


def _pv(**config: Any) -> BourseProvider:
    return BourseProvider(Node(NodeConfig(**config)))


def _ok(pv: BourseProvider, method: str, params: list[Any] | None = None) -> Any:
    reply = pv.call(method, params or [])
    assert "error" not in reply, reply
    return reply["result"]


def _err(pv: BourseProvider, method: str, params: list[Any] | None = None) -> dict[str, Any]:
    reply = pv.call(method, params or [])
    assert "error" in reply, reply
    return reply["error"]


# -- eth_getProof -------------------------------------------------------------------------------------------
def _verify(root_hex: str, key: bytes, proof: list[str]) -> bytes:
    """The value the proof shows for keccak(key) under the root (b"" for absent), or an exception."""
    nodes = [rlp.decode(bytes.fromhex(n[2:])) for n in proof]
    return HexaryTrie.get_from_proof(bytes.fromhex(root_hex[2:]), keccak(key), nodes)


def _check_proof(result: dict[str, Any], state_root: str, address: str, exists: bool) -> None:
    value = _verify(state_root, bytes.fromhex(address[2:]), result["accountProof"])
    if not exists:
        assert value == b""
        return
    nonce, balance, storage_root, code_hash = rlp.decode(value)
    assert int.from_bytes(nonce, "big") == int(result["nonce"], 16)
    assert int.from_bytes(balance, "big") == int(result["balance"], 16)
    assert "0x" + storage_root.hex() == result["storageHash"] and "0x" + code_hash.hex() == result["codeHash"]
    for entry in result["storageProof"]:
        slot = int(entry["key"], 16).to_bytes(32, "big")
        stored = _verify(result["storageHash"], slot, entry["proof"])
        assert (int.from_bytes(rlp.decode(stored), "big") if stored else 0) == int(entry["value"], 16)


def test_proofs_verify_against_the_blocks_state_root() -> None:
    pv = _pv()
    _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "value": "0x5"}])
    block = _ok(pv, "eth_getBlockByNumber", ["latest", False])
    # a contract with storage: its owner (slot read by the predeploy) and some absent slots
    slots = ["0x0", "0x1", "0x2", "0x" + "ff" * 32]
    result = _ok(pv, "eth_getProof", [TOKEN, slots, "latest"])
    assert result["storageHash"] != "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"
    assert any(int(e["value"], 16) for e in result["storageProof"])  # at least one present slot
    assert any(not int(e["value"], 16) for e in result["storageProof"])  # and an absent one
    _check_proof(result, block["stateRoot"], TOKEN, exists=True)
    _check_proof(_ok(pv, "eth_getProof", [OTHER, [], "latest"]), block["stateRoot"], OTHER, exists=True)
    absent = "0x" + "5a" * 20
    result = _ok(pv, "eth_getProof", [absent, ["0x1"], "latest"])
    assert result["balance"] == "0x0" and result["codeHash"] == "0x" + keccak(b"").hex()
    _check_proof(result, block["stateRoot"], absent, exists=False)
    with pytest.raises(Exception):  # a tampered proof does not verify
        tampered = list(result["accountProof"])
        tampered[0] = tampered[0][:-2] + ("00" if tampered[0][-2:] != "00" else "01")
        _verify(block["stateRoot"], bytes.fromhex(absent[2:]), tampered)


def test_proofs_at_an_older_block_match_that_block() -> None:
    pv = _pv()
    _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "value": "0x5"}])
    old = _ok(pv, "eth_getBlockByNumber", ["latest", False])
    for value in ("0x6", "0x7"):
        _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "value": value}])
    then = _ok(pv, "eth_getProof", [OTHER, [], old["number"]])
    assert then["balance"] == "0x5"
    _check_proof(then, old["stateRoot"], OTHER, exists=True)
    now = _ok(pv, "eth_getProof", [OTHER, [], "latest"])
    assert now["balance"] == hex(5 + 6 + 7)  # the head state is back as it was
    _check_proof(now, _ok(pv, "eth_getBlockByNumber", ["latest", False])["stateRoot"], OTHER, exists=True)


def test_proof_input_errors() -> None:
    pv = _pv(predeploy=False)
    assert _err(pv, "eth_getProof", [OTHER, "0x1", "latest"])["code"] == -32602
    assert _err(pv, "eth_getProof", [OTHER, ["0x1" + "0" * 64], "latest"])["code"] == -32602
    assert _err(pv, "eth_getProof", [OTHER, [], "0x99"])["code"] == -32001


# -- accounts, slots, config ------------------------------------------------------------------------------------
def test_accounts_and_storage_values() -> None:
    pv = _pv()
    account = _ok(pv, "eth_getAccount", [TOKEN, "latest"])
    assert set(account) == {"nonce", "balance", "storageRoot", "codeHash"}
    assert account["codeHash"] == "0x" + keccak(bytes.fromhex(_ok(pv, "eth_getCode", [TOKEN, "latest"])[2:])).hex()
    info = _ok(pv, "eth_getAccountInfo", [ADDR0, "latest"])
    assert info == {"balance": _ok(pv, "eth_getBalance", [ADDR0, "latest"]), "nonce": "0x0", "code": "0x"}
    values = _ok(pv, "eth_getStorageValues", [{TOKEN: ["0x0", "0x1"], OTHER: ["0x0"]}, "latest"])
    assert values[TOKEN] == [_ok(pv, "eth_getStorageAt", [TOKEN, s, "latest"]) for s in ("0x0", "0x1")]
    assert values[OTHER] == ["0x" + "00" * 32]
    assert _err(pv, "eth_getStorageValues", [[TOKEN], "latest"])["code"] == -32602


def test_config_network_and_protocol() -> None:
    pv = _pv(predeploy=False)
    config = _ok(pv, "eth_config")
    current = config["current"]
    assert config["next"] is None and current["chainId"] == "0x7a69" and current["activationTime"] == 0
    assert current["precompiles"]["P256VERIFY"] == "0x" + "00" * 18 + "0100"
    assert current["blobSchedule"] == {"target": 6, "max": 9, "baseFeeUpdateFraction": 5_007_716}
    assert len(current["forkId"]) == 10
    cancun = _ok(_pv(predeploy=False, hardfork="cancun"), "eth_config")["current"]
    assert "P256VERIFY" not in cancun["precompiles"] and "BLS12_G1ADD" not in cancun["precompiles"]
    assert _ok(pv, "eth_networkId") == "31337" and _ok(pv, "eth_protocolVersion") == 1


def test_fill_transaction_completes_without_signing() -> None:
    pv = _pv(predeploy=False)
    filled = _ok(pv, "eth_fillTransaction", [{"from": ADDR0, "to": OTHER, "value": "0x1"}])
    tx = filled["tx"]
    assert tx["nonce"] == "0x0" and tx["gas"] == hex(21_000) and tx["r"] == tx["s"] == "0x0"
    assert int(tx["maxFeePerGas"], 16) > 0 and filled["raw"].startswith("0x02")
    assert _ok(pv, "eth_blockNumber") == "0x0"  # nothing sent


def test_transaction_by_sender_and_nonce() -> None:
    pv = _pv(predeploy=False)
    first = _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "value": "0x1"}])
    _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "value": "0x2"}])
    assert _ok(pv, "eth_getTransactionBySenderAndNonce", [ADDR0, "0x0"])["hash"] == first
    assert _ok(pv, "eth_getTransactionBySenderAndNonce", [ADDR0, "0x1"])["value"] == "0x2"
    _ok(pv, "evm_setAutomine", [False])
    pooled = _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "value": "0x3"}])
    assert _ok(pv, "eth_getTransactionBySenderAndNonce", [ADDR0, "0x2"])["hash"] == pooled
    assert _ok(pv, "eth_getTransactionBySenderAndNonce", [ADDR0, "0x9"]) is None


# -- EIP-7966 --------------------------------------------------------------------------------------------------
def _raw(nonce: int) -> str:
    return "0x" + Account.sign_transaction({"chainId": 31337, "nonce": nonce, "gas": 21_000, "to": OTHER,
                                            "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1, "value": 1},
                                           KEY0).raw_transaction.hex()


def test_sync_sends_answer_with_the_receipt() -> None:
    pv = _pv(predeploy=False)
    receipt = _ok(pv, "eth_sendRawTransactionSync", [_raw(0)])
    assert receipt["status"] == "0x1" and receipt["blockNumber"] == "0x1"
    receipt = _ok(pv, "eth_sendTransactionSync", [{"from": ADDR0, "to": OTHER, "value": "0x1"}, 5000])
    assert receipt["blockNumber"] == "0x2"


def test_sync_send_times_out_with_code_4_and_reports_a_nonce_gap_with_code_5() -> None:
    pv = _pv(predeploy=False)
    _ok(pv, "evm_setAutomine", [False])
    error = _err(pv, "eth_sendRawTransactionSync", [_raw(0), "0x64"])  # 100 ms, nobody mines
    assert error["code"] == 4 and error["data"].startswith("0x")
    assert _ok(pv, "eth_getTransactionByHash", [error["data"]])["blockNumber"] is None  # pooled all the same
    gap = _err(pv, "eth_sendRawTransactionSync", [_raw(5), "0x64"])
    assert gap["code"] == 5 and "next expected nonce 1" in gap["message"]


@pytest.fixture
def interval_server() -> Iterator[ServerThread]:
    node = Node(NodeConfig(predeploy=False, accounts=2, block_time=0.3))
    node.start_interval_miner()
    server = ServerThread(node).start()
    yield server
    server.stop()
    node.close()


def test_sync_send_waits_for_the_interval_miner_over_http_and_websocket(interval_server: ServerThread) -> None:
    # while one client waits, the node keeps answering others
    import threading
    result: dict[str, Any] = {}
    waiter = threading.Thread(target=lambda: result.update(rpc(interval_server.url, "eth_sendRawTransactionSync",
                                                                [_raw(0), 10_000])))
    waiter.start()
    assert "result" in rpc(interval_server.url, "eth_blockNumber")
    waiter.join(20)
    assert result["result"]["status"] == "0x1", result

    from websockets.asyncio.client import connect

    async def over_websocket() -> dict[str, Any]:
        async with connect(interval_server.ws_url) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 7, "method": "eth_sendRawTransactionSync",
                                      "params": [_raw(1), 10_000]}))
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 8, "method": "eth_chainId", "params": []}))
            first = json.loads(await ws.recv())
            second = json.loads(await ws.recv())
            return {first["id"]: first, second["id"]: second}

    replies = asyncio.run(over_websocket())
    assert replies[8]["result"] == "0x7a69"  # answered while the send waited
    assert replies[7]["result"]["status"] == "0x1"


# -- ERC-20 dealing ------------------------------------------------------------------------------------------------
def _balance_of(pv: BourseProvider, token: str, holder: str) -> int:
    return int(_ok(pv, "eth_call", [{"to": token, "data": "0x70a08231" + holder[2:].rjust(64, "0")}]), 16)


def test_erc20_balances_and_allowances_are_written_where_the_getters_read() -> None:
    pv = _pv()
    supply = _ok(pv, "eth_call", [{"to": TOKEN, "data": "0x18160ddd"}])
    for method in ("anvil_setERC20Balance", "anvil_dealERC20"):
        _ok(pv, method, [TOKEN, OTHER, hex(12_345)])
        assert _balance_of(pv, TOKEN, OTHER) == 12_345
    _ok(pv, "anvil_setERC20Balance", [WRAPPED, OTHER, hex(10**20)])
    assert _balance_of(pv, WRAPPED, OTHER) == 10**20
    assert _ok(pv, "eth_call", [{"to": TOKEN, "data": "0x18160ddd"}]) == supply  # nothing else moved
    spender = "0x" + "88" * 20
    _ok(pv, "anvil_setERC20Allowance", [TOKEN, OTHER, spender, hex(999)])
    allowance = _ok(pv, "eth_call", [{"to": TOKEN, "data": "0xdd62ed3e" + OTHER[2:].rjust(64, "0")
                                      + spender[2:].rjust(64, "0")}])
    assert int(allowance, 16) == 999
    # the balance is real: the holder can move it
    _ok(pv, "anvil_impersonateAccount", [OTHER])
    _ok(pv, "anvil_setBalance", [OTHER, hex(10**18)])
    data = "0xa9059cbb" + ADDR0[2:].rjust(64, "0") + hex(345)[2:].rjust(64, "0")
    tx = _ok(pv, "eth_sendTransaction", [{"from": OTHER, "to": TOKEN, "data": data}])
    assert _ok(pv, "eth_getTransactionReceipt", [tx])["status"] == "0x1"
    assert _balance_of(pv, TOKEN, OTHER) == 12_000
    error = _err(pv, "anvil_setERC20Balance", ["0x" + "99" * 20, OTHER, "0x5"])
    assert error["code"] == -32000 and "balance getter" in error["message"]


def test_add_balance() -> None:
    pv = _pv(predeploy=False)
    _ok(pv, "anvil_setBalance", [OTHER, "0x10"])
    _ok(pv, "anvil_addBalance", [OTHER, "0x5"])
    assert _ok(pv, "eth_getBalance", [OTHER, "latest"]) == "0x15"
    assert _err(pv, "anvil_addBalance", [OTHER, hex(2**256 - 1)])["code"] == -32602


# -- chain controls ---------------------------------------------------------------------------------------------------
def test_rollback_and_reorg() -> None:
    pv = _pv(predeploy=False)
    for value in range(1, 5):
        _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "value": hex(value)}])
    assert _ok(pv, "eth_blockNumber") == "0x4"
    old_head = _ok(pv, "eth_getBlockByNumber", ["latest", False])["hash"]
    _ok(pv, "anvil_rollback", [2])
    assert _ok(pv, "eth_blockNumber") == "0x2"
    assert _ok(pv, "eth_getBalance", [OTHER, "latest"]) == hex(1 + 2)
    assert _ok(pv, "eth_getBlockByHash", [old_head, False]) is None
    assert _err(pv, "anvil_rollback", [5])["code"] == -32602
    # reorg the last two blocks: a raw transaction in the first new block, a request in the second
    options = {"depth": 2, "tx_block_pairs": [[_raw(0), 0],
                                              [{"from": ADDR0, "to": OTHER, "value": "0x64", "nonce": "0x1"}, 1]]}
    _ok(pv, "anvil_reorg", [options])
    assert _ok(pv, "eth_blockNumber") == "0x2"
    assert _ok(pv, "eth_getBalance", [OTHER, "latest"]) == hex(1 + 100)
    assert len(_ok(pv, "eth_getBlockByNumber", ["0x1", False])["transactions"]) == 1
    assert _err(pv, "anvil_reorg", [{"depth": 9}])["code"] == -32602


def test_mine_detailed_and_timestamp_intervals() -> None:
    pv = _pv(predeploy=False)
    _ok(pv, "evm_setAutomine", [False])
    tx = _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "value": "0x1"}])
    blocks = _ok(pv, "evm_mine_detailed")
    assert len(blocks) == 1 and blocks[0]["transactions"][0]["hash"] == tx
    _ok(pv, "anvil_setBlockTimestampInterval", [100])
    mined = _ok(pv, "anvil_mine_detailed", [{"blocks": 3}])
    stamps = [int(b["timestamp"], 16) for b in mined]
    assert stamps[1] - stamps[0] == stamps[2] - stamps[1] == 100
    assert _ok(pv, "anvil_removeBlockTimestampInterval") is True
    assert _ok(pv, "anvil_removeBlockTimestampInterval") is False


def test_metadata_chain_id_logging_pool_and_small_getters() -> None:
    node = Node(NodeConfig(predeploy=False))
    pv = BourseProvider(node)
    snapshot = _ok(pv, "evm_snapshot")
    meta = _ok(pv, "anvil_metadata")
    assert meta["chainId"] == 31337 and meta["forkedNetwork"] is None and snapshot in meta["snapshots"]
    assert _ok(pv, "anvil_getGenesisTime") == int(_ok(pv, "eth_getBlockByNumber", ["0x0", False])["timestamp"], 16)
    assert _ok(pv, "anvil_getIntervalMining") is None
    _ok(pv, "anvil_setChainId", [1234])
    assert _ok(pv, "eth_chainId") == hex(1234)
    old_chain = _raw(0)  # signed for 31337
    assert _err(pv, "eth_sendRawTransaction", [old_chain])["code"] == -32003
    printed: list[str] = []
    node.output = printed.append
    _ok(pv, "anvil_setLoggingEnabled", [False])
    _ok(pv, "anvil_setCode", [OTHER, "0x60006000fd"])  # always reverts
    _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "gas": "0x10000"}])
    assert printed == []
    _ok(pv, "hardhat_setLoggingEnabled", [True])
    _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "gas": "0x10000"}])
    assert printed and "reverted" in printed[0]
    _ok(pv, "evm_setAutomine", [False])
    for _ in range(3):
        _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": OTHER, "value": "0x1", "gas": "0x5208"}])
    assert _ok(pv, "txpool_status")["pending"] == "0x3"
    _ok(pv, "anvil_removePoolTransactions", [ADDR0])
    assert _ok(pv, "txpool_status")["pending"] == "0x0"


def test_safe_and_finalized_trail_the_head() -> None:
    pv = _pv(predeploy=False, slots_in_an_epoch=4)
    _ok(pv, "anvil_mine", ["0xa"])
    assert _ok(pv, "eth_getBlockByNumber", ["safe", False])["number"] == hex(6)
    assert _ok(pv, "eth_getBlockByNumber", ["finalized", False])["number"] == hex(2)
    assert _ok(_pv(predeploy=False), "eth_getBlockByNumber", ["finalized", False])["number"] == "0x0"


def test_impersonate_signature() -> None:
    pv = _pv(predeploy=False)
    stranger = Account.create()
    raw = Account.sign_transaction({"chainId": 31337, "nonce": 0, "gas": 21_000, "to": OTHER, "value": 7,
                                    "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1}, stranger.key)
    signature = raw.r.to_bytes(32, "big") + raw.s.to_bytes(32, "big") + bytes((raw.v,))
    pretend = "0x" + "ee" * 20
    _ok(pv, "anvil_setBalance", [pretend, hex(10**18)])
    _ok(pv, "anvil_impersonateSignature", ["0x" + signature.hex(), pretend])
    tx = _ok(pv, "eth_sendRawTransaction", ["0x" + raw.raw_transaction.hex()])
    assert _ok(pv, "eth_getTransactionByHash", [tx])["from"] == pretend
    assert _ok(pv, "eth_getBalance", [OTHER, "latest"]) == "0x7"
    assert _err(pv, "anvil_impersonateSignature", ["0x1234", pretend])["code"] == -32602


def test_hardhat_aliases() -> None:
    pv = _pv(predeploy=False)
    _ok(pv, "hardhat_autoImpersonateAccount", [True])
    _ok(pv, "anvil_setBalance", [OTHER, hex(10**18)])
    _ok(pv, "evm_setAutomine", [False])
    _ok(pv, "eth_sendTransaction", [{"from": OTHER, "to": ADDR0, "value": "0x1", "gas": "0x5208"}])
    _ok(pv, "hardhat_dropAllTransactions")
    assert _ok(pv, "txpool_status")["pending"] == "0x0"
    assert _ok(pv, "anvil_setMinGasPrice", ["0x0"]) is None
    assert MiningMode.MANUAL

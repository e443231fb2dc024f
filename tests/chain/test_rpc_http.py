"""The node over real HTTP with web3.py: each method, positive next to negative."""

from __future__ import annotations

import json
import urllib.request

from eth_account import Account
from web3 import Web3

from chain import Node
from chain.hashing import keccak

from .conftest import rpc
from .evm_code import LOADER, LOGGER, STORER, deployable, error_string, panic, reverter

ANVIL_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ANVIL_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def deploy(web3: Web3, runtime: bytes) -> str:
    h = web3.eth.send_transaction({"from": ANVIL_0, "data": deployable(runtime)})
    receipt = web3.eth.get_transaction_receipt(h)
    assert receipt["status"] == 1
    assert web3.eth.get_code(receipt["contractAddress"]) == runtime
    return receipt["contractAddress"]


def test_identity_methods_match_anvil_defaults(web3: Web3, url: str) -> None:
    assert web3.eth.chain_id == 31337
    assert web3.eth.accounts[:2] == [ANVIL_0, ANVIL_1]
    assert web3.eth.get_balance(ANVIL_0) == 10_000 * 10**18
    assert web3.net.version == "31337"
    assert web3.net.listening is True
    assert web3.net.peer_count == 0
    assert web3.client_version.startswith("anvil-compatible/bourse/")
    assert rpc(url, "web3_sha3", ["0x"])["result"] == "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    assert web3.eth.syncing is False
    assert rpc(url, "eth_mining")["result"] is True
    assert rpc(url, "eth_coinbase")["result"] == "0x" + "00" * 20


def test_value_transfer_is_mined_with_receipt_block_and_lookups(web3: Web3) -> None:
    before = web3.eth.block_number
    h = web3.eth.send_transaction({"from": ANVIL_0, "to": ANVIL_1, "value": 12345})
    receipt = web3.eth.get_transaction_receipt(h)
    assert receipt["status"] == 1 and receipt["gasUsed"] == 21_000
    assert receipt["blockNumber"] == before + 1 == web3.eth.block_number
    block = web3.eth.get_block(receipt["blockNumber"], full_transactions=True)
    assert block["transactions"][0]["hash"] == h
    assert web3.eth.get_block(block["hash"])["number"] == block["number"]
    assert web3.eth.get_transaction(h)["value"] == 12345
    assert web3.eth.get_transaction_by_block(block["number"], 0)["hash"] == h
    assert web3.eth.get_transaction_by_block(block["hash"], 0)["hash"] == h
    assert web3.eth.get_block_transaction_count(block["number"]) == 1
    assert web3.eth.get_balance(ANVIL_1) == 10_000 * 10**18 + 12345
    assert web3.eth.get_transaction_count(ANVIL_0) == 1
    receipts = web3.eth.get_block_receipts(block["number"])
    assert [r["transactionHash"] for r in receipts] == [h]


def test_missing_things_are_null(web3: Web3, url: str) -> None:
    assert rpc(url, "eth_getTransactionReceipt", ["0x" + "11" * 32])["result"] is None
    assert rpc(url, "eth_getTransactionByHash", ["0x" + "11" * 32])["result"] is None
    assert rpc(url, "eth_getBlockByNumber", ["0xffffff", False])["result"] is None
    assert rpc(url, "eth_getBlockByHash", ["0x" + "11" * 32, False])["result"] is None


def test_raw_transactions_of_each_type_are_accepted(web3: Web3) -> None:
    nonce = web3.eth.get_transaction_count(ANVIL_0)
    common = {"to": ANVIL_1, "value": 1, "gas": 21_000, "chainId": 31337}
    txs = [
        {**common, "nonce": nonce, "gasPrice": 10**10},
        {**common, "nonce": nonce + 1, "gasPrice": 10**10, "accessList": []},
        {**common, "nonce": nonce + 2, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 10**9},
    ]
    for tx in txs:
        raw = Account.sign_transaction(tx, ANVIL_KEY_0).raw_transaction
        h = web3.eth.send_raw_transaction(raw)
        assert web3.eth.get_transaction_receipt(h)["status"] == 1
    assert [web3.eth.get_transaction(web3.eth.get_block(n)["transactions"][0])["type"]
            for n in range(web3.eth.block_number - 2, web3.eth.block_number + 1)] == [0, 1, 2]


def _raw(tx: dict, key: str = ANVIL_KEY_0) -> str:
    return "0x" + bytes(Account.sign_transaction(tx, key).raw_transaction).hex()


def test_bad_transactions_are_refused_with_clear_messages_and_change_nothing(web3: Web3, url: str) -> None:
    head = web3.eth.block_number
    base = {"to": ANVIL_1, "value": 1, "gas": 21_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1,
            "chainId": 31337, "nonce": 0}
    web3.eth.send_transaction({"from": ANVIL_0, "to": ANVIL_1, "value": 1})
    cases = {
        "nonce too low": _raw(base),
        "invalid chain id": _raw({**base, "nonce": 1, "chainId": 1}),
        "insufficient funds": _raw({**base, "nonce": 1, "value": 10**30}),
        "intrinsic gas too low": _raw({**base, "nonce": 1, "gas": 20_000}),
        "exceeds block gas limit": _raw({**base, "nonce": 1, "gas": 40_000_000}),
    }
    for phrase, raw in cases.items():
        reply = rpc(url, "eth_sendRawTransaction", [raw])
        assert phrase in reply["error"]["message"], (phrase, reply)
        assert reply["error"]["code"] == -32003
    assert web3.eth.block_number == head + 1
    assert web3.eth.get_transaction_count(ANVIL_0) == 1
    garbage = rpc(url, "eth_sendRawTransaction", ["0x1234"])
    assert garbage["error"]["code"] == -32602


def test_revert_reasons_are_code_3_with_data_for_call_estimate_and_send(web3: Web3, url: str) -> None:
    cases = [
        (error_string("settlement: order expired"), "execution reverted: settlement: order expired"),
        (panic(0x11), "execution reverted: panic: arithmetic underflow or overflow (0x11)"),
        (bytes.fromhex("deadbeef"), "execution reverted: custom error 0xdeadbeef"),
        (b"", "execution reverted"),
    ]
    for data, message in cases:
        target = deploy(web3, reverter(data))
        call = {"from": ANVIL_0, "to": target, "data": "0x"}
        for method, params in (("eth_call", [call, "latest"]), ("eth_estimateGas", [call]),
                               ("eth_sendTransaction", [call])):
            reply = rpc(url, method, params)
            assert reply["error"]["code"] == 3, (method, reply)
            assert reply["error"]["message"] == message
            assert reply["error"]["data"] == "0x" + data.hex()


def test_send_transaction_with_explicit_gas_mines_a_failed_transaction(web3: Web3) -> None:
    target = deploy(web3, reverter(error_string("no")))
    h = web3.eth.send_transaction({"from": ANVIL_0, "to": target, "gas": 100_000})
    assert web3.eth.get_transaction_receipt(h)["status"] == 0


def test_unknown_key_is_refused_for_send_and_sign(url: str) -> None:
    stranger = "0x" + "12" * 20
    reply = rpc(url, "eth_sendTransaction", [{"from": stranger, "to": ANVIL_1, "value": "0x1"}])
    assert reply["error"]["code"] == -32000 and "no key" in reply["error"]["message"]
    assert rpc(url, "eth_sign", [stranger, "0x00"])["error"]["code"] == -32000


def test_envelope_errors_follow_eip_1474(url: str) -> None:
    def post(body: bytes) -> object:
        req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read())

    assert post(b"{not json")["error"]["code"] == -32700  # type: ignore[index]
    assert post(b'{"jsonrpc":"2.0","id":1}')["error"]["code"] == -32600  # type: ignore[index]
    assert post(b"[]")["error"]["code"] == -32600  # type: ignore[index]
    reply = rpc(url, "eth_blockNumbr")
    assert reply["error"]["code"] == -32601 and "eth_blockNumber" in reply["error"]["message"]
    reply = rpc(url, "eth_getBalance", ["0x1234", "latest"])
    assert reply["error"]["code"] == -32602 and "address" in reply["error"]["message"]
    reply = rpc(url, "eth_getBalance", [ANVIL_0, "yesterday"])
    assert reply["error"]["code"] == -32602 and "block" in reply["error"]["message"]
    batch = post(json.dumps([
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "nope", "params": []},
        {"jsonrpc": "2.0", "method": "eth_chainId", "params": []},
    ]).encode())
    assert [r["id"] for r in batch] == [1, 2]  # type: ignore[union-attr, index]
    assert batch[0]["result"] == "0x7a69" and batch[1]["error"]["code"] == -32601  # type: ignore[index]


def test_cors_headers_on_preflight_and_post(url: str) -> None:
    req = urllib.request.Request(url, method="OPTIONS", headers={"Origin": "http://localhost:3000",
                                                                 "Access-Control-Request-Method": "POST"})
    with urllib.request.urlopen(req) as resp:
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in resp.headers["Access-Control-Allow-Methods"]
        assert "Content-Type" in resp.headers["Access-Control-Allow-Headers"]
        assert int(resp.headers["Access-Control-Max-Age"]) > 0
    req = urllib.request.Request(url, b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}',
                                 {"Content-Type": "application/json", "Origin": "http://localhost:3000"})
    with urllib.request.urlopen(req) as resp:
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert resp.headers["Access-Control-Allow-Methods"] is None  # a preflight's, not every answer's


def test_logs_get_logs_and_polling_filters(web3: Web3, url: str) -> None:
    logger = deploy(web3, LOGGER)
    log_filter = rpc(url, "eth_newFilter", [{"address": logger}])["result"]
    block_filter = rpc(url, "eth_newBlockFilter")["result"]
    topic = "0x" + "ab" * 32
    h = web3.eth.send_transaction({"from": ANVIL_0, "to": logger, "data": topic})
    receipt = web3.eth.get_transaction_receipt(h)
    assert receipt["logs"][0]["topics"][0].hex() == "ab" * 32
    logs = web3.eth.get_logs({"fromBlock": 0, "address": logger, "topics": [topic]})
    assert len(logs) == 1 and logs[0]["transactionHash"] == h
    assert web3.eth.get_logs({"fromBlock": 0, "topics": ["0x" + "cd" * 32]}) == []
    changes = rpc(url, "eth_getFilterChanges", [log_filter])["result"]
    assert len(changes) == 1 and changes[0]["topics"] == [topic]
    assert rpc(url, "eth_getFilterChanges", [log_filter])["result"] == []
    assert len(rpc(url, "eth_getFilterLogs", [log_filter])["result"]) == 1
    assert rpc(url, "eth_getFilterChanges", [block_filter])["result"] == [receipt["blockHash"].to_0x_hex()]
    assert rpc(url, "eth_uninstallFilter", [log_filter])["result"] is True
    assert rpc(url, "eth_uninstallFilter", [log_filter])["result"] is False
    assert rpc(url, "eth_getFilterChanges", [log_filter])["error"]["code"] == -32001
    bad = rpc(url, "eth_getLogs", [{"fromBlock": "0x1", "toBlock": "0x0"}])
    assert bad["error"]["code"] == -32602


def test_storage_history_and_state_overrides(web3: Web3, url: str) -> None:
    store = deploy(web3, STORER)
    word = lambda n: n.to_bytes(32, "big").hex()  # noqa: E731
    web3.eth.send_transaction({"from": ANVIL_0, "to": store, "data": "0x" + word(1) + word(7)})
    first = web3.eth.block_number
    web3.eth.send_transaction({"from": ANVIL_0, "to": store, "data": "0x" + word(1) + word(9)})
    assert int(rpc(url, "eth_getStorageAt", [store, "0x1", "latest"])["result"], 16) == 9
    assert int(rpc(url, "eth_getStorageAt", [store, "0x1", hex(first)])["result"], 16) == 7
    assert int(rpc(url, "eth_getStorageAt", [store, "0x1", hex(first - 1)])["result"], 16) == 0
    assert web3.eth.get_balance(ANVIL_0, block_identifier=0) == 10_000 * 10**18
    loader = "0x" + "42" * 20
    out = rpc(url, "eth_call", [{"to": loader, "data": "0x" + word(3)}, "latest",
                                {loader: {"code": "0x" + LOADER.hex(), "stateDiff": {hex(3): "0x" + word(99)}}}])
    assert int(out["result"], 16) == 99
    assert web3.eth.get_code(loader) == b""


def test_estimate_gas_is_exact_enough_to_succeed(web3: Web3) -> None:
    store = deploy(web3, STORER)
    data = "0x" + (5).to_bytes(32, "big").hex() + (6).to_bytes(32, "big").hex()
    gas = web3.eth.estimate_gas({"from": ANVIL_0, "to": store, "data": data})
    assert web3.eth.get_transaction_receipt(
        web3.eth.send_transaction({"from": ANVIL_0, "to": store, "data": data, "gas": gas}))["status"] == 1
    store2 = deploy(web3, STORER)
    assert web3.eth.get_transaction_receipt(
        web3.eth.send_transaction({"from": ANVIL_0, "to": store2, "data": data, "gas": gas - 1}))["status"] == 0


def test_create_access_list_names_touched_slots(web3: Web3, url: str) -> None:
    store = deploy(web3, STORER)
    data = "0x" + (5).to_bytes(32, "big").hex() + (6).to_bytes(32, "big").hex()
    out = rpc(url, "eth_createAccessList", [{"from": ANVIL_0, "to": store, "data": data}])["result"]
    assert out["accessList"] == [{"address": store.lower(), "storageKeys": ["0x" + (5).to_bytes(32, "big").hex()]}]
    assert int(out["gasUsed"], 16) > 21_000


def test_signing_methods_recover_to_the_dev_account(url: str) -> None:
    from eth_account.messages import encode_defunct, encode_typed_data

    sig = rpc(url, "eth_sign", [ANVIL_0, "0x68656c6c6f"])["result"]
    assert Account.recover_message(encode_defunct(b"hello"), signature=sig) == ANVIL_0
    sig = rpc(url, "personal_sign", ["0x68656c6c6f", ANVIL_0])["result"]
    assert Account.recover_message(encode_defunct(b"hello"), signature=sig) == ANVIL_0
    typed = {"types": {"EIP712Domain": [{"name": "name", "type": "string"}],
                       "Mail": [{"name": "contents", "type": "string"}]},
             "primaryType": "Mail", "domain": {"name": "x"}, "message": {"contents": "hi"}}
    sig = rpc(url, "eth_signTypedData_v4", [ANVIL_0, json.dumps(typed)])["result"]
    assert Account.recover_message(encode_typed_data(full_message=typed), signature=sig) == ANVIL_0
    signed = rpc(url, "eth_signTransaction", [{"from": ANVIL_0, "to": ANVIL_1, "value": "0x1", "gas": "0x5208"}])
    assert signed["result"]["raw"].startswith("0x02")  # {raw, tx}: the execution-apis SignTransactionResult
    assert signed["result"]["tx"]["from"].lower() == ANVIL_0.lower()
    assert signed["result"]["tx"]["hash"] == "0x" + keccak(bytes.fromhex(signed["result"]["raw"][2:])).hex()
    assert rpc(url, "eth_signTypedData_v4", [ANVIL_0, "{bad"])["error"]["code"] == -32602
    pair = {"types": {"EIP712Domain": [{"name": "name", "type": "string"}],
                      "Pair": [{"name": "who", "type": "string[2]"}]},
            "primaryType": "Pair", "domain": {"name": "x"}, "message": {"who": ["a"]}}
    bad = rpc(url, "eth_signTypedData_v4", [ANVIL_0, pair])["error"]
    assert bad["code"] == -32602 and "Expected 2 items for array type string[2], got 1" in bad["message"]
    pair["message"] = {"who": ["a", "b"]}
    assert rpc(url, "eth_signTypedData_v4", [ANVIL_0, pair])["result"].startswith("0x")


def test_fee_methods(web3: Web3, url: str) -> None:
    web3.eth.send_transaction({"from": ANVIL_0, "to": ANVIL_1, "value": 1})
    history = web3.eth.fee_history(2, "latest", [50])
    assert len(history["baseFeePerGas"]) == 3 and len(history["reward"]) == 2
    assert web3.eth.gas_price > 0
    assert web3.eth.max_priority_fee == 10**9
    assert rpc(url, "eth_feeHistory", ["0x2", "latest", [90, 10]])["error"]["code"] == -32602


def test_node_library_and_registry_list_every_method(http_node: tuple[Node, object]) -> None:
    from chain.server import build_registry

    registry, _ = build_registry(http_node[0])
    names = set(registry.names())
    required = {
        "web3_clientVersion", "web3_sha3", "net_version", "net_listening", "net_peerCount", "eth_chainId",
        "eth_blockNumber", "eth_accounts", "eth_coinbase", "eth_mining", "eth_syncing", "eth_gasPrice",
        "eth_maxPriorityFeePerGas", "eth_feeHistory", "eth_getBalance", "eth_getCode", "eth_getStorageAt",
        "eth_getTransactionCount", "eth_call", "eth_estimateGas", "eth_sendTransaction", "eth_sendRawTransaction",
        "eth_sign", "personal_sign", "eth_signTypedData_v4", "eth_signTransaction", "eth_getBlockByNumber",
        "eth_getBlockByHash", "eth_getBlockTransactionCountByNumber", "eth_getBlockTransactionCountByHash",
        "eth_getTransactionByHash", "eth_getTransactionByBlockHashAndIndex", "eth_getTransactionByBlockNumberAndIndex",
        "eth_getTransactionReceipt", "eth_getBlockReceipts", "eth_getLogs", "eth_newFilter", "eth_newBlockFilter",
        "eth_newPendingTransactionFilter", "eth_getFilterChanges", "eth_getFilterLogs", "eth_uninstallFilter",
        "eth_subscribe", "eth_unsubscribe", "eth_createAccessList", "txpool_status", "txpool_content",
    }
    for dev in ("snapshot", "revert", "mine", "increaseTime", "setNextBlockTimestamp", "setAutomine",
                "setIntervalMining", "setBalance", "setCode", "setNonce", "setStorageAt", "impersonateAccount",
                "stopImpersonatingAccount", "dropTransaction", "setCoinbase", "setMinGasPrice",
                "setNextBlockBaseFeePerGas", "setBlockGasLimit", "reset"):
        required.add(f"anvil_{dev}")
    required |= {"evm_snapshot", "evm_revert", "evm_mine", "evm_increaseTime", "evm_setNextBlockTimestamp",
                 "hardhat_mine", "hardhat_setBalance", "hardhat_impersonateAccount", "evm_setAutomine"}
    assert required - names == set()

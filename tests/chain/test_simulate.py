"""eth_simulateV1: simulated blocks chain onto the base block with real roots (a simulated transfer's state and
receipt roots equal the mined block's), calls see earlier calls and blocks, overrides, errors with
execution-apis' codes, traceTransfers, moved precompiles, full transactions, web3.py's simulate_v1, and the
call results anvil 1.7.1 gives for the same request."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from eth_utils import keccak
from web3 import Web3

from chain import Node, NodeConfig
from chain.provider import BourseProvider
from tests.tools import running_anvil, tool

ADDR0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
POOR = "0x" + "c0" * 20
CONTRACT = "0x" + "c1" * 20
TARGET = "0x" + "c2" * 20
HEIR = "0x" + "c3" * 20
NUMBER_CODE = "0x4360005260206000f3"  # return block.number
GWEI = 10**9


def _pv(**config: Any) -> BourseProvider:
    return BourseProvider(Node(NodeConfig(**config)))


def _ok(pv: BourseProvider, method: str, params: list[Any]) -> Any:
    reply = pv.call(method, params)
    assert "error" not in reply, reply
    return reply["result"]


def _err(pv: BourseProvider, params: list[Any]) -> dict[str, Any]:
    reply = pv.call("eth_simulateV1", params)
    assert "error" in reply, reply
    return reply["error"]


def _simulate(pv: BourseProvider, blocks: list[dict[str, Any]], tag: str = "latest", **flags: Any) -> list[dict]:
    return _ok(pv, "eth_simulateV1", [{"blockStateCalls": blocks, **flags}, tag])


def _forward_code(target: str) -> str:
    """CALL(gas, target, callvalue, 0, 0, 0, 0); STOP."""
    return "0x" + "6000" * 4 + "34" + "73" + target[2:] + "5a" + "f1" + "00"


def _revert_with(reason: str) -> str:
    """Code that reverts with Error(reason) (reason under 32 bytes)."""
    payload = (bytes.fromhex("08c379a0") + (32).to_bytes(32, "big") + len(reason).to_bytes(32, "big")
               + reason.encode().ljust(32, b"\0"))
    code = ""
    for i in range(0, len(payload), 32):
        word = payload[i:i + 32].ljust(32, b"\0")
        code += "7f" + word.hex() + "60" + f"{i:02x}" + "52"  # PUSH32 word, PUSH1 i, MSTORE
    return "0x" + code + "60" + f"{len(payload):02x}" + "6000fd"


def test_blocks_chain_onto_the_base_and_fill_gaps() -> None:
    pv = _pv()
    head = _ok(pv, "eth_getBlockByNumber", ["latest", False])
    blocks = _simulate(pv, [
        {"calls": [{"from": POOR, "to": CONTRACT}], "stateOverrides": {CONTRACT: {"code": NUMBER_CODE}}},
        {"blockOverrides": {"number": hex(int(head["number"], 16) + 4)}, "calls": [{"from": POOR, "to": CONTRACT}]},
    ])
    numbers = [int(b["number"], 16) for b in blocks]
    base = int(head["number"], 16)
    assert numbers == [base + 1, base + 2, base + 3, base + 4]  # the gap filled with empty blocks
    assert blocks[0]["parentHash"] == head["hash"]
    for parent, child in zip(blocks, blocks[1:]):
        assert child["parentHash"] == parent["hash"]
        assert int(child["timestamp"], 16) == int(parent["timestamp"], 16) + 12
    assert [len(b["calls"]) for b in blocks] == [1, 0, 0, 1]
    assert int(blocks[0]["calls"][0]["returnData"], 16) == base + 1
    assert int(blocks[3]["calls"][0]["returnData"], 16) == base + 4
    assert blocks[1]["transactions"] == [] and blocks[1]["gasUsed"] == "0x0"
    # nothing was kept
    assert _ok(pv, "eth_blockNumber", []) == head["number"]
    assert _ok(pv, "eth_getCode", [CONTRACT, "latest"]) == "0x"


def test_blockhash_sees_the_simulated_blocks() -> None:
    pv = _pv()
    # return blockhash(number - 1)
    code = "0x" + "600143034060005260206000f3"
    blocks = _simulate(pv, [{"calls": []}, {"calls": [{"from": POOR, "to": CONTRACT}],
                                          "stateOverrides": {CONTRACT: {"code": code}}}])
    assert blocks[1]["calls"][0]["returnData"] == blocks[0]["hash"]


def test_a_simulated_transfer_has_the_roots_of_the_mined_block() -> None:
    pv = _pv()
    base_fee = int(_ok(pv, "eth_getBlockByNumber", ["pending", False])["baseFeePerGas"], 16)
    tx = {"from": ADDR0, "to": TARGET, "value": hex(10**18), "gas": hex(21_000), "maxFeePerGas": hex(2 * base_fee),
          "maxPriorityFeePerGas": hex(GWEI), "nonce": _ok(pv, "eth_getTransactionCount", [ADDR0, "latest"])}
    simulated = _simulate(pv, [{"calls": [tx]}], validation=True)[0]
    assert simulated["calls"][0]["status"] == "0x1" and simulated["calls"][0]["gasUsed"] == hex(21_000)
    assert int(simulated["baseFeePerGas"], 16) == base_fee
    tx_hash = _ok(pv, "eth_sendTransaction", [tx])
    mined = _ok(pv, "eth_getBlockByNumber", ["latest", False])
    assert mined["transactions"] == [tx_hash]
    for key in ("stateRoot", "receiptsRoot", "logsBloom", "gasUsed", "number", "parentHash", "baseFeePerGas"):
        assert simulated[key] == mined[key], key


def test_calls_see_earlier_calls_and_validation_counts_nonces() -> None:
    pv = _pv()
    nonce = int(_ok(pv, "eth_getTransactionCount", [ADDR0, "latest"]), 16)
    fees = {"maxFeePerGas": hex(100 * GWEI), "maxPriorityFeePerGas": "0x0"}
    blocks = _simulate(pv, [
        {"calls": [{"from": ADDR0, "to": POOR, "value": hex(10**18), **fees},
                   {"from": POOR, "to": TARGET, "value": hex(10**17), "gas": hex(21_000), **fees}]},
        {"calls": [{"from": ADDR0, "to": POOR, "value": "0x1", "nonce": hex(nonce + 1), **fees}]},
    ], validation=True)
    assert [c["status"] for b in blocks for c in b["calls"]] == ["0x1", "0x1", "0x1"]
    error = _err(pv, [{"blockStateCalls": [{"calls": [{"from": ADDR0, "to": POOR, "nonce": hex(nonce + 5), **fees}]}],
                       "validation": True}])
    assert error["code"] == -38010 and "nonce too high" in error["message"]
    error = _err(pv, [{"blockStateCalls": [{"calls": [{"from": ADDR0, "to": POOR, "nonce": hex(nonce), **fees},
                                                      {"from": ADDR0, "to": POOR, "nonce": hex(nonce), **fees}]}],
                       "validation": True}])
    assert error["code"] == -38011


def test_state_overrides_and_no_validation_defaults() -> None:
    pv = _pv()
    blocks = _simulate(pv, [{"stateOverrides": {POOR: {"balance": hex(5 * 10**18)}},
                             "calls": [{"from": POOR, "to": TARGET, "value": hex(4 * 10**18)}]},
                            {"calls": [{"from": TARGET, "to": HEIR, "value": hex(4 * 10**18)}]}])
    assert blocks[0]["baseFeePerGas"] == "0x0"  # without validation, as geth
    assert [c["status"] for b in blocks for c in b["calls"]] == ["0x1", "0x1"]
    assert _ok(pv, "eth_getBalance", [POOR, "latest"]) == "0x0"
    error = _err(pv, [{"blockStateCalls": [{"calls": [{"from": POOR, "to": TARGET, "value": "0x1"}]}]}])
    assert error["code"] == -38014


@pytest.mark.parametrize("case, code", [
    ("base fee", -38012), ("funds", -38014), ("intrinsic", -38013), ("gas limit", -38015), ("eoa", -38024),
])
def test_validation_errors_have_execution_apis_codes(case: str, code: int) -> None:
    pv = _pv()
    call: dict[str, Any] = {"from": ADDR0, "to": POOR, "maxFeePerGas": hex(100 * GWEI),
                            "maxPriorityFeePerGas": "0x0"}
    block: dict[str, Any] = {}
    if case == "base fee":
        call["maxFeePerGas"] = "0x1"
    elif case == "funds":
        call["from"] = POOR
    elif case == "intrinsic":
        call["gas"] = hex(20_000)
    elif case == "gas limit":
        call["gas"] = hex(1_000_000)
        block = {"blockOverrides": {"gasLimit": hex(500_000)}}
    else:
        block = {"stateOverrides": {ADDR0: {"code": "0x00"}}}
    error = _err(pv, [{"blockStateCalls": [{**block, "calls": [call]}], "validation": True}])
    assert error["code"] == code, error


def test_sequence_errors() -> None:
    pv = _pv()
    head = int(_ok(pv, "eth_blockNumber", []), 16)
    assert _err(pv, [{"blockStateCalls": [{"blockOverrides": {"number": hex(head + 3)}},
                                          {"blockOverrides": {"number": hex(head + 2)}}]}])["code"] == -38020
    assert _err(pv, [{"blockStateCalls": [{"blockOverrides": {"number": hex(head)}}]}])["code"] == -38020
    now = int(_ok(pv, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    assert _err(pv, [{"blockStateCalls": [{"blockOverrides": {"time": hex(now)}}]}])["code"] == -38021
    assert _err(pv, [{"blockStateCalls": [{"blockOverrides": {"number": hex(head + 257)}}]}])["code"] == -38026
    assert _err(pv, [{"blockStateCalls": [{}] * 257}])["code"] == -38026
    assert len(_simulate(pv, [{"blockOverrides": {"number": hex(head + 256)}}])) == 256
    for bad in ({"blockStateCalls": {}}, {"blockStateCalls": [], "validation": "yes"}, {"blockStateCalls": [{"x": 1}]},
                {"blockStateCalls": [{"blockOverrides": {"color": "0x1"}}]}, {},
                {"blockStateCalls": [{"calls": [{"to": "0x12"}]}]}):
        assert _err(pv, [bad])["code"] == -32602, bad


def test_call_errors_revert_and_vm_failure() -> None:
    pv = _pv()
    blocks = _simulate(pv, [{"stateOverrides": {CONTRACT: {"code": _revert_with("too early")},
                                                TARGET: {"code": "0xfe"}},
                             "calls": [{"from": POOR, "to": CONTRACT}, {"from": POOR, "to": TARGET, "gas": "0xc350"},
                                       {"from": POOR, "to": HEIR}]}])
    reverted, invalid, fine = blocks[0]["calls"]
    assert reverted["status"] == "0x0" and reverted["error"]["code"] == 3
    assert reverted["error"]["message"] == "execution reverted: too early"
    assert reverted["error"]["data"] == reverted["returnData"] and reverted["returnData"].startswith("0x08c379a0")
    assert invalid["status"] == "0x0" and invalid["error"]["code"] == -32015 and "data" not in invalid["error"]
    assert invalid["gasUsed"] == "0xc350"  # an invalid opcode takes all the gas
    assert fine["status"] == "0x1" and "error" not in fine


def test_trace_transfers_follow_the_value_and_drop_reverted_frames() -> None:
    pv = _pv()
    sender_topic = "0x" + "00" * 12 + POOR[2:]
    blocks = _simulate(pv, [{
        "stateOverrides": {POOR: {"balance": hex(10**18)}, CONTRACT: {"code": _forward_code(TARGET)},
                           HEIR: {"code": _forward_code(CONTRACT)}},
        "calls": [{"from": POOR, "to": CONTRACT, "value": "0x64"},
                  {"from": POOR, "to": HEIR, "value": "0x7"}]}], traceTransfers=True)
    first, second = blocks[0]["calls"]
    assert [(log["topics"][1], log["topics"][2], int(log["data"], 16)) for log in first["logs"]] == [
        (sender_topic, "0x" + "00" * 12 + CONTRACT[2:], 100), ("0x" + "00" * 12 + CONTRACT[2:],
                                                             "0x" + "00" * 12 + TARGET[2:], 100)]
    assert all(log["address"] == "0x" + "ee" * 20 for log in first["logs"])
    assert all(log["topics"][0] == "0x" + keccak(b"Transfer(address,address,uint256)").hex() for log in first["logs"])
    assert len(second["logs"]) == 3 and [int(log["logIndex"], 16) for log in second["logs"]] == [2, 3, 4]
    # the inner call reverts: its transfer log goes with it
    blocks = _simulate(pv, [{
        "stateOverrides": {POOR: {"balance": hex(10**18)}, CONTRACT: {"code": _forward_code(TARGET)},
                           TARGET: {"code": "0x60006000fd"}},
        "calls": [{"from": POOR, "to": CONTRACT, "value": "0x64"}]}], traceTransfers=True)
    assert [log["topics"][2] for log in blocks[0]["calls"][0]["logs"]] == ["0x" + "00" * 12 + CONTRACT[2:]]
    # selfdestruct moves the balance: logged too
    blocks = _simulate(pv, [{
        "stateOverrides": {CONTRACT: {"code": "0x73" + HEIR[2:] + "ff", "balance": "0x99"}},
        "calls": [{"from": POOR, "to": CONTRACT}]}], traceTransfers=True)
    [log] = blocks[0]["calls"][0]["logs"]
    assert log["topics"][1:] == ["0x" + "00" * 12 + CONTRACT[2:], "0x" + "00" * 12 + HEIR[2:]]
    assert int(log["data"], 16) == 0x99
    # without the flag: no such logs
    blocks = _simulate(pv, [{"stateOverrides": {POOR: {"balance": hex(10**18)}},
                             "calls": [{"from": POOR, "to": TARGET, "value": "0x64"}]}])
    assert blocks[0]["calls"][0]["logs"] == []


def test_a_precompile_moved_elsewhere_runs_there() -> None:
    pv = _pv()
    moved = "0x" + "00" * 18 + "0123"
    identity = "0x0000000000000000000000000000000000000004"
    blocks = _simulate(pv, [{"stateOverrides": {identity: {"movePrecompileToAddress": moved, "code": NUMBER_CODE}},
                             "calls": [{"from": POOR, "to": moved, "input": "0xabcdef"},
                                       {"from": POOR, "to": identity, "input": "0xabcdef"}]}])
    at_new, at_old = blocks[0]["calls"]
    assert at_new["returnData"] == "0xabcdef"  # the identity precompile, now at 0x…0123
    assert int(at_old["returnData"], 16) == int(blocks[0]["number"], 16)  # the override's code at 0x…04
    error = _err(pv, [{"blockStateCalls": [{"stateOverrides": {identity: {"movePrecompileToAddress": identity}}}]}])
    assert error["code"] == -38022
    error = _err(pv, [{"blockStateCalls": [{"stateOverrides": {
        identity: {"movePrecompileToAddress": moved}, "0x0000000000000000000000000000000000000002": {
            "movePrecompileToAddress": moved}}}]}])
    assert error["code"] == -38023


def test_on_an_older_block_the_state_is_that_blocks() -> None:
    pv = _pv()
    before = _ok(pv, "eth_blockNumber", [])
    _ok(pv, "eth_sendTransaction", [{"from": ADDR0, "to": TARGET, "value": hex(10**18)}])
    # TARGET has nothing at `before`: sending from it fails there, succeeds at latest
    call = {"from": TARGET, "to": HEIR, "value": "0x1"}
    assert _err(pv, [{"blockStateCalls": [{"calls": [call]}]}, before])["code"] == -38014
    assert _simulate(pv, [{"calls": [call]}])[0]["calls"][0]["status"] == "0x1"
    assert _ok(pv, "eth_getBalance", [TARGET, "latest"]) == hex(10**18)  # the rewound state was put back
    full = _simulate(pv, [{"calls": [call]}], returnFullTransactions=True)[0]
    [tx] = full["transactions"]
    assert tx["from"] == TARGET and tx["to"] == HEIR and tx["blockHash"] == full["hash"]
    assert tx["blockNumber"] == full["number"] and tx["transactionIndex"] == "0x0"
    assert tx["hash"] == _simulate(pv, [{"calls": [call]}])[0]["transactions"][0]


def test_web3_simulate_v1() -> None:
    w3 = Web3(_pv())
    result = w3.eth.simulate_v1({"blockStateCalls": [{
        "stateOverrides": {CONTRACT: {"code": NUMBER_CODE}},
        "calls": [{"from": POOR, "to": CONTRACT}]}]}, "latest")
    assert int.from_bytes(result[0]["calls"][0]["returnData"], "big") == result[0]["number"]


@pytest.mark.skipif(tool("anvil") is None, reason="anvil is not installed (.ci/run installs it)")
def test_call_results_match_anvil() -> None:
    request = [{"blockStateCalls": [
        {"stateOverrides": {POOR: {"balance": hex(10**18)}, CONTRACT: {"code": _forward_code(TARGET)},
                            HEIR: {"code": _revert_with("nope")}},
         "calls": [{"from": POOR, "to": CONTRACT, "value": "0x64"}, {"from": POOR, "to": HEIR},
                   {"from": POOR, "to": TARGET, "value": "0x5", "input": "0x" + "00" * 40 + "01"}]},
        {"blockOverrides": {"number": "0x30"}, "stateOverrides": {CONTRACT: {"code": NUMBER_CODE}},
         "calls": [{"from": POOR, "to": CONTRACT}]}], "traceTransfers": True}, "latest"]
    pv = _pv(predeploy=False)
    ours = [c for b in _ok(pv, "eth_simulateV1", request) if b["calls"] for c in b["calls"]]
    with running_anvil() as url:
        theirs = [c for b in requests.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_simulateV1",
                                                      "params": request}).json()["result"] for c in b["calls"]]
    assert len(ours) == len(theirs) == 4

    def essence(call: dict[str, Any]) -> Any:
        # anvil 1.7.1 gives a revert code -3200 where execution-apis (and this node) give 3: compare presence
        return (call["returnData"], call["gasUsed"], call["status"], "error" in call,
                [(log["address"], log["topics"], log["data"]) for log in call["logs"]])

    assert [essence(c) for c in ours] == [essence(c) for c in theirs]


def test_blob_base_fee_override_is_what_blobbasefee_reads() -> None:
    pv = _pv()
    code = "0x4a60005260206000f3"  # return BLOBBASEFEE
    blocks = _simulate(pv, [{"blockOverrides": {"blobBaseFee": "0x1234"}, "stateOverrides": {CONTRACT: {"code": code}},
                             "calls": [{"from": POOR, "to": CONTRACT}]},
                            {"calls": [{"from": POOR, "to": CONTRACT}]}])
    assert int(blocks[0]["calls"][0]["returnData"], 16) == 0x1234
    assert int(blocks[1]["calls"][0]["returnData"], 16) == int(_ok(pv, "eth_blobBaseFee", []), 16)

"""Tracing: debug_* (struct logger, callTracer, flatCallTracer, prestateTracer, 4byteTracer, noopTracer), trace_*
and ots_*. The same transactions are traced on anvil, which must give identical call trees and struct logs."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from chain import Node, NodeConfig
from chain.provider import BourseProvider
from tests.tools import running_anvil, tool

FIXTURE = Path(__file__).parent / "fixtures" / "trace_fixture.vy"
STEP_KEYS = ("op", "pc", "gas", "gasCost", "depth", "stack")


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    vyper = pytest.importorskip("vyper", reason="compiling the tracing fixture needs vyper (a test extra)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # selfdestruct is deprecated, and that is what the fixture exercises
        return vyper.compile_code(FIXTURE.read_text(), output_formats=["abi", "bytecode"])  # type: ignore[no-any-return]


def scenarios(w3: Web3, compiled: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """The fixture deployed and one transaction per case the issue names."""
    a0, a1 = w3.eth.accounts[:2]
    factory = w3.eth.contract(abi=compiled["abi"], bytecode=compiled["bytecode"])
    deployed = w3.eth.wait_for_transaction_receipt(factory.constructor().transact({"from": a0}))
    f = w3.eth.contract(address=deployed["contractAddress"], abi=compiled["abi"])
    sent = {
        "value transfer": w3.eth.send_transaction({"from": a0, "to": a1, "value": 10**18}),
        "logs": f.functions.ping(3).transact({"from": a0}),
        "revert with a reason": f.functions.fail_with_reason().transact({"from": a0, "gas": 100_000}),
        "custom error": f.functions.fail_custom().transact({"from": a0, "gas": 100_000}),
        "out-of-gas frame": f.functions.out_of_gas_inside().transact({"from": a0, "gas": 200_000}),
        "create2 and delegatecall": f.functions.deploy_and_delegate(f.address, b"\x01" * 32).transact(
            {"from": a0, "gas": 500_000}),
        "precompile": f.functions.recover(b"\x11" * 32, 27, b"\x22" * 32, b"\x33" * 32).transact(
            {"from": a0, "gas": 100_000}),
        "selfdestruct": f.functions.destroy(a1).transact({"from": a0, "gas": 100_000}),
    }
    return f, {name: "0x" + h.hex().removeprefix("0x") for name, h in sent.items()}


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    reply = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in reply:
        raise AssertionError(f"{method}: {reply['error']}")
    return reply["result"]


def error_of(w3: Web3, method: str, *params: Any) -> dict[str, Any]:
    reply = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    assert "error" in reply, reply
    return reply["error"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def traced(compiled: dict[str, Any]) -> Iterator[tuple[Web3, Any, dict[str, str]]]:
    node = Node(NodeConfig(predeploy=False))
    w3 = Web3(BourseProvider(node))
    contract, hashes = scenarios(w3, compiled)
    yield w3, contract, hashes
    node.close()


@pytest.mark.external
@pytest.mark.skipif(tool("anvil") is None, reason="anvil not installed (.ci/run installs it from npm)")
def test_call_trees_struct_logs_and_parity_traces_match_anvil(traced: Any, compiled: dict[str, Any]) -> None:
    ours, _, our_hashes = traced
    with running_anvil("--steps-tracing") as url:
        anvil = Web3(Web3.HTTPProvider(url))
        _, anvil_hashes = scenarios(anvil, compiled)
        for name in our_hashes:
            mine, theirs = our_hashes[name], anvil_hashes[name]
            assert rpc(ours, "debug_traceTransaction", mine, {"tracer": "callTracer"}) == \
                rpc(anvil, "debug_traceTransaction", theirs, {"tracer": "callTracer"}), name
            assert rpc(ours, "debug_traceTransaction", mine, {"tracer": "callTracer", "tracerConfig": {
                "withLog": True}}) == rpc(anvil, "debug_traceTransaction", theirs, {
                    "tracer": "callTracer", "tracerConfig": {"withLog": True}}), name
            a, b = rpc(ours, "debug_traceTransaction", mine, {}), rpc(anvil, "debug_traceTransaction", theirs, {})
            assert (a["gas"], a["failed"], a["returnValue"]) == (b["gas"], b["failed"], b["returnValue"]), name
            assert [{k: s.get(k) for k in STEP_KEYS} for s in a["structLogs"]] == \
                [{k: s.get(k) for k in STEP_KEYS} for s in b["structLogs"]], name
            strip = ("blockHash", "transactionHash")
            assert [{k: v for k, v in e.items() if k not in strip} for e in rpc(ours, "trace_transaction", mine)] \
                == [{k: v for k, v in e.items() if k not in strip} for e in rpc(anvil, "trace_transaction", theirs)]


def test_struct_logger_options_and_limits(traced: Any) -> None:
    w3, _, hashes = traced
    full = rpc(w3, "debug_traceTransaction", hashes["logs"], {"enableMemory": True, "enableReturnData": True})
    steps = full["structLogs"]
    assert all("memory" in s and "returnData" in s and "stack" in s for s in steps)
    sstore = next(s for s in steps if s["op"] == "SSTORE")
    assert sstore["storage"] == {"0x" + "00" * 32: "0x" + "00" * 31 + "03"}
    lean = rpc(w3, "debug_traceTransaction", hashes["logs"], {"disableStack": True, "disableStorage": True,
                                                              "limit": 5})
    assert len(lean["structLogs"]) == 5 and not any("stack" in s or "storage" in s or "memory" in s
                                                    for s in lean["structLogs"])
    failed = rpc(w3, "debug_traceTransaction", hashes["out-of-gas frame"], {})
    assert any(s.get("error", "").startswith("out of gas") for s in failed["structLogs"])
    assert rpc(w3, "debug_traceTransaction", hashes["revert with a reason"], {})["failed"] is True


def test_call_tracer_options_four_byte_noop_and_flat(traced: Any) -> None:
    w3, contract, hashes = traced
    h = hashes["create2 and delegatecall"]
    top = rpc(w3, "debug_traceTransaction", h, {"tracer": "callTracer", "tracerConfig": {"onlyTopCall": True}})
    assert "calls" not in top and top["type"] == "CALL"
    tree = rpc(w3, "debug_traceTransaction", h, {"tracer": "callTracer"})
    assert [c["type"] for c in tree["calls"]] == ["CREATE2", "DELEGATECALL", "STATICCALL"]
    assert rpc(w3, "debug_traceTransaction", h, {"tracer": "4byteTracer"}) == {
        "0xec6d53dc-64": 1, "0x773acdef-32": 1, "0xe582dd31-0": 1}
    assert rpc(w3, "debug_traceTransaction", h, {"tracer": "noopTracer"}) == {}
    flat = rpc(w3, "debug_traceTransaction", h, {"tracer": "flatCallTracer"})
    assert [e["traceAddress"] for e in flat] == [[], [0], [1], [2]] and flat[1]["type"] == "create"
    reason = rpc(w3, "debug_traceTransaction", hashes["revert with a reason"], {"tracer": "callTracer"})
    assert (reason["error"], reason["revertReason"]) == ("execution reverted", "fixture: nope")


def test_prestate_tracer_reports_what_a_transaction_touched_and_changed(traced: Any) -> None:
    w3, contract, hashes = traced
    h = hashes["logs"]
    pre = rpc(w3, "debug_traceTransaction", h, {"tracer": "prestateTracer"})
    address = contract.address.lower()
    assert address in pre and pre[address]["code"].startswith("0x5f")
    diff = rpc(w3, "debug_traceTransaction", h, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}})
    assert diff["post"][address]["storage"] == {"0x" + "00" * 32: "0x" + "00" * 31 + "03"}
    sender = w3.eth.accounts[0].lower()
    assert diff["post"][sender]["nonce"] == diff["pre"][sender]["nonce"] + 1


def test_trace_call_at_pending_with_state_and_block_overrides(traced: Any) -> None:
    w3, contract, _ = traced
    call = {"from": w3.eth.accounts[0], "to": contract.address, "data": contract.encode_abi("ping", args=[9])}
    tree = rpc(w3, "debug_traceCall", call, "pending", {"tracer": "callTracer", "tracerConfig": {"withLog": True}})
    assert tree["logs"][0]["data"] == "0x" + "00" * 31 + "09" and "error" not in tree
    other = "0x00000000000000000000000000000000000000aa"
    code = w3.eth.get_code(contract.address).hex()
    moved = rpc(w3, "debug_traceCall", {**call, "to": other}, "latest", {
        "tracer": "callTracer", "stateOverrides": {other: {"code": "0x" + code.removeprefix("0x")}},
        "blockOverrides": {"number": "0x64", "time": "0x77359400"}})
    assert moved["to"] == other and "error" not in moved
    assert error_of(w3, "debug_traceCall", call, "latest", {"blockOverrides": {"bogus": 1}})["code"] == -32602


def test_block_tracing_by_number_and_hash(traced: Any) -> None:
    w3, _, hashes = traced
    receipt = w3.eth.get_transaction_receipt(hashes["logs"])
    by_number = rpc(w3, "debug_traceBlockByNumber", hex(receipt["blockNumber"]), {"tracer": "callTracer"})
    by_hash = rpc(w3, "debug_traceBlockByHash", "0x" + receipt["blockHash"].hex().removeprefix("0x"),
                  {"tracer": "callTracer"})
    assert by_number == by_hash and by_number[0]["txHash"] == hashes["logs"]


def test_bad_tracer_requests_get_coded_errors(traced: Any) -> None:
    w3, _, hashes = traced
    h = hashes["logs"]
    cases = [((h, {"tracer": "nope"}), -32602, "tracer"), ((h, {"tracer": "callTracer", "tracerConfig": 5}), -32602,
                                                             "tracerConfig"),
             ((h, {"tracer": "callTracer", "tracerConfig": {"bogus": True}}), -32602, "bogus"),
             ((h, {"timeout": "soon"}), -32602, "timeout"), ((h, {"limit": -1}), -32602, "limit"),
             (("0x" + "11" * 32,), -32001, "not found"), ((h, []), -32602, "options")]
    for params, code, word in cases:
        error = error_of(w3, "debug_traceTransaction", *params)
        assert error["code"] == code and word in error["message"], (params, error)
    assert error_of(w3, "debug_traceBlockByNumber", "0x9999")["code"] == -32001
    assert error_of(w3, "trace_replayBlockTransactions", "0x1", ["vm"])["code"] == -32602
    timeout = error_of(w3, "debug_traceTransaction", hashes["out-of-gas frame"], {"timeout": "0s"})  # already past
    assert timeout["code"] == -32000 and "timeout" in timeout["message"]


def test_parity_traces_filter_and_replay_with_state_diff(traced: Any) -> None:
    w3, contract, hashes = traced
    receipt = w3.eth.get_transaction_receipt(hashes["create2 and delegatecall"])
    block = hex(receipt["blockNumber"])
    flat = rpc(w3, "trace_block", block)
    assert [e["traceAddress"] for e in flat] == [[], [0], [1], [2]]
    assert all(e["transactionHash"] == hashes["create2 and delegatecall"] for e in flat)
    replayed = rpc(w3, "trace_replayBlockTransactions", block, ["trace", "stateDiff"])
    diff = replayed[0]["stateDiff"]
    created = next(a for a, d in diff.items() if isinstance(d["code"], dict) and "+" in d["code"])
    assert diff[created]["nonce"] == {"+": "0x1"}
    slot = diff[contract.address.lower()]["storage"]["0x" + "00" * 32]
    assert slot == {"*": {"from": "0x" + "00" * 31 + "03", "to": "0x" + "00" * 31 + "05"}}
    only_contract = rpc(w3, "trace_filter", {"fromBlock": "0x1", "toAddress": [contract.address]})
    assert only_contract and all(e["action"].get("to", contract.address.lower()) == contract.address.lower()
                                 or e["type"] == "create" for e in only_contract)
    assert len(rpc(w3, "trace_filter", {"fromBlock": "0x1", "toAddress": [contract.address], "count": 1})) == 1


def test_otterscan_api(traced: Any) -> None:
    w3, contract, hashes = traced
    a0 = w3.eth.accounts[0]
    assert rpc(w3, "ots_getApiLevel") == 8
    assert rpc(w3, "ots_hasCode", contract.address, "latest") is True
    assert rpc(w3, "ots_getTransactionError", hashes["custom error"]).startswith("0xcb362b34")
    assert rpc(w3, "ots_getTransactionError", hashes["logs"]) == "0x"
    operations = rpc(w3, "ots_getInternalOperations", hashes["create2 and delegatecall"])
    assert [o["type"] for o in operations] == [3]  # one CREATE2
    assert rpc(w3, "ots_getInternalOperations", hashes["selfdestruct"])[0]["type"] == 1
    trace = rpc(w3, "ots_traceTransaction", hashes["create2 and delegatecall"])
    assert [(t["type"], t["depth"]) for t in trace] == [("CALL", 0), ("CREATE2", 1), ("DELEGATECALL", 1),
                                                        ("STATICCALL", 1)]
    creator = rpc(w3, "ots_getContractCreator", contract.address)
    assert creator["creator"] == a0.lower()
    assert rpc(w3, "ots_getTransactionBySenderAndNonce", a0, 1) == hashes["value transfer"]
    assert rpc(w3, "ots_getTransactionBySenderAndNonce", a0, 999) is None
    newest = rpc(w3, "ots_searchTransactionsBefore", a0, 0, 3)
    assert newest["firstPage"] is True and newest["txs"][0]["hash"] == hashes["selfdestruct"]
    oldest = rpc(w3, "ots_searchTransactionsAfter", a0, 0, 3)
    assert oldest["lastPage"] is True and oldest["txs"][-1]["nonce"] == "0x0"
    every = rpc(w3, "ots_searchTransactionsBefore", a0, 0, 100)
    assert len(every["txs"]) == 9 and every["lastPage"] is True
    details = rpc(w3, "ots_getBlockDetails", 1)
    assert details["block"]["transactionCount"] == 1 and int(details["totalFees"], 16) > 0
    page = rpc(w3, "ots_getBlockTransactions", 1, 0, 10)
    assert page["fullblock"]["transactionCount"] == 1 and page["receipts"][0]["logs"] is None
    assert rpc(w3, "erigon_getHeaderByNumber", 1)["number"] == "0x1"


def test_a_call_chain_at_the_depth_limit_is_traced_over_http_and_in_process() -> None:
    """A contract calling itself until the EVM's depth limit: callTracer's frames nest 1,025 deep, past what orjson
    encodes (254 levels); the answer still comes back whole, over HTTP and in-process (it closed the connection)."""
    import json
    import urllib.request

    from chain.server import ServerThread

    # counter += 1; CALL(all gas, self); return counter
    code = bytes([0x5F, 0x54, 0x60, 0x01, 0x01, 0x5F, 0x55, 0x5F, 0x5F, 0x5F, 0x5F, 0x5F, 0x30, 0x5A, 0xF1, 0x50,
                  0x5F, 0x54, 0x5F, 0x52, 0x60, 0x20, 0x5F, 0xF3])
    target = "0x" + "42" * 20
    call = {"to": target, "gas": hex(10**15)}
    options = {"tracer": "callTracer", "stateOverrides": {target: {"code": "0x" + code.hex()}}}

    def depth(frame: dict[str, Any]) -> int:
        levels = 0
        while frame:
            levels, frame = levels + 1, (frame.get("calls") or [None])[0]
        return levels

    node = Node(NodeConfig(predeploy=False))
    in_process = BourseProvider(node).call("debug_traceCall", [call, "latest", options])["result"]
    assert depth(in_process) == 1025 and int(in_process["output"], 16) == 1025
    server = ServerThread(node).start()
    try:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "debug_traceCall",
                           "params": [call, "latest", options]}).encode()
        request = urllib.request.Request(server.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            over_http = json.loads(response.read())["result"]
    finally:
        server.stop()
    assert over_http == in_process

"""console.log: calls to hardhat's console address are decoded for every console.sol signature and printed under
their transaction (or call), as anvil and hardhat print them, at no gas difference from anvil."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

from chain import Node, NodeConfig
from chain.config import MiningMode
from chain.console import CONSOLE_ADDRESS, format_call
from chain.provider import BourseProvider
from tests.tools import free_port, running_anvil, tool, wait_for_rpc

# runtime: STATICCALL the console address with this call's own calldata; init: return that runtime
RUNTIME = bytes.fromhex("365f5f375f5f365f73") + CONSOLE_ADDRESS + bytes.fromhex("5afa00")
INIT = bytes.fromhex(f"60{len(RUNTIME):02x}600a5f3960{len(RUNTIME):02x}5ff3") + RUNTIME
ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CASES = [  # (signature, types, values, printed)
    ("log(string)", ["string"], ["hello"], "hello"),
    ("log(uint256)", ["uint256"], [42], "42"),
    ("log(int256)", ["int256"], [-7], "-7"),
    ("log(bool)", ["bool"], [True], "true"),
    ("log(address)", ["address"], [ADDRESS], ADDRESS),
    ("log(bytes)", ["bytes"], [b"\x01\x02"], "0x0102"),
    ("log(bytes32)", ["bytes32"], [b"\xab" * 32], "0x" + "ab" * 32),
    ("log(bytes4)", ["bytes4"], [b"\xde\xad\xbe\xef"], "0xdeadbeef"),
    ("logUint(uint256)", ["uint256"], [5], "5"),
    ("logString(string)", ["string"], ["plain"], "plain"),
    ("log()", [], [], ""),
    ("log(string,uint256)", ["string", "uint256"], ["balance %d wei", 10], "balance 10 wei"),
    ("log(string,address,uint256)", ["string", "address", "uint256"], ["%s sent %s", ADDRESS, 3],
     f"{ADDRESS} sent 3"),
    ("log(uint256,string,bool,address)", ["uint256", "string", "bool", "address"], [1, "two", False, ADDRESS],
     f"1 two false {ADDRESS}"),
    ("log(uint)", ["uint256"], [9], "9"),  # the selector old console.sol builds used
    ("log(string,string)", ["string", "string"], ["100%% %s", "sure"], "100% sure"),
]


def calldata(signature: str, types: list[str], values: list[object]) -> bytes:
    return function_signature_to_4byte_selector(signature) + (encode(types, values) if types else b"")


def test_every_console_sol_argument_type_is_decoded_and_formatted() -> None:
    for signature, types, values, printed in CASES:
        assert format_call(calldata(signature, types, values)) == printed, signature
    assert format_call(b"\x12\x34\x56\x78") is None  # not console.sol


def _deploy(w3: Web3) -> str:
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": w3.eth.accounts[0],
                                                                           "data": "0x" + INIT.hex()}))
    return str(receipt["contractAddress"])


def test_console_log_is_printed_under_its_transaction_and_its_call() -> None:
    node = Node(NodeConfig(predeploy=False, accounts=2))
    printed: list[str] = []
    node.output = printed.append
    try:
        w3 = Web3(BourseProvider(node))
        logger = _deploy(w3)
        tx_hash = w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": logger, "gas": 100_000, "data": "0x"
                                           + calldata("log(string,uint256)", ["string", "uint256"], ["hi %d", 5]).hex()})
        assert printed == [f"console.log (transaction 0x{tx_hash.hex().removeprefix('0x')}):\n  hi 5"]
        w3.eth.call({"to": logger, "data": "0x" + calldata("log(bool)", ["bool"], [True]).hex()})
        assert printed[-1] == "console.log (eth_call):\n  true"
        w3.eth.estimate_gas({"to": logger, "data": "0x" + calldata("log(uint256)", ["uint256"], [1]).hex()})
        assert printed[-1] == "console.log (eth_estimateGas):\n  1"  # once, however many runs the search made
        node.set_mode(MiningMode.MANUAL)
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": logger, "gas": 100_000,
                                 "data": "0x" + calldata("log(string)", ["string"], ["mined later"]).hex()})
        node.mine()
        assert printed[-1].endswith("\n  mined later")
        traced = w3.provider.make_request("debug_traceTransaction", ["0x" + tx_hash.hex().removeprefix("0x"),
                                                                     {"tracer": "callTracer"}])["result"]
        assert traced["calls"][0]["to"] == "0x" + CONSOLE_ADDRESS.hex().lower()  # and it shows in traces
    finally:
        node.close()


def test_bourse_node_prints_console_log_in_its_output(tmp_path: Path) -> None:
    port = free_port()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "bourse.cli", "node", "-q", "--bare", "--port", str(port)],
                            cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_rpc(url)
        w3 = Web3(Web3.HTTPProvider(url))
        logger = _deploy(w3)
        w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": logger, "gas": 100_000,
                                 "data": "0x" + calldata("log(string)", ["string"], ["from a process"]).hex()})
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "console.log (transaction 0x" in out and "  from a process" in out


@pytest.mark.external
@pytest.mark.skipif(tool("anvil") is None, reason="anvil not installed (.ci/run installs it from npm)")
def test_a_console_log_call_costs_what_it_costs_on_anvil() -> None:
    data = "0x" + calldata("log(string,uint256)", ["string", "uint256"], ["gas %d", 1]).hex()
    used = []
    node = Node(NodeConfig(predeploy=False, accounts=2))
    try:
        with running_anvil() as url:
            for w3 in (Web3(BourseProvider(node)), Web3(Web3.HTTPProvider(url))):
                logger = _deploy(w3)
                receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(
                    {"from": w3.eth.accounts[0], "to": logger, "gas": 100_000, "data": data}))
                used.append(receipt["gasUsed"])
    finally:
        node.close()
    assert used[0] == used[1]

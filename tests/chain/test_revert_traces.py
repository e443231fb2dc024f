"""Revert traces at source level: a revert inside a contract whose source the node knows comes back (and is
printed) as file:line frames, innermost first, for Vyper and Solidity."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from chain import Node, NodeConfig
from chain.provider import BourseProvider
from contracts.settlement import settle_args
from contracts.deploy import platform

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
SOLC = ROOT / ".tools" / "node_modules" / "solc"


def line_of(path: Path, text: str, after: str | None = None) -> int:
    """The 1-based line of the first `text` in `path` (after the line holding `after`)."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i + 1 for i, line in enumerate(lines) if i >= start and text in line)


@pytest.fixture
def node() -> Any:
    n = Node(NodeConfig())
    yield n
    n.close()


def test_a_vyper_revert_names_the_line_of_the_failing_assert(node: Node) -> None:
    w3 = Web3(BourseProvider(node))
    vault = platform(w3)["SettlementVault"]
    call = {"from": w3.eth.accounts[1], "to": vault.address, "data": vault.encode_abi("settle", args=list(settle_args(1, [])))}
    error = w3.provider.make_request("eth_call", [call, "latest"])["error"]
    # the message stays anvil's (ape's `reverts` matches it exactly); the frames come beside it
    assert error["message"] == "execution reverted: settlement: caller is not an operator" and error["code"] == 3
    line = line_of(ROOT / "contracts" / "settlement_vault.vy", "caller is not an operator", after="def settle(")
    assert error["sourceStack"] == [f"settlement_vault.vy:{line}: assert self.operators[msg.sender], "
                                    f"\"settlement: caller is not an operator\""]
    assert error["data"].startswith("0x08c379a0")  # the revert data clients decode is untouched


def test_a_reverted_transaction_is_printed_with_its_frames(node: Node) -> None:
    printed: list[str] = []
    node.output = printed.append
    w3 = Web3(BourseProvider(node))
    vault = platform(w3)["SettlementVault"]
    user = w3.eth.accounts[1]
    w3.eth.send_transaction({"from": user, "to": vault.address, "gas": 200_000,
                             "data": vault.encode_abi("operatorWithdraw", args=[user, user, 5])})
    line = line_of(ROOT / "contracts" / "settlement_vault.vy", "caller is not an operator",
                   after="def operatorWithdraw(")
    assert printed[-1].endswith(f"reverted: settlement: caller is not an operator\n    at settlement_vault.vy:{line}: "
                                "assert self.operators[msg.sender], \"settlement: caller is not an operator\"")


def test_a_contract_the_node_does_not_know_keeps_the_plain_message(node: Node) -> None:
    w3 = Web3(BourseProvider(node))
    code = "0x60006000fd"  # REVERT(0, 0)
    error = w3.provider.make_request("eth_call", [{"to": "0x" + "42" * 20}, "latest", {"0x" + "42" * 20: {"code": code}}])
    assert error["error"]["message"] == "execution reverted" and "sourceStack" not in error["error"]


def compiled_solidity() -> dict[str, Any]:
    if shutil.which("node") is None or not SOLC.exists():
        pytest.skip("needs node and solc-js (.ci/run installs solc from npm into .tools)")
    out = subprocess.run(["node", str(FIXTURES / "solc_compile.js"), str(SOLC), str(FIXTURES / "Reverter.sol")],
                         capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _deploy(w3: Web3, build: dict[str, Any], name: str, *args: Any) -> Any:
    contract = build["output"]["contracts"]["Reverter.sol"][name]
    factory = w3.eth.contract(abi=contract["abi"], bytecode="0x" + contract["evm"]["bytecode"]["object"])
    receipt = w3.eth.wait_for_transaction_receipt(factory.constructor(*args).transact({"from": w3.eth.accounts[0]}))
    return w3.eth.contract(address=receipt["contractAddress"], abi=contract["abi"])


def test_a_solidity_revert_through_two_contracts_names_both_lines(node: Node, tmp_path: Path) -> None:
    build = compiled_solidity()
    w3 = Web3(BourseProvider(node))
    inner = _deploy(w3, build, "Inner")
    outer = _deploy(w3, build, "Outer", inner.address)
    assert w3.provider.make_request("bourse_registerArtifact", [build])["result"] == 2
    error = w3.provider.make_request("eth_call", [{"to": outer.address,
                                                   "data": outer.encode_abi("run", args=[50])}, "latest"])["error"]
    source = FIXTURES / "Reverter.sol"
    assert error["message"] == "execution reverted: inner: too big"
    assert error["sourceStack"] == [
        f"Reverter.sol:{line_of(source, 'require(value < 10')}: require(value < 10, \"inner: too big\");",
        f"Reverter.sol:{line_of(source, 'return inner.check')}: return inner.check(value) * 2;"]
    assert w3.provider.make_request("eth_call", [{"to": outer.address, "data": outer.encode_abi(
        "run", args=[5])}, "latest"])["result"].endswith("0c")  # no revert, no trace: (5 + 1) * 2


def test_artifacts_folder_is_read_at_start(tmp_path: Path) -> None:
    build = compiled_solidity()
    (tmp_path / "build-info").mkdir()
    (tmp_path / "build-info" / "abc.json").write_text(json.dumps(build))
    node = Node(NodeConfig(artifacts_dir=tmp_path, predeploy=False))
    try:
        w3 = Web3(BourseProvider(node))
        inner = _deploy(w3, build, "Inner")
        error = w3.provider.make_request("eth_call", [{"to": inner.address, "data": inner.encode_abi(
            "check", args=[11])}, "latest"])["error"]
        assert error["sourceStack"][0].startswith("Reverter.sol:")
    finally:
        node.close()


def test_register_artifact_refuses_what_it_cannot_use(node: Node) -> None:
    w3 = Web3(BourseProvider(node))
    for bad in ({"nothing": 1}, "text", {"contracts": {}, "sources": {}}):
        assert w3.provider.make_request("bourse_registerArtifact", [bad])["error"]["code"] == -32602

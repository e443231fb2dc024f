"""Forking: a local anvil holding a deployed ERC-20, and a second bourse node, each forked by bourse node.
Impersonated transfers of a forked holder's tokens, deployments against forked state, calls at the fork block
and after, blocks before the fork from the remote, a restart with --data-dir that does not fetch again, and a
remote that fails or hangs answering -32000 with its URL."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
from web3 import Web3

from chain import Node, NodeConfig
from chain.errors import ChainError
from chain.provider import BourseProvider
from chain.server import ServerThread
from contracts.deploy import at, deploy
from tests.tools import ROOT, running_anvil, tool

ACCOUNT0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
HOLDER = Web3.to_checksum_address("0x" + "ab" * 20)
SUPPLY = 10**24


def _seed(w3: Web3) -> str:
    """An ERC-20 deployed on the remote, 1,000 tokens at HOLDER; its address."""
    token = deploy(w3, "PlatformToken", "Forked", "FRK", SUPPLY)
    w3.eth.wait_for_transaction_receipt(token.functions.transfer(HOLDER, 1000 * 10**18).transact(
        {"from": w3.eth.accounts[0]}))
    return str(token.address)


def _check_fork(remote_url: str, token_address: str, tmp_path: Path) -> None:
    remote = Web3(Web3.HTTPProvider(remote_url))
    fork_block = remote.eth.block_number
    node = Node(NodeConfig(fork_url=remote_url, data_dir=tmp_path / "fork"))
    w3 = Web3(BourseProvider(node))
    token = at(w3, "PlatformToken", token_address)
    assert w3.eth.block_number == fork_block
    assert w3.eth.get_block(fork_block)["hash"] == remote.eth.get_block(fork_block)["hash"]
    assert w3.eth.get_block(1)["hash"] == remote.eth.get_block(1)["hash"]  # before the fork: the remote's
    assert token.functions.balanceOf(HOLDER).call() == 1000 * 10**18
    # impersonate the forked holder (who has no ether there) and move its tokens
    w3.provider.make_request("anvil_impersonateAccount", [HOLDER])
    w3.provider.make_request("anvil_setBalance", [HOLDER, hex(10**18)])
    receipt = w3.eth.wait_for_transaction_receipt(token.functions.transfer(ACCOUNT0, 400 * 10**18).transact(
        {"from": HOLDER}))
    assert receipt["status"] == 1 and receipt["blockNumber"] == fork_block + 1
    assert w3.eth.get_block(fork_block + 1)["parentHash"] == remote.eth.get_block(fork_block)["hash"]
    assert token.functions.balanceOf(HOLDER).call() == 600 * 10**18
    assert token.functions.balanceOf(HOLDER).call(block_identifier=fork_block) == 1000 * 10**18
    remote_token = at(remote, "PlatformToken", token_address)
    assert remote_token.functions.balanceOf(HOLDER).call() == 1000 * 10**18  # the remote is untouched
    # deploy against forked state: a pair of the forked token with a new one
    other = deploy(w3, "PlatformToken", "Local", "LOC", 5 * 10**18)
    assert other.functions.balanceOf(w3.eth.accounts[0]).call() == 5 * 10**18
    assert other.functions.totalSupply().call() + 0 == 5 * 10**18
    # state at a block before the fork comes from the remote
    assert w3.eth.get_balance(HOLDER, block_identifier=1) == remote.eth.get_balance(HOLDER, block_identifier=1)
    metadata = w3.provider.make_request("anvil_metadata", [])["result"]["forkedNetwork"]
    assert metadata["forkBlockNumber"] == fork_block and metadata["forkUrl"] == remote_url
    seen = node.backend._remote.requests  # type: ignore[union-attr]
    node.close()

    # a restart keeps the chain and what was fetched: reading it again asks the remote nothing
    node = Node(NodeConfig(fork_url=remote_url, data_dir=tmp_path / "fork"))
    w3 = Web3(BourseProvider(node))
    token = at(w3, "PlatformToken", token_address)
    assert w3.eth.block_number == fork_block + 2
    assert token.functions.balanceOf(HOLDER).call() == 600 * 10**18
    assert token.functions.balanceOf(ACCOUNT0).call() >= 400 * 10**18
    assert node.backend._remote.requests == 0, seen  # type: ignore[union-attr]
    node.close()


@pytest.mark.skipif(tool("anvil") is None, reason="anvil not installed (.ci/run installs it from npm)")
def test_fork_a_local_anvil(tmp_path: Path) -> None:
    with running_anvil() as url:
        token = _seed(Web3(Web3.HTTPProvider(url)))
        _check_fork(url, token, tmp_path)


def test_fork_another_bourse_node(tmp_path: Path) -> None:
    remote = Node(NodeConfig(accounts=2))
    server = ServerThread(remote).start()
    try:
        token = _seed(Web3(Web3.HTTPProvider(server.url)))
        _check_fork(server.url, token, tmp_path)
    finally:
        server.stop()
        remote.close()


@pytest.fixture
def remote_node() -> Iterator[ServerThread]:
    node = Node(NodeConfig(accounts=2))
    server = ServerThread(node).start()
    yield server
    server.stop()
    node.close()


def test_a_remote_that_goes_away_gives_minus_32000_naming_it(remote_node: ServerThread) -> None:
    url = remote_node.url
    node = Node(NodeConfig(fork_url=url, fork_timeout=5))
    pv = BourseProvider(node)
    known = "0x0000000000000000000000000000000000B05e01"
    assert pv.call("eth_getCode", [known, "latest"])["result"] != "0x"  # fetched while the remote was up
    remote_node.stop()
    assert pv.call("eth_getCode", [known, "latest"])["result"] != "0x"  # and kept
    error = pv.call("eth_getBalance", ["0x" + "12" * 20, "latest"])["error"]
    assert error["code"] == -32000 and url in error["message"]
    assert pv.call("eth_blockNumber", [])["result"]  # the node still answers


def test_a_remote_that_hangs_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # take connections, never answer
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        started = time.monotonic()
        with pytest.raises(ChainError) as info:
            Node(NodeConfig(fork_url=url, fork_timeout=1))
        assert info.value.code == -32000 and url in info.value.message and "did not answer" in info.value.message
        assert time.monotonic() - started < 30
    finally:
        stop.set()
        thread.join()
        listener.close()
        for conn in accepted:
            conn.close()


def test_the_cli_says_in_one_line_when_the_remote_is_down() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once this block ends: nothing listens there
    run = subprocess.run([sys.executable, "-m", "bourse.cli", "node", "--port", "0", "--fork-url",
                          f"http://127.0.0.1:{port}"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and f"127.0.0.1:{port}" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_reset_starts_a_fork_and_back(remote_node: ServerThread) -> None:
    remote = Web3(Web3.HTTPProvider(remote_node.url))
    remote.provider.make_request("anvil_mine", ["0x5"])
    pv = BourseProvider(Node(NodeConfig(predeploy=False)))
    assert pv.call("anvil_reset", [{"forking": {"jsonRpcUrl": remote_node.url, "blockNumber": "0x3"}}])[
        "result"] is None
    assert pv.call("eth_blockNumber", [])["result"] == "0x3"
    assert pv.call("eth_getCode", ["0x0000000000000000000000000000000000B05e01", "latest"])["result"] != "0x"
    assert pv.call("anvil_metadata", [])["result"]["forkedNetwork"]["forkBlockNumber"] == 3
    bad = pv.call("anvil_reset", [{"forking": {"jsonRpcUrl": "ftp://x"}}])["error"]
    assert bad["code"] == -32602
    assert pv.call("eth_blockNumber", [])["result"] == "0x3"  # a refused reset changes nothing
    pv.call("anvil_reset", [])
    assert pv.call("eth_blockNumber", [])["result"] == "0x3"  # a fork resets to its fork block


def test_fork_rejects_bad_flags() -> None:
    from click.testing import CliRunner

    from chain.cli import node_command
    result = CliRunner().invoke(node_command, ["--fork-block-number", "5", "--port", "0"])
    assert result.exit_code == 2 and "--fork-url" in result.output
    with pytest.raises(ValueError):
        Node(NodeConfig(fork_url="ftp://example"))



"""State files both ways with anvil: anvil's dumps load here and ours load into anvil (over RPC and as files),
and bourse node's --load-state / --dump-state / --state flags."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from chain import Node, NodeConfig
from chain.provider import BourseProvider
from chain.state_file import decode, dump, read_file
from chain.errors import InvalidParams
from tests.tools import ROOT, free_port, running_anvil, tool, wait_for_rpc

ADDR0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
CONTRACT = "0x" + "c0" * 20
HOLDER = "0x" + "ab" * 20
needs_anvil = pytest.mark.skipif(tool("anvil") is None, reason="anvil not installed (.ci/run installs it from npm)")


def call(url: str, method: str, params: list[Any] | None = None) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"})) as r:
        reply = json.loads(r.read())
    assert "error" not in reply, reply
    return reply["result"]


def _shape(ask: Any) -> dict[str, Any]:
    """What both sides must agree on after a load."""
    return {
        "block": int(ask("eth_blockNumber"), 16),
        "balance": ask("eth_getBalance", [HOLDER, "latest"]),
        "nonce": ask("eth_getTransactionCount", [HOLDER, "latest"]),
        "code": ask("eth_getCode", [CONTRACT, "latest"]),
        "slots": [ask("eth_getStorageAt", [CONTRACT, hex(s), "latest"]) for s in (0, 1, 7)],
        "deployer nonce": ask("eth_getTransactionCount", [ADDR0, "latest"]),
    }


def _populate(ask: Any) -> None:
    ask("anvil_setBalance", [HOLDER, hex(123 * 10**18)])
    ask("anvil_setNonce", [HOLDER, "0x7"])
    ask("anvil_setCode", [CONTRACT, "0x600160005500"])
    ask("anvil_setStorageAt", [CONTRACT, "0x1", "0x" + "00" * 31 + "2a"])
    ask("anvil_setStorageAt", [CONTRACT, "0x7", "0x" + "ff" * 32])
    for _ in range(3):
        ask("eth_sendTransaction", [{"from": ADDR0, "to": CONTRACT}])  # runs the code: slot 0 = 1
    ask("anvil_mine", ["0x5"])


@needs_anvil
def test_anvil_dumps_load_here_over_rpc_and_ours_load_into_anvil() -> None:
    with running_anvil() as anvil_url:
        _populate(lambda m, p=None: call(anvil_url, m, p))
        theirs = _shape(lambda m, p=None: call(anvil_url, m, p))
        assert theirs["block"] == 8 and theirs["slots"][0].endswith("1")
        pv = BourseProvider(Node(NodeConfig(predeploy=False)))
        ours = lambda m, p=None: pv.call(m, p or [])["result"]  # noqa: E731
        assert ours("anvil_loadState", [call(anvil_url, "anvil_dumpState")]) is True
        assert _shape(ours) == theirs  # block number included
        ours("eth_sendTransaction", [{"from": ADDR0, "to": HOLDER, "value": "0x1"}])  # and the chain goes on
        assert int(ours("eth_blockNumber"), 16) == theirs["block"] + 1

    with running_anvil() as anvil_url:
        pv = BourseProvider(Node(NodeConfig(predeploy=False)))
        ours = lambda m, p=None: pv.call(m, p or [])["result"]  # noqa: E731
        _populate(ours)
        mine = _shape(ours)
        assert call(anvil_url, "anvil_loadState", [ours("anvil_dumpState")]) is True
        loaded = _shape(lambda m, p=None: call(anvil_url, m, p))
        assert {k: v for k, v in loaded.items() if k != "block"} == {k: v for k, v in mine.items() if k != "block"}
        assert loaded["block"] == mine["block"]


@needs_anvil
def test_state_files_both_ways_with_anvil(tmp_path: Path) -> None:
    anvil_file, our_file = tmp_path / "anvil.json", tmp_path / "ours.json"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([tool("anvil"), "--port", str(port), "--silent", "--dump-state", str(anvil_file)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_rpc(url)
        _populate(lambda m, p=None: call(url, m, p))
        theirs = _shape(lambda m, p=None: call(url, m, p))
    finally:
        proc.send_signal(signal.SIGINT)  # anvil writes the file as it stops
        proc.wait(30)
    assert anvil_file.exists()
    node = Node(NodeConfig(predeploy=False, initial_state=read_file(anvil_file)))
    pv = BourseProvider(node)
    assert _shape(lambda m, p=None: pv.call(m, p or [])["result"]) == theirs
    # ours to a file, anvil --load-state reads it
    with node.lock:
        from chain.state_file import write_file
        write_file(our_file, dump(node))
    with running_anvil("--load-state", str(our_file)) as anvil_url:
        assert _shape(lambda m, p=None: call(anvil_url, m, p)) == theirs


def _bourse(*args: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bourse.cli", "node", "--port", str(port), "-q", "--bare", *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    wait_for_rpc(url)
    return proc, url


def test_the_state_flag_keeps_the_state_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    proc, url = _bourse("--state", str(path))
    try:
        _populate(lambda m, p=None: call(url, m, p))
        before = _shape(lambda m, p=None: call(url, m, p))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert read_file(path).block_number == before["block"]
    proc, url = _bourse("--state", str(path))
    try:
        assert _shape(lambda m, p=None: call(url, m, p)) == before
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


@pytest.mark.parametrize("content,why", [
    ("{not json", "not JSON"),
    ('{"accounts": 5}', "accounts"),
    ('{"accounts": {"0x12": {}}}', "20 bytes"),
    ('{"accounts": {"0x' + "11" * 20 + '": {"balance": "0x1' + "0" * 64 + '"}}}', "out of range"),
])
def test_a_bad_state_file_is_one_line_and_nothing_starts(tmp_path: Path, content: str, why: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    run = subprocess.run([sys.executable, "-m", "bourse.cli", "node", "--port", "0", "--load-state", str(path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode != 0 and why in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr


def test_load_state_rpc_refuses_garbage_and_merges_into_a_chain_with_history() -> None:
    pv = BourseProvider(Node(NodeConfig(predeploy=False)))
    assert pv.call("anvil_loadState", ["0x1234"])["error"]["code"] == -32602
    assert pv.call("anvil_loadState", [{"accounts": []}])["error"]["code"] == -32602
    with pytest.raises(InvalidParams):
        decode("not hex")
    pv.call("eth_sendTransaction", [{"from": ADDR0, "to": HOLDER, "value": "0x1"}])
    state = {"accounts": {HOLDER: {"nonce": 3, "balance": "0x99", "code": "0x", "storage": {}}},
             "best_block_number": 500}
    assert pv.call("anvil_loadState", [state])["result"] is True
    assert pv.call("eth_getBalance", [HOLDER, "latest"])["result"] == "0x99"
    assert pv.call("eth_blockNumber", [])["result"] == "0x1"  # history kept: the number does not jump

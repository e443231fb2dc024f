"""--data-dir: restart continues from the same head; SIGKILL loses nothing acknowledged."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from eth_account import Account

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
TO = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data_dir: Path, *extra: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bourse.cli", "node", "-q", "--port", str(port), "--data-dir",
                             str(data_dir), "--accounts", "2", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            _rpc(url, "eth_chainId")
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "node did not start")


def _rpc(url: str, method: str, params: list[Any] | None = None) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"}),
                                timeout=30) as r:
        reply = json.loads(r.read())
    if "error" in reply:
        raise AssertionError(reply["error"])
    return reply["result"]


def _raw(nonce: int) -> str:
    tx = {"to": TO, "value": nonce + 1, "gas": 21_000, "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1,
          "chainId": 31337, "nonce": nonce}
    return "0x" + bytes(Account.sign_transaction(tx, KEY).raw_transaction).hex()


def test_restart_continues_from_the_same_head_and_state(tmp_path: Path) -> None:
    proc, url = _start(tmp_path)
    try:
        for n in range(5):
            _rpc(url, "eth_sendRawTransaction", [_raw(n)])
        _rpc(url, "anvil_setBalance", ["0x" + "55" * 20, "0x64"])
        head = _rpc(url, "eth_getBlockByNumber", ["latest", False])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    proc, url = _start(tmp_path)
    try:
        again = _rpc(url, "eth_getBlockByNumber", ["latest", False])
        assert again["hash"] == head["hash"] and again["stateRoot"] == head["stateRoot"]
        assert _rpc(url, "eth_getBalance", ["0x" + "55" * 20, "latest"]) == "0x64"
        assert int(_rpc(url, "eth_getTransactionCount", [TO.replace("7099", "7099"), "latest"]), 16) == 0
        _rpc(url, "eth_sendRawTransaction", [_raw(5)])
        assert int(_rpc(url, "eth_blockNumber"), 16) == int(head["number"], 16) + 1
    finally:
        proc.kill()
        proc.wait()


def test_sigkill_mid_stream_keeps_every_acknowledged_transaction(tmp_path: Path) -> None:
    acknowledged: list[str] = []
    for round_ in range(5):
        proc, url = _start(tmp_path)
        try:
            start = int(_rpc(url, "eth_getTransactionCount", [Account.from_key(KEY).address, "latest"]), 16)
            assert start == len(acknowledged), "a transaction whose hash was returned is missing after SIGKILL"
            for h in acknowledged:
                assert _rpc(url, "eth_getTransactionReceipt", [h])["status"] == "0x1"
            deadline = time.time() + 0.4 + 0.2 * round_
            nonce = start
            while time.time() < deadline:
                acknowledged.append(_rpc(url, "eth_sendRawTransaction", [_raw(nonce)]))
                nonce += 1
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    assert len(acknowledged) > 10


def test_pooled_transactions_survive_sigkill_in_manual_mode(tmp_path: Path) -> None:
    proc, url = _start(tmp_path, "--no-mining")
    try:
        hashes = [_rpc(url, "eth_sendRawTransaction", [_raw(n)]) for n in range(3)]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    proc, url = _start(tmp_path, "--no-mining")
    try:
        assert _rpc(url, "txpool_status")["pending"] == "0x3"
        _rpc(url, "evm_mine")
        assert all(_rpc(url, "eth_getTransactionReceipt", [h])["status"] == "0x1" for h in hashes)
    finally:
        proc.kill()
        proc.wait()


def test_wrong_chain_id_for_a_data_dir_is_refused(tmp_path: Path) -> None:
    proc, url = _start(tmp_path)
    proc.kill()
    proc.wait()
    out = subprocess.run([sys.executable, "-m", "bourse.cli", "node", "--data-dir", str(tmp_path), "--chain-id", "5",
                          "--port", "0"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "holds chain 31337" in out.stderr


def test_a_data_dir_serves_one_node_at_a_time(tmp_path: Path) -> None:
    import pytest

    from chain import Node, NodeConfig
    from chain.dirlock import DataDirInUse

    first = Node(NodeConfig(data_dir=tmp_path / "chain", predeploy=False, accounts=1))
    assert first.resumed is False
    with pytest.raises(DataDirInUse, match=rf"in use by another bourse node \(pid {os.getpid()}\)"):
        Node(NodeConfig(data_dir=tmp_path / "chain", predeploy=False, accounts=1))
    first.close()
    again = Node(NodeConfig(data_dir=tmp_path / "chain", predeploy=False, accounts=1))
    assert again.resumed is True
    again.close()

"""`bourse node --chain bsc|bsc-testnet|dev`: BNB Smart Chain's chain id, block gas limit, block interval and native
coin name; explicit options override a preset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from chain.profiles import PROFILES, resolve

from ..tools import free_port, wait_for_rpc

ROOT = Path(__file__).resolve().parents[2]


def call(url: str, method: str, *params: Any) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, body, {"Content-Type": "application/json"})) as response:
        return json.loads(response.read())["result"]


def test_presets_and_overrides() -> None:
    assert resolve("dev", None, None, None, False)[1:] == (31337, 30_000_000, None)
    assert resolve("bsc", None, None, None, False)[1:] == (56, 35_000_000, 0.75)
    assert resolve("bsc-testnet", None, None, None, False)[1:] == (97, 35_000_000, 0.75)
    assert resolve("bsc", 1234, 60_000_000, 3.0, False)[1:] == (1234, 60_000_000, 3.0)
    assert resolve("bsc", None, None, None, True)[3] is None  # --no-mining: no interval
    assert PROFILES["bsc"].native_symbol == "BNB"


@pytest.mark.parametrize("name, chain_id", [("bsc", 56), ("bsc-testnet", 97)])
def test_bourse_node_with_a_bsc_preset(name: str, chain_id: int) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bourse.cli", "node", "--chain", name, "--port", str(port)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_rpc(url)
        assert int(call(url, "eth_chainId"), 16) == chain_id
        assert int(call(url, "eth_getBlockByNumber", "latest", False)["gasLimit"], 16) == 35_000_000
        info = call(url, "bourse_explorerInfo")
        assert (info["miningMode"], info["blockTime"]) == ("interval", 0.75)
        assert info["nativeSymbol"] == PROFILES[name].native_symbol
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"Chain ID:          {chain_id}" in out and f"(10000 {PROFILES[name].native_symbol})" in out
    assert "Mining:            interval every 0.75s" in out

"""Foundry's cast (a client we did not write) against bourse node over HTTP."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from .evm_code import LOGGER, deployable

ROOT = Path(__file__).resolve().parents[2]
CAST = shutil.which("cast") or str(ROOT / ".tools/node_modules/@foundry-rs/cast-linux-amd64/bin/cast")
pytestmark = [
    pytest.mark.external,
    pytest.mark.skipif(not Path(CAST).exists(), reason="cast not installed (.ci/run installs it from npm)"),
]
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
A0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
A1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def cast(url: str, command: str, *args: str) -> str:
    out = subprocess.run([CAST, command, "--rpc-url", url, *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_cast_reads_sends_and_uses_dev_methods(url: str) -> None:
    assert cast(url, "chain-id") == "31337"
    assert cast(url, "balance", A1) == str(10_000 * 10**18)
    sent = cast(url, "send", "--private-key", KEY, A1, "--value", "1000", "--json")
    import json

    tx_hash = json.loads(sent)["transactionHash"]
    receipt = json.loads(cast(url, "receipt", tx_hash, "--json"))
    assert receipt["status"] == "0x1"
    assert cast(url, "balance", A1) == str(10_000 * 10**18 + 1000)
    assert cast(url, "block-number") == str(int(receipt["blockNumber"], 16))
    cast(url, "rpc", "anvil_setBalance", A1, "0x2a")
    assert cast(url, "balance", A1) == "42"


def test_cast_deploys_calls_and_reads_logs(url: str) -> None:
    import json

    created = json.loads(cast(url, "send", "--private-key", KEY, "--create", "0x" + deployable(LOGGER).hex(),
                              "--json"))
    logger = created["contractAddress"]
    topic = "0x" + "ab" * 32
    cast(url, "send", "--private-key", KEY, logger, topic)
    logs = json.loads(cast(url, "logs", "--from-block", "0", "--address", logger, "--json"))
    assert [entry["topics"] for entry in logs] == [[topic]]
    assert cast(url, "call", logger, "0x") == "0x"
    assert cast(url, "code", logger) == "0x" + LOGGER.hex()

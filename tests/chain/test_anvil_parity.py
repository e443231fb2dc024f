"""Same transactions, same gas: bourse node against Foundry's anvil (a reference EVM we did not write)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from web3 import Web3

from bench.gas_report import measure

ROOT = Path(__file__).resolve().parents[2]
ANVIL = shutil.which("anvil") or str(ROOT / ".tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
pytestmark = [pytest.mark.external,
              pytest.mark.skipif(not Path(ANVIL).exists(), reason="anvil not installed (.ci/run installs it)")]


def test_gas_used_matches_anvil_for_deploys_transfers_and_swaps(web3: Web3) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([ANVIL, "--port", str(port), "--silent"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        anvil = Web3(Web3.HTTPProvider(f"http://127.0.0.1:{port}"))
        deadline = time.time() + 30
        while not anvil.is_connected():
            assert time.time() < deadline, "anvil did not start"
            time.sleep(0.1)
        ours, theirs = measure(web3), measure(anvil)
    finally:
        proc.kill()
        proc.wait()
    assert len(ours) > 10 and all(gas > 21_000 for name, gas in ours if "per fill" not in name)  # whole transactions
    assert all(gas > 0 for _, gas in ours)  # and per-fill shares of a batch
    assert ours == theirs

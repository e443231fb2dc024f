"""Hardhat tests in OpenZeppelin's style (hardhat-ethers, hardhat-chai-matchers, hardhat-network-helpers and
OpenZeppelin's contracts from npm, compiled with solc-js) run against bourse node, unmodified tooling."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from chain import Node, NodeConfig
from chain.server import ServerThread

PROJECT = Path(__file__).resolve().parents[1] / "hardhat"


@pytest.mark.external
@pytest.mark.skipif(shutil.which("npx") is None or not (PROJECT / "node_modules" / "hardhat").exists(),
                    reason="needs Node.js and the hardhat test project's packages (.ci/run installs them from npm "
                           "into .tools/hardhat)")
def test_hardhat_tests_in_openzeppelins_style_pass_against_bourse_node() -> None:
    node = Node(NodeConfig())
    server = ServerThread(node).start()
    try:
        run = subprocess.run(["npx", "hardhat", "test"], cwd=PROJECT, capture_output=True, text=True, timeout=900,
                             env={**os.environ, "BOURSE_URL": server.url})
    finally:
        server.stop()
        node.close()
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    passing = re.search(r"(\d+) passing", output)
    assert passing is not None and int(passing.group(1)) >= 14 and "failing" not in output, output[-4000:]

"""ape (eth-ape 0.8 with ape-foundry, unmodified) drives bourse node as it drives anvil: it accepts the node,
deploys, transfers, matches revert messages exactly (at the estimate, on a mined transaction through its trace,
and on a call), snapshots and restores, mines with a timestamp, impersonates, and reads return values from
traces. Runs in the environment .ci/run installs ape into."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from chain import Node, NodeConfig
from chain.server import ServerThread
from tests.tools import APE_VERSIONS, ROOT, ape_python

SESSION = Path(__file__).parent / "fixtures" / "ape_session.py"


@pytest.mark.skipif(ape_python() is None, reason=f"ape is not installed ({APE_VERSIONS}; .ci/run installs it)")
def test_ape_foundry_drives_the_node(tmp_path: Path) -> None:
    node = Node(NodeConfig())
    server = ServerThread(node, port=0).start()
    try:
        project = tmp_path / "project"
        project.mkdir()
        (project / "ape-config.yaml").write_text(
            "name: bourse-ape-check\nplugins:\n  - name: foundry\n"
            f"foundry:\n  host: {server.url}\n"
            "ethereum:\n  local:\n    default_provider: foundry\n")
        env = {**os.environ, "APE_DATA_FOLDER": str(tmp_path / "ape-data")}
        out = subprocess.run([ape_python(), str(SESSION), str(ROOT / "contracts/artifacts/PlatformToken.json")],
                             cwd=project, env=env, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
        for check in ("deploy and transfer ok", "reverts ok", "snapshot ok", "mine ok", "impersonation ok",
                      "trace ok"):
            assert check in out.stdout, out.stdout[-3000:]
        assert "anvil-compatible/bourse/" in out.stdout
    finally:
        server.stop()
        node.close()

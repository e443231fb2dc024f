"""A command-line session against a node for the `bourse` CLI tests: keystore accounts imported from the node's
dev keys, `bourse` run as a user runs it, JSON results and one-line refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from ..tools import ROOT


class CliSession:
    def __init__(self, rpc_url: str, tmp_path: Path, accounts: dict[str, Any]) -> None:
        """`accounts`: keystore name -> dev account (with .key), imported into a fresh keystore."""
        self.rpc_url = rpc_url
        password = tmp_path / "pw"
        password.write_text("correct horse\n")
        self.keystore = ["--keystore", str(tmp_path / "ks"), "--password-file", str(password)]
        for name, account in accounts.items():
            imported = self.bourse("wallet", "import", name, "--private-key", "--light", *self.keystore,
                                   input_text="0x" + account.key.to_bytes().hex() + "\n")
            assert imported.returncode == 0, imported.stderr

    @staticmethod
    def bourse(*args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bourse.cli", *args], input=input_text, capture_output=True,
                              text=True, cwd=ROOT, timeout=120)

    def run(self, *args: str) -> Any:
        """The command's --json result (status commands read only: no keystore)."""
        keys = self.keystore if args[1] != "status" else []
        done = self.bourse(*args, "--rpc-url", self.rpc_url, "--json", *keys)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def refused(self, *args: str) -> str:
        """A command that must fail: one line on stderr, no traceback, a non-zero exit; the line."""
        done = self.bourse(*args, "--rpc-url", self.rpc_url, *self.keystore)
        assert done.returncode != 0 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
        return done.stderr

"""Keystores cross over to Foundry's cast (a tool we did not write) in both directions, and to eth-account."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from eth_account import Account

from tests.tools import tool
from wallet.keystore import KdfParams
from wallet.store import KeyStore

from .conftest import ADDR0, KEY0, PASSWORD

CAST = tool("cast")
pytestmark = [pytest.mark.external,
              pytest.mark.skipif(CAST is None, reason="cast not installed (.ci/run installs it from npm)")]


def _cast(*args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([CAST, *args], capture_output=True, text=True, timeout=120,  # type: ignore[list-item]
                            env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", **(env or {})})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_cast_decrypts_a_keystore_bourse_wrote_with_standard_scrypt(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "ks")  # n=262144, r=8, p=1: what geth and MetaMask write
    account = store.add_key("alice", KEY0, PASSWORD)
    out = _cast("wallet", "decrypt-keystore", account.path.name, "-k", str(store.directory),
                "--unsafe-password", PASSWORD)
    assert "0x" + KEY0.hex() in out
    assert _cast("wallet", "address", "--keystore", str(account.path), "--password", PASSWORD) == ADDR0
    assert bytes(Account.decrypt(account.path.read_text(), PASSWORD)) == KEY0


def test_bourse_reads_a_keystore_cast_wrote(tmp_path: Path) -> None:
    folder = tmp_path / "cast"
    folder.mkdir()
    _cast("wallet", "new", str(folder), "bob", "--unsafe-password", "pw-from-cast")
    written = folder / "bob"
    address = _cast("wallet", "address", "--keystore", str(written), "--password", "pw-from-cast")
    store = KeyStore(tmp_path / "ks", KdfParams.light())
    imported = store.import_keystore("bob", written, "pw-from-cast")
    assert imported.address == address
    assert json.loads(imported.path.read_text())["address"] == address[2:].lower()
    # cast leaves out the `address` field geth needs to list a file; the imported copy carries it
    assert "address" not in json.loads(written.read_text())
    assert store.unlock("bob", "pw-from-cast")

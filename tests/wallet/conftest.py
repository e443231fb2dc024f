from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chain import Node
from chain.server import ServerThread
from tests.tools import VECTORS
from wallet.keystore import KdfParams
from wallet.rpc import Rpc
from wallet.store import KeyStore

# anvil's and hardhat's first dev accounts (public test keys)
KEY0 = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
ADDR0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
KEY1 = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
ADDR1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
KEY2 = bytes.fromhex("5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a")
ADDR2 = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
PASSWORD = "correct horse battery staple"


def vector(name: str) -> Any:
    path = VECTORS / name
    if not path.exists():
        pytest.skip(f"public test vectors not found at {VECTORS} (the shared folder is missing)")
    return json.loads(path.read_text())


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keystore", KdfParams.light())


@pytest.fixture
def node_url(http_node: tuple[Node, ServerThread]) -> Iterator[str]:
    """URL of a node whose state is reverted after each test."""
    node, server = http_node
    snapshot = node.snapshot()
    yield server.url
    node.revert(snapshot)


@pytest.fixture
def rpc(node_url: str) -> Rpc:
    return Rpc(node_url)

"""pytest plugin (entry point `bourse`): fixtures `bourse_node`, `w3`, `accounts`.

One node per test session, in process, with web3 talking to it directly. Each
test runs inside a snapshot that is reverted afterwards, so tests never see
each other's blocks or balances.
"""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from .config import NodeConfig
from .node import DevAccount, Node


@pytest.fixture(scope="session")
def bourse_node_session() -> Iterator[Node]:
    node = Node(NodeConfig())
    yield node
    node.close()


@pytest.fixture
def bourse_node(bourse_node_session: Node) -> Iterator[Node]:
    """The session's node, isolated: a snapshot before the test, reverted after it."""
    snapshot = bourse_node_session.snapshot()
    yield bourse_node_session
    if not bourse_node_session.revert(snapshot):
        raise RuntimeError("bourse_node: snapshot lost; a test reverted past its own snapshot")


@pytest.fixture
def w3(bourse_node: Node) -> Any:
    """A web3.Web3 on the isolated node, through the in-process provider."""
    from web3 import Web3

    from .provider import BourseProvider

    return Web3(BourseProvider(bourse_node))


@pytest.fixture
def accounts(bourse_node: Node) -> list[DevAccount]:
    """The funded dev accounts (address, key)."""
    return list(bourse_node.accounts)

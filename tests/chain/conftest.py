from __future__ import annotations

from typing import Any, Iterator

import pytest
from web3 import Web3

from chain import Node
from chain.server import ServerThread



@pytest.fixture
def node(http_node: tuple[Node, ServerThread]) -> Iterator[Node]:
    n, _ = http_node
    snap = n.snapshot()
    yield n
    n.revert(snap)
    from chain.config import MiningMode

    n.set_mode(MiningMode.AUTO)


@pytest.fixture
def url(http_node: tuple[Node, ServerThread], node: Node) -> str:
    return http_node[1].url


@pytest.fixture
def web3(url: str) -> Web3:
    return Web3(Web3.HTTPProvider(url))


def rpc(url: str, method: str, params: Any = None) -> dict[str, Any]:
    """A raw JSON-RPC call that returns the whole reply (to inspect errors)."""
    import json
    import urllib.request

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        return json.loads(resp.read())  # type: ignore[no-any-return]

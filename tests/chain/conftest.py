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


@pytest.fixture(scope="module", params=["installed", "source"])
def opcode_loop_build(request: pytest.FixtureRequest) -> Iterator[str]:
    """Nodes made inside run the opcode loop this install runs (compiled by mypyc when it could be), then its
    Python source."""
    from chain import evm
    from chain.compiled import opcode_loop

    installed = evm.run
    if request.param == "source":
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("BOURSE_PURE_PYTHON", "1")
            evm.run = opcode_loop().run
        assert evm.run.__module__ == "chain.opcode_loop" and type(evm.run).__name__ == "function"
    try:
        yield request.param
    finally:
        evm.run = installed

"""A web3.py provider that calls an in-process node directly, without HTTP."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from .collector import collector_paused
from .node import Node
from .rpc.envelope import Dispatcher, decode_reply, run_sync
from .server import build_registry

LARGE_REPLY = 1 << 20


class BourseProvider(JSONBaseProvider):
    """`Web3(BourseProvider(node))`: the same handlers and error mapping as over HTTP."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node = node
        registry, _ = build_registry(node)
        self._dispatcher = Dispatcher(registry)
        self._ids = itertools.count(1)

    def call(self, method: str, params: Any = None) -> Any:
        """Raw call returning the decoded JSON reply (result or error)."""
        body = orjson.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params or []})
        reply = run_sync(self._dispatcher.payload(body))
        if not reply:
            return None
        if len(reply) > LARGE_REPLY:  # a struct log: many small acyclic objects, see collector_paused
            with collector_paused():
                return decode_reply(reply)
        return decode_reply(reply)

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        return self.call(method, list(params) if params is not None else [])  # type: ignore[no-any-return]

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True


"""eth_subscribe / eth_unsubscribe over WebSocket: newHeads, logs, newPendingTransactions (hashes, or full
transactions with `true`), syncing (geth's: a dev node never syncs, so it never fires; anvil answers -32603)."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, Callable

import orjson

from ..errors import InvalidParams, LimitExceeded
from ..filters import log_query
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.registry import rpc

MAX_SUBSCRIPTIONS = 1_024  # per WebSocket connection
KINDS = ("newHeads", "logs", "newPendingTransactions", "syncing")  # syncing: a dev node never syncs, never fires


class Subscriber:
    """One WebSocket connection's subscriptions; pushes are handed to the event loop that owns it."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send: Callable[[bytes], None]) -> None:
        self.loop = loop
        self.send = send
        self.subscriptions: dict[str, tuple[str, Any]] = {}  # id -> (kind, log query or full-tx flag)

    def push(self, subscription: str, result: Any) -> None:
        message = orjson.dumps({"jsonrpc": "2.0", "method": "eth_subscription",
                                "params": {"subscription": subscription, "result": result}})
        self.loop.call_soon_threadsafe(self.send, message)


class SubscribeApi:
    _ids = itertools.count(1)

    def __init__(self, node: Node) -> None:
        self.node = node
        self.subscribers: set[Subscriber] = set()
        node.listeners.append(self._on_event)

    def attach(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)

    def detach(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    @rpc("eth_subscribe", is_async=True, needs_connection=True)
    async def subscribe(self, params: Any, connection: Subscriber) -> str:
        """Start a push subscription (WebSocket only)."""
        kind, options = p.positional(params, 1, 2, "eth_subscribe")
        if kind not in KINDS:
            raise InvalidParams(f"invalid subscription type {kind!r}; choose one of {', '.join(KINDS)}")
        query: Any = log_query(options, "logs filter") if kind == "logs" else None
        if kind == "newPendingTransactions":  # `true`: full transaction objects instead of hashes (geth, anvil)
            if options is not None and not isinstance(options, bool):
                raise InvalidParams("invalid newPendingTransactions option: expected true or false")
            query = bool(options)
        if len(connection.subscriptions) >= MAX_SUBSCRIPTIONS:
            raise LimitExceeded(f"too many subscriptions: at most {MAX_SUBSCRIPTIONS} per connection "
                                "(eth_unsubscribe frees one)")
        sub_id = hex(next(self._ids) + 0x1000_0000)
        connection.subscriptions[sub_id] = (kind, query)
        return sub_id

    @rpc("eth_unsubscribe", is_async=True, needs_connection=True)
    async def unsubscribe(self, params: Any, connection: Subscriber) -> bool:
        """Stop a subscription; false if it was not active on this connection."""
        (sub_id,) = p.positional(params, 1, 1, "eth_unsubscribe")
        if not isinstance(sub_id, str):
            raise InvalidParams("invalid subscription id")
        return connection.subscriptions.pop(sub_id, None) is not None

    def _on_event(self, kind: str, payload: Any) -> None:
        if not self.subscribers:
            return
        if kind == "block":
            head = fmt.block_json(payload.header, payload.hash, [], len(payload.header.encode()))
            del head["transactions"]
            logs = self.node.block_logs(payload)
            for sub in list(self.subscribers):
                for sub_id, (sub_kind, query) in list(sub.subscriptions.items()):
                    if sub_kind == "newHeads":
                        sub.push(sub_id, head)
                    elif sub_kind == "logs" and query is not None:
                        for address, topics, obj in logs:
                            if query.matches(address, topics):
                                sub.push(sub_id, obj)
        elif kind == "pending":
            tx_hash = fmt.hb(payload.hash)
            full: dict[str, Any] | None = None
            for sub in list(self.subscribers):
                for sub_id, (sub_kind, wants_full) in list(sub.subscriptions.items()):
                    if sub_kind == "newPendingTransactions":
                        if wants_full and full is None:
                            full = fmt.tx_json(payload.raw, payload.hash, payload.sender, None, None)
                        sub.push(sub_id, full if wants_full else tx_hash)

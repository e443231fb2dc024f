"""HTTP and WebSocket JSON-RPC on one port (aiohttp), with CORS and batches."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from .api.anvil import AnvilApi
from .api.chain_data import ChainDataApi
from .api.misc import MiscApi
from .api.subscribe import Subscriber, SubscribeApi
from .api.transact import TransactApi
from .node import Node
from .rpc.envelope import Dispatcher
from .rpc.registry import Registry, collect

log = logging.getLogger("bourse.server")
MAX_BODY = 16 * 1024 * 1024
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Authorization",
    "Access-Control-Max-Age": "86400",
}


def build_registry(node: Node) -> tuple[Registry, SubscribeApi]:
    """Every supported method, registered once."""
    registry = Registry()
    data = ChainDataApi(node)
    subscribe = SubscribeApi(node)
    for api in (data, TransactApi(node), MiscApi(node, data), AnvilApi(node), subscribe):
        collect(registry, api)
    return registry, subscribe


class RpcServer:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.registry, self.subscribe = build_registry(node)
        self.dispatcher = Dispatcher(self.registry)
        self.app = web.Application(client_max_size=MAX_BODY)
        self.app.router.add_route("POST", "/", self._post)
        self.app.router.add_route("GET", "/", self._get)
        self.app.router.add_route("OPTIONS", "/", self._options)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def _post(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        reply = await self.dispatcher.payload(body)
        if reply is None:
            return web.Response(status=204, headers=CORS)
        return web.Response(body=reply, content_type="application/json", headers=CORS)

    async def _options(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers=CORS)

    async def _get(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return web.json_response({"name": "bourse node", "methods": self.registry.names()}, headers=CORS)
        ws = web.WebSocketResponse(max_msg_size=MAX_BODY, heartbeat=30)
        await ws.prepare(request)
        subscriber = Subscriber(asyncio.get_running_loop())
        self.subscribe.attach(subscriber)
        writer = asyncio.create_task(self._write(ws, subscriber))
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    data = msg.data.encode() if isinstance(msg.data, str) else msg.data
                    reply = await self.dispatcher.payload(data, subscriber)
                    if reply is not None:
                        await subscriber.queue.put(orjson.loads(reply))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.subscribe.detach(subscriber)
            writer.cancel()
        return ws

    @staticmethod
    async def _write(ws: web.WebSocketResponse, subscriber: Subscriber) -> None:
        while True:
            message = await subscriber.queue.get()
            try:
                await ws.send_str(orjson.dumps(message).decode())
            except (ConnectionError, RuntimeError):
                return

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class ServerThread:
    """Run the RPC server in a background thread (for tests and in-process use)."""

    def __init__(self, node: Node, host: str = "127.0.0.1", port: int = 0) -> None:
        self.node, self.host, self.requested_port = node, host, port
        self.server = RpcServer(node)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bourse-rpc", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start(self.host, self.requested_port))
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.server.stop())

    def start(self) -> "ServerThread":
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.server.port}"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


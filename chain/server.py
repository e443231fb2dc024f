"""The JSON-RPC server: HTTP and WebSocket on one port, with CORS and batches."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import orjson

from .api.anvil import AnvilApi
from .api.anvil_chain import AnvilChainApi
from .api.anvil_tokens import AnvilTokensApi
from .api.chain_data import ChainDataApi
from .api.debug import DebugApi
from .api.explorer import ExplorerApi
from .api.ots import OtsApi
from .api.trace import TraceApi
from .api.misc import MiscApi
from .api.state_files import StateFilesApi
from .api.simulate import SimulateApi
from .api.state_tools import StateToolsApi
from .api.subscribe import Subscriber, SubscribeApi
from .api.transact import TransactApi
from .node import Node
from .rpc.envelope import MAX_BATCH, Dispatcher, drive
from .rpc.registry import Registry, collect
from .transport import ANY_ORIGIN, Limits, RpcProtocol

log = logging.getLogger("bourse.server")
EXPLORER_PATH = "/explorer/"


def explorer_site() -> Any:
    """The block explorer's files (chain/explorer, plus the pages' shared files under common/)."""
    from pathlib import Path

    import webui
    return webui.StaticSite(EXPLORER_PATH, {"": Path(__file__).resolve().parent / "explorer", "common/": webui.SHARED})


def build_registry(node: Node) -> tuple[Registry, SubscribeApi]:
    """Every supported method, registered once."""
    registry = Registry()
    data = ChainDataApi(node)
    subscribe = SubscribeApi(node)
    transact = TransactApi(node)
    anvil = AnvilApi(node)
    for api in (data, transact, MiscApi(node, data), anvil, AnvilChainApi(node, data, transact, anvil), AnvilTokensApi(node),
                DebugApi(node), TraceApi(node), OtsApi(node, data), StateToolsApi(node, data, transact), StateFilesApi(node),
                SimulateApi(node), ExplorerApi(node, data), subscribe):
        collect(registry, api)
    return registry, subscribe


class RpcServer:
    def __init__(self, node: Node, cors_origins: tuple[str, ...] = ANY_ORIGIN, limits: Limits = Limits(),
                 max_batch: int = MAX_BATCH) -> None:
        self.node = node
        self.cors_origins = cors_origins
        self.limits = limits
        self.registry, self.subscribe = build_registry(node)
        self.dispatcher = Dispatcher(self.registry, max_batch)
        self._info = orjson.dumps({"name": "bourse node", "methods": self.registry.names(),
                                   "explorer": EXPLORER_PATH})
        self.pages = explorer_site()
        self._server: asyncio.AbstractServer | None = None
        self.port: int | None = None

    def _handle(self, body: bytes, connection: Any) -> Any:
        """The reply bytes (None: nothing to send), or a Deferred the transport finishes on the loop."""
        return drive(self.dispatcher.payload(body, connection))

    def _on_websocket(self, protocol: RpcProtocol) -> Subscriber:
        subscriber = Subscriber(asyncio.get_running_loop(), protocol.send_text)
        self.subscribe.attach(subscriber)
        return subscriber

    def _protocol(self) -> RpcProtocol:
        return RpcProtocol(self._handle, lambda: self._info, self._on_websocket, self.subscribe.detach,
                           self.cors_origins, self.limits, self.pages)

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, host, port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


class ServerThread:
    """Run the RPC server in a background thread (for tests and in-process use)."""

    def __init__(self, node: Node, host: str = "127.0.0.1", port: int = 0,
                 cors_origins: tuple[str, ...] = ANY_ORIGIN, limits: Limits = Limits(),
                 max_batch: int = MAX_BATCH) -> None:
        self.node, self.host, self.requested_port = node, host, port
        self.server = RpcServer(node, cors_origins, limits, max_batch)
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

"""The JSON-RPC server: HTTP and WebSocket on one port, with CORS and batches."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
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
from .http_threads import ThreadedHttp
from .http_wire import internal_error
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
                 max_batch: int = MAX_BATCH, http_threads: bool = True) -> None:
        self.node = node
        self.http_threads: ThreadedHttp | None = None
        self._use_http_threads = http_threads  # HTTP on per-core connection threads (http_threads.py), else the loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self.cors_origins = cors_origins
        self.limits = limits
        self.registry, self.subscribe = build_registry(node)
        self.dispatcher = Dispatcher(self.registry, max_batch)
        waiting = [re.escape(name.encode()) for m in self.registry.methods() if m.is_async for name in (m.name, *m.aliases)]
        self._loop_methods = re.compile(b"|".join(waiting) or b"(?!)")  # methods whose handlers await the loop
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

    def _protocol(self, initial: bytes = b"", hold: int = 0) -> RpcProtocol:
        move = self._move_to_threads if self.http_threads is not None else None
        return RpcProtocol(self._handle, lambda: self._info, self._on_websocket, self.subscribe.detach,
                           self.cors_origins, self.limits, self.pages, initial, move, hold)

    def _move_to_threads(self, protocol: RpcProtocol, data: bytes) -> bool:
        """A light client's HTTP connection: serve it on the connection threads (which answer each request on the
        core it came from), from `data` on, with a descriptor of their own. False if they cannot take it."""
        transport = protocol.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        if self.http_threads is None or sock is None:
            return False
        try:
            own = socket.socket(fileno=os.dup(sock.fileno()))
        except OSError:
            return False
        own.setblocking(False)
        if not self.http_threads.take(own, data):
            own.close()
            return False
        protocol.leave()
        return True

    def _handle_on_thread(self, body: bytes) -> bytes | None:
        """An HTTP request on a connection thread: answered on it, unless it names a method that waits on the
        event loop (found by name in the body: a false match only answers it on the loop too)."""
        if self._loop_methods.search(body) is None:
            return self._handle(body, None)  # type: ignore[no-any-return]
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(self._handle_on_loop(body), self._loop).result()

    async def _handle_on_loop(self, body: bytes) -> bytes | None:
        answer = self._handle(body, None)
        if not hasattr(answer, "__await__"):
            return answer  # type: ignore[no-any-return]
        try:
            return await answer  # type: ignore[no-any-return]
        except Exception:
            log.exception("a deferred request failed")
            return internal_error()

    def _adopt(self, sock: Any, initial: bytes, hold: int) -> None:
        """Serve a connection the connection threads hand back (a WebSocket upgrade, a client that is not light)
        on the loop (thread-safe)."""
        def adopt() -> None:
            adopted = asyncio.ensure_future(loop.connect_accepted_socket(lambda: self._protocol(initial, hold),
                                                                         sock))
            adopted.add_done_callback(_log_failure)

        loop = self._loop
        try:
            assert loop is not None
            loop.call_soon_threadsafe(adopt)
        except RuntimeError:  # the loop has stopped: nobody will serve it
            sock.close()

    async def start(self, host: str, port: int) -> None:
        loop = self._loop = asyncio.get_running_loop()
        if self._use_http_threads:
            self.http_threads = ThreadedHttp(self._handle_on_thread, lambda: self._info, self.pages,
                                             self.cors_origins, self.limits, self._adopt)
        self._server = await loop.create_server(self._protocol, host, port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self.http_threads is not None:
            self.http_threads.stop()
        if self._server is not None:
            await self._server.wait_closed()


def _log_failure(done: "asyncio.Future[Any]") -> None:
    if not done.cancelled() and done.exception() is not None:
        log.warning("could not take over a connection: %s", done.exception())


class ServerThread:
    """Run the RPC server in a background thread (for tests and in-process use)."""

    def __init__(self, node: Node, host: str = "127.0.0.1", port: int = 0,
                 cors_origins: tuple[str, ...] = ANY_ORIGIN, limits: Limits = Limits(),
                 max_batch: int = MAX_BATCH, http_threads: bool = True) -> None:
        self.node, self.host, self.requested_port = node, host, port
        self.server = RpcServer(node, cors_origins, limits, max_batch, http_threads)
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

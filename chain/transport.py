"""HTTP/1.1 and WebSocket on one port, as a plain asyncio protocol.

JSON-RPC over HTTP is one small POST after another on a keep-alive
connection; a general web framework spends more per request than the node
spends on eth_blockNumber. This protocol parses requests with http_wire (what
JSON-RPC clients send) and hands WebSocket upgrades to the `websockets`
library's sans-I/O protocol. It serves every WebSocket and every HTTP
connection's first requests; a light client's connection then moves to the
per-core connection threads (http_threads.py, client_pace.py).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Callable

from websockets.frames import Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from .client_pace import Pace
from .http_wire import (ANY_ORIGIN, MAX_BODY, HttpError, HttpRequest, internal_error, other_reply, reply, rpc_error,
                        take_request)

log = logging.getLogger("bourse.transport")


@dataclass(frozen=True)
class Limits:
    """What one connection may cost the node: slow or silent clients are cut off, never buffered for."""

    request_timeout: float = 30.0  # from a request's first byte to its last (slowloris)
    idle_timeout: float = 120.0  # a keep-alive HTTP connection with no request (geth's idle timeout)
    max_send_buffer: int = 64 * 1024 * 1024  # unsent reply bytes before a client that does not read is dropped


# handle(body, connection) -> reply bytes or None; connection is None for HTTP
Handler = Callable[[bytes, Any], "bytes | None"]


async def _awaited(deferred: Any) -> Any:
    return await deferred


def _task_reply(task: "asyncio.Future[Any]") -> bytes:
    """The reply of a deferred request once done; an internal error (logged) if it failed."""
    if task.cancelled() or task.exception() is not None:
        if not task.cancelled():
            log.error("a deferred request failed", exc_info=task.exception())
        return internal_error()
    return task.result() or b""


class RpcProtocol(asyncio.Protocol):
    def __init__(self, handle: Handler, info: Callable[[], bytes],
                 on_websocket: Callable[["RpcProtocol"], Any], on_close: Callable[[Any], None],
                 cors_origins: tuple[str, ...] = ANY_ORIGIN, limits: Limits = Limits(), pages: Any = None,
                 initial: bytes = b"", move: "Callable[[RpcProtocol, bytes], bool] | None" = None,
                 hold: int = 0) -> None:
        self._handle, self._info, self._on_websocket, self._on_close = handle, info, on_websocket, on_close
        self._initial = initial  # bytes already read from the connection (by a connection thread handing it over)
        self._move = move  # offered a kept-alive HTTP connection (and its next bytes) to serve elsewhere
        self._pace = Pace(hold)  # how soon the client asks again after an answer (hold: requests before moving)
        self._pages = pages  # a webui.StaticSite (the explorer) answering GETs under its prefix
        self._cors_origins = cors_origins
        self._limits = limits
        self._timer: asyncio.TimerHandle | None = None
        self._waiting = False  # an answer is still being worked out (pipelined requests wait behind it)
        self._timer_kind = ""
        self._idle_since = 0.0  # loop time the connection last became idle (the idle clock counts from it)
        self._origin: str | None = None
        self._buffer = bytearray()
        self._ws: ServerProtocol | None = None
        self._fragments: list[bytes] = []
        self.connection: Any = None  # the WebSocket subscriber, once upgraded
        self.transport: asyncio.Transport | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # found once: asking asyncio costs a getpid() each time

    # -- asyncio callbacks ---------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._loop = asyncio.get_running_loop()
        sock = transport.get_extra_info("socket")
        if sock is not None:
            import socket

            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        self._arm("idle")
        if self._initial:
            initial, self._initial = self._initial, b""
            self.data_received(initial)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self.connection is not None:
            self._on_close(self.connection)
        self.transport = None

    # -- timeouts ---------------------------------------------------------------------
    def _arm(self, kind: str) -> None:
        """Start the idle or request clock (a request's clock is not restarted by each byte it trickles in). The
        idle clock is not rebuilt after every request of a busy connection: it notes when it was last idle, and
        when it runs out early it sets itself for the rest (no timer churn per request)."""
        if self._timer_kind == kind and self._timer is not None:
            if kind == "idle":
                self._idle_since = self._event_loop().time()
            return
        self._disarm()
        loop = self._event_loop()
        seconds = self._limits.idle_timeout if kind == "idle" else self._limits.request_timeout
        self._idle_since = loop.time()
        self._timer = loop.call_later(seconds, self._timed_out)
        self._timer_kind = kind

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop or asyncio.get_running_loop()

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_kind = None, ""

    def _timed_out(self) -> None:
        if self._timer_kind == "idle":
            loop = self._event_loop()
            rest = self._idle_since + self._limits.idle_timeout - loop.time()
            if rest > 0:  # it served requests since the clock was set: idle only since the last one
                self._timer = loop.call_later(rest, self._timed_out)
                return
        self._timer = None
        if self._timer_kind == "request":
            self._respond(408, rpc_error("request not completed in time"), keep_alive=False)
        self._close()

    def _watch(self) -> None:
        """After reading or answering: an unfinished request runs on the request clock, else the idle one."""
        if self._ws is not None or self.transport is None:
            self._disarm()
        elif self._buffer:
            self._arm("request")
        else:
            self._arm("idle")

    def data_received(self, data: bytes) -> None:
        if self._ws is not None:
            self._ws.receive_data(data)
            self._ws_pump()
            return
        if not self._buffer:
            self._pace.asked()
            if (self._pace.try_threads() and self._move is not None and not self._waiting and self.transport is not None
                    and not self.transport.get_write_buffer_size() and self._move(self, data)):
                return  # a light client: served by the connection threads from now on (client_pace.py)
        self._buffer += data
        try:
            while self._buffer and self._ws is None and self.transport is not None and not self._waiting:
                if not self._one_request():
                    break
                if self._timer_kind == "request":
                    self._disarm()  # a request completed: the next one gets a clock of its own
        except HttpError as exc:  # a JSON-RPC error object too, for clients that read only the body
            self._origin = exc.origin
            self._respond(exc.status, rpc_error(str(exc)), keep_alive=False)
            self._close()
        self._watch()
        if self._ws is not None and self._buffer:
            rest, self._buffer = bytes(self._buffer), bytearray()
            self._ws.receive_data(rest)
            self._ws_pump()

    # -- HTTP ----------------------------------------------------------------------
    def _one_request(self) -> bool:
        """Handle one complete request from the buffer; False if more bytes are needed."""
        request = take_request(self._buffer, self._cors_origins)
        if request is None:
            return False
        self._origin = request.origin
        if request.is_upgrade:
            self._upgrade(request.head)
            return True
        self._answer(request)
        if not request.keep_alive and not self._waiting:  # a deferred answer closes once it is sent
            self._close()
        return True

    def leave(self) -> None:
        """Stop serving this connection without ending it (it has moved to the connection threads, which hold
        a descriptor of their own): the loop's descriptor is closed, which sends nothing to the client."""
        self._disarm()
        transport, self.transport = self.transport, None
        if transport is not None:
            transport.close()

    def _answer(self, request: HttpRequest) -> None:
        if request.method != "POST":
            self._write(other_reply(request, self._info, self._pages, self._cors_origins))
            return
        answer = self._handle(request.body, None)
        if hasattr(answer, "__await__"):  # a request that waits (eth_sendRawTransactionSync): answered when done
            self._finish_later(answer, request.keep_alive)
        else:
            self._respond(200, b"" if answer is None else answer, request.keep_alive)  # a notification: empty body

    def _finish_later(self, deferred: Any, keep_alive: bool) -> None:
        """Answer once `deferred` completes; requests pipelined behind it wait their turn (HTTP/1.1 order)."""
        self._waiting = True

        def done(task: asyncio.Task[Any]) -> None:
            self._waiting = False
            if self.transport is None:
                return
            self._respond(200, _task_reply(task), keep_alive)
            if not keep_alive:
                self._close()
            elif self._buffer:
                self.data_received(b"")

        asyncio.ensure_future(_awaited(deferred)).add_done_callback(done)

    def _respond(self, status: int, body: bytes, keep_alive: bool) -> None:
        self._write(reply(status, body, keep_alive, self._cors_origins, self._origin))

    def _write(self, data: bytes) -> None:
        if self.transport is None:
            return
        self.transport.write(data)
        self._pace.answered()
        self._check_backlog()

    def _check_backlog(self) -> None:
        """Drop a client that does not read what it is sent: its replies would otherwise pile up here."""
        transport = self.transport
        if transport is not None and transport.get_write_buffer_size() > self._limits.max_send_buffer:
            log.warning("dropping a client that stopped reading (%d bytes unsent)", transport.get_write_buffer_size())
            transport.abort()
            self.transport = None

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # -- WebSocket -------------------------------------------------------------------
    def _upgrade(self, request_bytes: bytes) -> None:
        ws = ServerProtocol(max_size=MAX_BODY)
        ws.receive_data(request_bytes)
        events = ws.events_received()
        request = events[0] if events and isinstance(events[0], Request) else None
        if request is None:
            raise HttpError(400, "bad WebSocket handshake")
        response = ws.accept(request)
        ws.send_response(response)
        self._ws = ws
        self._flush_ws()
        if response.status_code != 101:
            self._close()
            return
        self.connection = self._on_websocket(self)

    def _ws_pump(self) -> None:
        ws = self._ws
        assert ws is not None
        for frame in ws.events_received():
            opcode = getattr(frame, "opcode", None)
            if opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                self._fragments.append(frame.data)
                if frame.fin:
                    message, self._fragments = b"".join(self._fragments), []
                    answer = self._handle(message, self.connection)
                    if hasattr(answer, "__await__"):
                        asyncio.ensure_future(_awaited(answer)).add_done_callback(
                            lambda task: self.send_text(_task_reply(task)))
                    elif answer is not None:
                        ws.send_text(answer)
        self._flush_ws()
        if ws.close_expected() or ws.state.name == "CLOSED":
            self._close()

    def send_text(self, payload: bytes) -> None:
        """Push a message to this WebSocket (called on the event loop)."""
        if not payload:
            return
        if self._ws is None or self.transport is None or self._ws.state.name != "OPEN":
            return
        self._ws.send_text(payload)
        self._flush_ws()

    def _flush_ws(self) -> None:
        assert self._ws is not None
        if self.transport is None:
            return
        for chunk in self._ws.data_to_send():
            if chunk:
                self.transport.write(chunk)
        self._check_backlog()

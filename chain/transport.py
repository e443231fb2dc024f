"""HTTP/1.1 and WebSocket on one port, as a plain asyncio protocol.

JSON-RPC over HTTP is one small POST after another on a keep-alive
connection; a general web framework spends more per request than the node
spends on eth_blockNumber. This protocol parses just what JSON-RPC clients
send (Content-Length or chunked bodies, keep-alive, CORS preflight) and hands
WebSocket upgrades to the `websockets` library's sans-I/O protocol.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Callable

import orjson
from websockets.frames import Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

log = logging.getLogger("bourse.transport")
MAX_BODY = 16 * 1024 * 1024
MAX_HEADER = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """What one connection may cost the node: slow or silent clients are cut off, never buffered for."""

    request_timeout: float = 30.0  # from a request's first byte to its last (slowloris)
    idle_timeout: float = 120.0  # a keep-alive HTTP connection with no request (geth's idle timeout)
    max_send_buffer: int = 64 * 1024 * 1024  # unsent reply bytes before a client that does not read is dropped

_CORS_REST = (b"Access-Control-Allow-Methods: POST, GET, OPTIONS\r\n"
              b"Access-Control-Allow-Headers: Content-Type, Authorization\r\n"
              b"Access-Control-Max-Age: 86400\r\n")
ANY_ORIGIN = ("*",)
REASONS = {200: b"OK", 204: b"No Content", 400: b"Bad Request", 403: b"Forbidden", 405: b"Method Not Allowed",
           408: b"Request Timeout", 413: b"Payload Too Large", 431: b"Request Header Fields Too Large"}

PAGE_REASONS = {301: b"Moved Permanently", 304: b"Not Modified", 404: b"Not Found"}

# handle(body, connection) -> reply bytes or None; connection is None for HTTP
Handler = Callable[[bytes, Any], "bytes | None"]


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _awaited(deferred: Any) -> Any:
    return await deferred


def _task_reply(task: asyncio.Task[Any]) -> bytes:
    if task.cancelled() or task.exception() is not None:
        if not task.cancelled():
            log.error("a deferred request failed", exc_info=task.exception())
        return orjson.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32603, "message": "internal error"}})
    return task.result() or b""


def _rpc_error(message: str) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}})


def cors_headers(allowed: tuple[str, ...], origin: str | None) -> bytes:
    """CORS response headers: `*` for every page (what tools and wallets expect of a dev node), else the
    request's Origin when it is one of `allowed`, else none (the browser then refuses the page the answer)."""
    if allowed == ANY_ORIGIN:
        return b"Access-Control-Allow-Origin: *\r\n" + _CORS_REST
    if origin is not None and origin in allowed:
        return b"Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n" % origin.encode("latin-1") + _CORS_REST
    return b"Vary: Origin\r\n"


class RpcProtocol(asyncio.Protocol):
    def __init__(self, handle: Handler, info: Callable[[], bytes],
                 on_websocket: Callable[["RpcProtocol"], Any], on_close: Callable[[Any], None],
                 cors_origins: tuple[str, ...] = ANY_ORIGIN, limits: Limits = Limits(), pages: Any = None) -> None:
        self._handle, self._info, self._on_websocket, self._on_close = handle, info, on_websocket, on_close
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
            self._respond(408, _rpc_error("request not completed in time"), keep_alive=False)
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
        self._buffer += data
        try:
            while self._buffer and self._ws is None and self.transport is not None and not self._waiting:
                if not self._one_request():
                    break
                if self._timer_kind == "request":
                    self._disarm()  # a request completed: the next one gets a clock of its own
        except _HttpError as exc:  # a JSON-RPC error object too, for clients that read only the body
            self._respond(exc.status, _rpc_error(str(exc)), keep_alive=False)
            self._close()
        self._watch()
        if self._ws is not None and self._buffer:
            rest, self._buffer = bytes(self._buffer), bytearray()
            self._ws.receive_data(rest)
            self._ws_pump()

    # -- HTTP ----------------------------------------------------------------------
    def _one_request(self) -> bool:
        """Handle one complete request from the buffer; False if more bytes are needed."""
        buf = self._buffer
        end = buf.find(b"\r\n\r\n")
        if end < 0 or end > MAX_HEADER:
            if len(buf) > MAX_HEADER:
                raise _HttpError(431, f"request headers too large: at most {MAX_HEADER} bytes")
            return False
        head = bytes(buf[:end]).decode("latin-1")
        lines = head.split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            raise _HttpError(400, "malformed request line") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise _HttpError(400, "malformed header line")
            key = name.strip().lower()
            if key in ("content-length", "transfer-encoding") and key in headers:
                raise _HttpError(400, f"duplicate {name.strip()} header")
            headers[key] = value.strip()
        self._origin = headers.get("origin")
        if self._cors_origins != ANY_ORIGIN and self._origin is not None and self._origin not in self._cors_origins:
            # a page from another origin: no answer at all (a WebSocket is not covered by CORS, so refuse it here)
            raise _HttpError(403, f"origin {self._origin} is not allowed (see --cors-origin)")
        if method == "GET" and headers.get("upgrade", "").lower() == "websocket":
            self._upgrade(bytes(buf[:end + 4]))
            del buf[:end + 4]
            return True
        body_start = end + 4
        if "transfer-encoding" in headers and "content-length" in headers:
            raise _HttpError(400, "both Content-Length and Transfer-Encoding given")
        if headers.get("transfer-encoding", "chunked").lower() != "chunked":
            raise _HttpError(400, f"unsupported Transfer-Encoding {headers['transfer-encoding']!r}")
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parsed = _dechunk(buf, body_start)
            if parsed is None:
                return False
            body, consumed = parsed
        else:
            text = headers.get("content-length", "0")
            if not text.isascii() or not text.isdigit():
                raise _HttpError(400, f"bad Content-Length {text[:40]!r}: expected a non-negative decimal number")
            length = int(text) if len(text) <= 20 else MAX_BODY + 1
            if length > MAX_BODY:
                raise _HttpError(413, f"request body too large: at most {MAX_BODY} bytes")
            if len(buf) < body_start + length:
                return False
            body, consumed = bytes(buf[body_start:body_start + length]), body_start + length
        del buf[:consumed]
        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        if method == "POST":
            reply = self._handle(body, None)
            if hasattr(reply, "__await__"):  # a request that waits (eth_sendRawTransactionSync): answered when done
                self._finish_later(reply, keep_alive)
                return True
            self._respond(200, b"" if reply is None else reply, keep_alive)  # a notification: 200, empty body
        elif method == "OPTIONS":
            self._respond(204, b"", keep_alive)
        elif method in ("GET", "HEAD") and self._pages is not None and self._pages.handles(target):
            page = self._pages.get(target, headers.get("if-none-match"))
            self._respond_page(page.status, page.body if method == "GET" else b"", page.headers, keep_alive)
        elif method in ("GET", "HEAD"):
            self._respond(200, self._info() if method == "GET" else b"", keep_alive)
        else:
            self._respond(405, _rpc_error(f"HTTP method {method[:20]} not allowed: POST JSON-RPC requests"),
                          keep_alive)
        if not keep_alive:
            self._close()
        return True

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
        if self.transport is None:
            return
        head = b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b"OK"))
        if body:
            head += b"Content-Type: application/json\r\n"
        head += b"Content-Length: %d\r\n" % len(body) + cors_headers(self._cors_origins, self._origin)
        head += b"Connection: keep-alive\r\n\r\n" if keep_alive else b"Connection: close\r\n\r\n"
        self.transport.write(head + body)
        self._check_backlog()

    def _respond_page(self, status: int, body: bytes, headers: tuple[tuple[str, str], ...], keep_alive: bool) -> None:
        """A page's file (or its redirect or 304): its own headers, no CORS (a page is read by a browser tab)."""
        if self.transport is None:
            return
        head = b"HTTP/1.1 %d %s\r\n" % (status, PAGE_REASONS.get(status, REASONS.get(status, b"OK")))
        head += b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in headers)
        head += b"Content-Length: %d\r\n" % len(body)
        head += b"Connection: keep-alive\r\n\r\n" if keep_alive else b"Connection: close\r\n\r\n"
        self.transport.write(head + body)
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
            raise _HttpError(400, "bad WebSocket handshake")
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
                    reply = self._handle(message, self.connection)
                    if hasattr(reply, "__await__"):
                        asyncio.ensure_future(_awaited(reply)).add_done_callback(
                            lambda task: self.send_text(_task_reply(task)))
                    elif reply is not None:
                        ws.send_text(reply)
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


def _dechunk(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """Decode a chunked body starting at `start`; None until it is complete."""
    body = bytearray()
    pos = start
    while True:
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            return None
        try:
            size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
        except ValueError:
            raise _HttpError(400, "bad chunk size") from None
        pos = line_end + 2
        if size == 0:  # then optional trailer lines, then an empty line
            if buf[pos:pos + 2] == b"\r\n":
                return bytes(body), pos + 2
            trailer_end = buf.find(b"\r\n\r\n", pos)
            if trailer_end < 0:
                return None
            return bytes(body), trailer_end + 4
        if len(buf) < pos + size + 2:
            return None
        body += buf[pos:pos + size]
        if len(body) > MAX_BODY:
            raise _HttpError(413, "request body too large")
        pos += size + 2

"""The exchange's HTTP/1.1 front door: the REST API read straight from the socket, everything else by aiohttp.

aiohttp spends ~45 us of CPU per request here before a handler runs (its parser, its Request and the router's
match), against ~15 us for a plain asyncio protocol; a signed order costs ~300 us in all. The REST endpoints
(`LEAN_ROUTES`: every route at a fixed path but the WebSocket and page ones) are read here and passed, as a
`LeanRequest`, through the app's own middlewares to the app's own handlers - the same answers, errors, rate-limit
headers and group commits as through aiohttp. Every other request - another path (a 404 included), HEAD, a
WebSocket upgrade, a chunked body, `Expect: 100-continue`, HTTP/1.0, a head this parser does not take as it is -
hands the connection, the bytes read so far included, to aiohttp's protocol, which serves it from then on (and
refuses what is malformed).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
from email.utils import formatdate
from typing import Any, Awaitable, Callable

from aiohttp import web
from yarl import URL

from .errors import UNKNOWN
from .responses import json_response

log = logging.getLogger("bourse.exchange.front")

LEAN_ROUTES = web.AppKey("lean_routes", dict)  # (method, path) -> the app's handler for it
MAX_HEAD = 8190  # aiohttp's own limit on a request line and on a header: a longer head is aiohttp's to refuse
MAX_BODY = 1 << 20  # the app's client_max_size: aiohttp answers a larger body with 413
KEEPALIVE_SECONDS = 3630.0  # aiohttp's keep-alive timeout: an idle connection is closed after it
HAND_OVER = object()  # _read_request: this request is aiohttp's
# A head this door takes, whole: "METHOD TARGET HTTP/1.1", then "name:value" lines, each after CRLF. No control
# character but tab, no CR or LF but the line ends; method and target without spaces; names are RFC 9110 tokens.
_TEXT = r"[^\x00-\x08\x0a-\x1f\x7f]"  # a character of a line: tab, or printable (latin-1 decoded: \x80-\xff too)
_WORD = r"[^\x00-\x08\x0a-\x20\x7f]"  # the same but space
HEAD = re.compile(rf"({_WORD}*) ({_WORD}*) HTTP/1\.1((?:\r\n[!#$%&'*+\-.^_`|~0-9A-Za-z]+:{_TEXT}*)*)")

Handler = Callable[[Any], Awaitable[web.StreamResponse]]


class LeanHeaders:
    """A request's headers by case-insensitive name; the first of repeated ones (as aiohttp's `get` gives)."""

    __slots__ = ("_by_name",)

    def __init__(self, by_name: dict[str, str]) -> None:
        self._by_name = by_name  # lower-case names

    def get(self, name: str, default: Any = None) -> Any:
        return self._by_name.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return self._by_name[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._by_name


class RawTarget:
    """What handlers read of `request.rel_url`: the query string as sent (an API key's signature covers it)."""

    __slots__ = ("raw_query_string",)

    def __init__(self, raw_query_string: str) -> None:
        self.raw_query_string = raw_query_string


class LeanRequest:
    """The part of aiohttp's `web.Request` the middlewares and the order-entry handlers read, from parsed bytes."""

    __slots__ = ("method", "path", "headers", "remote", "rel_url", "_body", "_query", "_unread")

    def __init__(self, method: str, path: str, raw_query: str, headers: LeanHeaders, body: bytes,
                 remote: str | None) -> None:
        self.method, self.path, self.headers, self.remote = method, path, headers, remote
        self.rel_url = RawTarget(raw_query)
        self._body = body
        self._query: Any = None
        self._unread = bool(body)

    @property
    def query(self) -> Any:
        """The query string's parameters, decoded by yarl exactly as aiohttp decodes them."""
        if self._query is None:
            raw = self.rel_url.raw_query_string
            self._query = URL.build(query_string=raw, encoded=True).query if raw else {}
        return self._query

    @property
    def body_exists(self) -> bool:
        return bool(self._body)

    @property
    def can_read_body(self) -> bool:
        """Whether some of the body is still unread (aiohttp's meaning: False once `read` has run)."""
        return self._unread

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-case; aiohttp's default when none is given."""
        given = self.headers.get("content-type", "")
        return given.split(";", 1)[0].strip().lower() or "application/octet-stream"

    async def read(self) -> bytes:
        self._unread = False
        return self._body


def lean_routes(app: web.Application, aiohttp_only: set[Any]) -> dict[tuple[str, str], Handler]:
    """Every route of `app` at a fixed path, by (method, path), but HEAD (aiohttp answers it from GET) and the
    handlers in `aiohttp_only` (a WebSocket, a page: they need aiohttp's own request)."""
    routes: dict[tuple[str, str], Handler] = {}
    for route in app.router.routes():
        path = route.resource.get_info().get("path") if route.resource is not None else None
        if isinstance(path, str) and route.method in ("GET", "POST", "PUT", "DELETE") and \
                route.handler not in aiohttp_only:
            routes[(route.method, path)] = route.handler  # type: ignore[assignment]
    return routes


def lean_handlers(app: web.Application) -> dict[tuple[str, str], Handler]:
    """Each lean route's handler wrapped in the app's middlewares, outermost first, as aiohttp calls them."""
    wrapped = {}
    for route, handler in app.get(LEAN_ROUTES, {}).items():
        for middleware in reversed(app.middlewares):
            handler = functools.partial(middleware, handler=handler)
        wrapped[route] = handler
    return wrapped


class Front:
    """The protocol factory `loop.create_server` takes, and the connections it serves until each is handed over."""

    def __init__(self, app: web.Application, fallback: Callable[[], asyncio.Protocol]) -> None:
        self.handlers = lean_handlers(app)
        self.fallback = fallback  # aiohttp's protocol factory (AppRunner.server)
        self.connections: set[FrontProtocol] = set()
        self.served = 0  # requests answered here rather than by aiohttp
        self._date = (0, "")
        self._sweeper: asyncio.TimerHandle | None = None

    def __call__(self) -> FrontProtocol:
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().call_later(60.0, self._sweep)
        return FrontProtocol(self)

    def date(self) -> str:
        """The Date header's value, formatted once a second."""
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, formatdate(now, usegmt=True))
        return self._date[1]

    def _sweep(self) -> None:
        """Close connections idle for longer than aiohttp's keep-alive timeout (one timer for all of them)."""
        loop = asyncio.get_running_loop()
        if self._sweeper is not None:
            self._sweeper.cancel()  # when called early (the tests): one timer still
        for connection in [c for c in self.connections
                           if not c.busy and loop.time() - c.active_at > KEEPALIVE_SECONDS]:
            connection.close()
        self._sweeper = loop.call_later(60.0, self._sweep)

    def close(self) -> None:
        """Close the connections still served here (aiohttp closes those handed to it, with its runner)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for connection in list(self.connections):
            connection.close()


class FrontProtocol(asyncio.Protocol):
    def __init__(self, front: Front) -> None:
        self.front = front
        self.transport: asyncio.Transport | None = None
        self.remote: str | None = None
        self.active_at = 0.0
        self._buffer = bytearray()
        self.busy = False  # a request is being answered: the next waits (HTTP/1.1 answers in order)
        self._task: asyncio.Task[None] | None = None  # the answer being worked out (held: the loop keeps weak refs)
        self._loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.remote = peer[0] if isinstance(peer, (tuple, list)) and peer else None  # (TCP_NODELAY: the loop sets it)
        self.active_at = self._loop.time()
        self.front.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self.front.connections.discard(self)

    def pause_writing(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()  # a client that does not read its answers gets no more of them made

    def resume_writing(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        self.front.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self.active_at = self._loop.time()
        if not self.busy:
            self._next()

    def _next(self) -> None:
        while self._buffer and not self.busy and self.transport is not None:
            request = self._read_request()
            if request is None:
                return
            if request is HAND_OVER:
                self._hand_over()
                return
            handler, lean, keep_alive = request
            self.busy = True
            self.front.served += 1
            self._task = self._loop.create_task(self._answer(handler, lean, keep_alive))

    def _read_request(self) -> Any:
        """(handler, LeanRequest, keep_alive) for a complete lean request, None while its bytes are still coming,
        HAND_OVER for anything else."""
        buf = self._buffer
        end = buf.find(b"\r\n\r\n", 0, MAX_HEAD + 4)
        if end < 0:
            return HAND_OVER if len(buf) > MAX_HEAD else None
        parts = HEAD.fullmatch(buf[:end].decode("latin-1"))
        if parts is None:
            return HAND_OVER  # folded, malformed or unusual: aiohttp's to answer
        method, target, header_lines = parts.groups()
        if not target.isascii():
            return HAND_OVER
        path, _, raw_query = target.partition("?")
        handler = self.front.handlers.get((method, path))
        if handler is None:
            return HAND_OVER
        headers: dict[str, str] = {}
        for line in header_lines.split("\r\n")[1:]:
            name, _, value = line.partition(":")  # a token has no colon: this is the name's end
            key = name.lower()
            if key in headers:
                if key in ("content-length", "content-type", "host", "x-mbx-apikey"):
                    return HAND_OVER
                continue
            headers[key] = value.strip(" \t")
        if "transfer-encoding" in headers or "expect" in headers or "upgrade" in headers:
            return HAND_OVER
        length_text = headers.get("content-length", "0")
        if not (length_text.isascii() and length_text.isdigit()) or len(length_text) > 9:
            return HAND_OVER
        length = int(length_text)
        if length > MAX_BODY:
            return HAND_OVER
        start = end + 4
        if len(buf) < start + length:
            return None
        body = bytes(buf[start:start + length])
        del buf[:start + length]
        keep_alive = headers.get("connection", "").lower() != "close"
        lean = LeanRequest(method, path, raw_query, LeanHeaders(headers), body, self.remote)
        return handler, lean, keep_alive

    def _hand_over(self) -> None:
        """aiohttp's protocol takes the connection from here on, with what was read of it."""
        transport, self.transport = self.transport, None
        self.front.connections.discard(self)
        assert transport is not None
        protocol = self.front.fallback()
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if self._buffer:
            rest, self._buffer = bytes(self._buffer), bytearray()
            protocol.data_received(rest)

    async def _answer(self, handler: Handler, request: LeanRequest, keep_alive: bool) -> None:
        try:
            response = await handler(request)
            answer = self._encode(response, keep_alive)
        except Exception:  # the app's errors middleware answers every error it knows; this is a bug
            log.exception("request %s %s failed", request.method, request.path)
            answer = self._encode(json_response({"code": UNKNOWN, "msg": "An unknown error occurred while "
                                                 "processing the request."}, status=500), keep_alive)
        self.busy, self._task = False, None
        if self.transport is None:  # the client left; what it asked for was done all the same (as with aiohttp)
            return
        self.transport.write(answer)
        if not keep_alive:
            self.close()
        elif self._buffer:
            self._next()

    def _encode(self, response: web.StreamResponse, keep_alive: bool) -> bytes:
        body = getattr(response, "body", None)
        if not isinstance(body, (bytes, bytearray)):
            raise TypeError(f"a lean route answered with {type(response).__name__}, not a body of bytes")
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection", "date", "transfer-encoding"):
                lines.append(f"{name}: {value}")
        lines.append(f"Content-Length: {len(body)}")
        lines.append("Date: " + self.front.date())
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


__all__ = ["Front", "FrontProtocol", "LEAN_ROUTES", "LeanRequest"]

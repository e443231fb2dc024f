"""HTTP/1.1 as JSON-RPC clients speak it: one request taken from the front of a buffer, and the bytes of the
replies. Shared by the event-loop transport (transport.py) and the per-core connection threads (http_threads.py).

It parses just what JSON-RPC clients send (Content-Length or chunked bodies, keep-alive, CORS preflight, a
WebSocket upgrade handed on whole) and refuses framing it cannot trust with an HTTP status and a JSON-RPC error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import orjson

MAX_BODY = 16 * 1024 * 1024
MAX_HEADER = 64 * 1024
ANY_ORIGIN = ("*",)
REASONS = {200: b"OK", 204: b"No Content", 400: b"Bad Request", 403: b"Forbidden", 405: b"Method Not Allowed",
           408: b"Request Timeout", 413: b"Payload Too Large", 431: b"Request Header Fields Too Large"}
PAGE_REASONS = {301: b"Moved Permanently", 304: b"Not Modified", 404: b"Not Found"}
_CORS_REST = (b"Access-Control-Allow-Methods: POST, GET, OPTIONS\r\n"
              b"Access-Control-Allow-Headers: Content-Type, Authorization\r\n"
              b"Access-Control-Max-Age: 86400\r\n")


class HttpError(Exception):
    """A request the node will not answer: its status, and the Origin it came with when that was read."""

    def __init__(self, status: int, message: str, origin: str | None = None) -> None:
        super().__init__(message)
        self.status, self.origin = status, origin


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool
    head: bytes  # the request line and headers up to the blank line (what a WebSocket handshake is made of)

    @property
    def origin(self) -> str | None:
        return self.headers.get("origin")

    @property
    def is_upgrade(self) -> bool:
        return self.method == "GET" and self.headers.get("upgrade", "").lower() == "websocket"


def rpc_error(message: str) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}})


def internal_error() -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32603, "message": "internal error"}})


def cors_headers(allowed: tuple[str, ...], origin: str | None, preflight: bool = False) -> bytes:
    """CORS response headers: `*` for every page (what tools and wallets expect of a dev node), else the
    request's Origin when it is one of `allowed`, else none (the browser then refuses the page the answer). The
    methods, headers and how long to remember them are for a preflight (OPTIONS) only: a browser reads them nowhere
    else, and every header is parsed by every client."""
    rest = _CORS_REST if preflight else b""
    if allowed == ANY_ORIGIN:
        return b"Access-Control-Allow-Origin: *\r\n" + rest
    if origin is not None and origin in allowed:
        return b"Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n" % origin.encode("latin-1") + rest
    return b"Vary: Origin\r\n"


def take_request(buf: bytearray, cors_origins: tuple[str, ...]) -> HttpRequest | None:
    """Remove one complete request from the front of `buf` and return it; None, leaving `buf` as it was, until
    all of it has arrived. A WebSocket upgrade takes only its head. HttpError for a request not to be answered."""
    end = buf.find(b"\r\n\r\n")
    if end < 0 or end > MAX_HEADER:
        if len(buf) > MAX_HEADER:
            raise HttpError(431, f"request headers too large: at most {MAX_HEADER} bytes")
        return None
    head = bytes(buf[:end + 4])
    lines = head[:end].decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ", 2)
    except ValueError:
        raise HttpError(400, "malformed request line") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise HttpError(400, "malformed header line")
        key = name.strip().lower()
        if key in ("content-length", "transfer-encoding") and key in headers:
            raise HttpError(400, f"duplicate {name.strip()} header")
        headers[key] = value.strip()
    origin = headers.get("origin")
    if cors_origins != ANY_ORIGIN and origin is not None and origin not in cors_origins:
        # a page from another origin: no answer at all (a WebSocket is not covered by CORS, so refuse it here)
        raise HttpError(403, f"origin {origin} is not allowed (see --cors-origin)", origin)
    keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if method == "GET" and headers.get("upgrade", "").lower() == "websocket":
        del buf[:end + 4]
        return HttpRequest(method, target, headers, b"", keep_alive, head)
    body_start = end + 4
    if "transfer-encoding" in headers and "content-length" in headers:
        raise HttpError(400, "both Content-Length and Transfer-Encoding given", origin)
    if headers.get("transfer-encoding", "chunked").lower() != "chunked":
        raise HttpError(400, f"unsupported Transfer-Encoding {headers['transfer-encoding']!r}", origin)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parsed = _dechunk(buf, body_start, origin)
        if parsed is None:
            return None
        body, consumed = parsed
    else:
        text = headers.get("content-length", "0")
        if not text.isascii() or not text.isdigit():
            raise HttpError(400, f"bad Content-Length {text[:40]!r}: expected a non-negative decimal number", origin)
        length = int(text) if len(text) <= 20 else MAX_BODY + 1
        if length > MAX_BODY:
            raise HttpError(413, f"request body too large: at most {MAX_BODY} bytes", origin)
        if len(buf) < body_start + length:
            return None
        body, consumed = bytes(buf[body_start:body_start + length]), body_start + length
    del buf[:consumed]
    return HttpRequest(method, target, headers, body, keep_alive, head)


def reply(status: int, body: bytes, keep_alive: bool, cors_origins: tuple[str, ...], origin: str | None,
          preflight: bool = False) -> bytes:
    """An answer; an HTTP/1.1 connection stays open unless it says `Connection: close`."""
    head = b"HTTP/1.1 %d %s\r\n" % (status, REASONS.get(status, b"OK"))
    if body:
        head += b"Content-Type: application/json\r\n"
    head += b"Content-Length: %d\r\n" % len(body) + cors_headers(cors_origins, origin, preflight)
    return head + (b"\r\n" if keep_alive else b"Connection: close\r\n\r\n") + body


def page_reply(status: int, body: bytes, headers: tuple[tuple[str, str], ...], keep_alive: bool) -> bytes:
    """A page's file (or its redirect or 304): its own headers, no CORS (a page is read by a browser tab)."""
    head = b"HTTP/1.1 %d %s\r\n" % (status, PAGE_REASONS.get(status, REASONS.get(status, b"OK")))
    head += b"".join(f"{name}: {value}\r\n".encode("latin-1") for name, value in headers)
    head += b"Content-Length: %d\r\n" % len(body)
    return head + (b"\r\n" if keep_alive else b"Connection: close\r\n\r\n") + body


def other_reply(request: HttpRequest, info: Callable[[], bytes], pages: Any, cors_origins: tuple[str, ...]) -> bytes:
    """The answer to anything but a POST: a CORS preflight, a page, the method list, or 405."""
    method, keep_alive, origin = request.method, request.keep_alive, request.origin
    if method == "OPTIONS":
        return reply(204, b"", keep_alive, cors_origins, origin, preflight=True)
    if method in ("GET", "HEAD") and pages is not None and pages.handles(request.target):
        page = pages.get(request.target, request.headers.get("if-none-match"))
        return page_reply(page.status, page.body if method == "GET" else b"", page.headers, keep_alive)
    if method in ("GET", "HEAD"):
        return reply(200, info() if method == "GET" else b"", keep_alive, cors_origins, origin)
    return reply(405, rpc_error(f"HTTP method {method[:20]} not allowed: POST JSON-RPC requests"), keep_alive,
                 cors_origins, origin)


def _dechunk(buf: bytearray, start: int, origin: str | None) -> tuple[bytes, int] | None:
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
            raise HttpError(400, "bad chunk size", origin) from None
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
            raise HttpError(413, "request body too large", origin)
        pos += size + 2

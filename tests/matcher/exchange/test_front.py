"""The exchange's HTTP front door (matcher/exchange/front.py): order entry read straight from the socket and passed
through the app's own middlewares and handlers; every other request handed, with its connection, to aiohttp.

Each test runs a small aiohttp app behind the front door, on uvloop as the exchange does. Its one lean route
echoes what a handler can read of the request; the same handler answers through aiohttp on a connection that was
handed over first, so the two paths are compared on the same bytes."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from matcher.exchange.front import LEAN_ROUTES, Front
from matcher.exchange.service import new_event_loop

SEEN: list[str] = []  # the middleware's log: the lean path must run the app's middlewares too


async def echo(request: Any) -> web.Response:
    body = await request.read() if request.can_read_body else b""
    query = request.query
    return web.json_response({
        "method": request.method, "path": request.path, "query": [[k, v] for k, v in query.items()],
        "queryDict": dict(query), "raw": request.rel_url.raw_query_string, "contentType": request.content_type,
        "apiKey": request.headers.get("X-MBX-APIKEY"), "hasKey": "x-mbx-apikey" in request.headers,
        "bodyExists": request.body_exists, "canRead": request.can_read_body, "body": body.decode("latin-1"),
        "remote": request.remote}, headers={"X-Echo": "1"})


async def fail(request: Any) -> web.Response:
    raise RuntimeError("a bug")


async def slow(request: Any) -> web.Response:
    await asyncio.sleep(0.2)
    return web.json_response({"slow": True})


async def ping(request: Any) -> web.Response:
    return web.json_response({})


async def websocket(request: Any) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        if message.type == WSMsgType.TEXT:
            await ws.send_str("echo " + message.data)
    return ws


@web.middleware
async def tag(request: Any, handler: Any) -> web.StreamResponse:
    SEEN.append(request.path)
    response = await handler(request)
    response.headers["X-Tag"] = "tagged"
    return response


class Served:
    def __init__(self) -> None:
        app = web.Application(middlewares=[tag], client_max_size=1 << 20)
        for method in ("POST", "DELETE"):
            app.router.add_route(method, "/api/v3/order", echo)
        app.router.add_post("/fail", fail)
        app.router.add_post("/slow", slow)
        app.router.add_get("/api/v3/ping", ping)
        app.router.add_get("/ws", websocket)
        app[LEAN_ROUTES] = {("POST", "/api/v3/order"): echo, ("DELETE", "/api/v3/order"): echo,
                            ("POST", "/fail"): fail, ("POST", "/slow"): slow}
        self.app = app
        self.front: Front | None = None
        self.loop = new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            runner = web.AppRunner(self.app, access_log=None)
            await runner.setup()
            self.front = Front(self.app, runner.server)
            server = await asyncio.get_running_loop().create_server(self.front, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self.stopping = asyncio.Event()
            ready.set()
            await self.stopping.wait()
            server.close()
            self.front.close()
            await runner.cleanup()
        self.loop.run_until_complete(main())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stopping.set)
        self.thread.join(10)

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    running = Served()
    yield running
    running.stop()


def read_answer(sock: socket.socket, pending: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 answer (Content-Length framed) from the socket: status, headers (lower-case names), body."""
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {bytes(pending)!r}")
        pending += chunk
    end = pending.index(b"\r\n\r\n")
    lines = pending[:end].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(pending) < end + 4 + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in a body")
        pending += chunk
    body = bytes(pending[end + 4:end + 4 + length])
    del pending[:end + 4 + length]
    return int(lines[0].split(" ")[1]), headers, body


def exchange(sock: socket.socket, request: bytes, pending: bytearray | None = None) -> tuple[int, dict[str, str], bytes]:
    sock.sendall(request)
    return read_answer(sock, bytearray() if pending is None else pending)


def post(path: str, body: bytes = b"", headers: str = "", method: str = "POST") -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: {len(body)}\r\n\r\n").encode() + body


def handed_over(served: Served) -> socket.socket:
    """A connection aiohttp serves: one that began with a request the front door does not take."""
    sock = served.connect()
    status, _, _ = exchange(sock, b"GET /api/v3/ping HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 200
    return sock


def both_ways(served: Served, request: bytes) -> tuple[tuple[int, dict[str, str], bytes], ...]:
    """The same request answered by the front door and by aiohttp (the lean one counted as served there)."""
    lean_sock, aio_sock = served.connect(), handed_over(served)
    assert served.front is not None
    before = served.front.served
    lean = exchange(lean_sock, request)
    assert served.front.served == before + 1, "the front door did not answer the lean request"
    aio = exchange(aio_sock, request)
    assert served.front.served == before + 1, "aiohttp's connection was answered by the front door"
    lean_sock.close()
    aio_sock.close()
    return lean, aio


WHAT_HANDLERS_READ = [
    post("/api/v3/order", b'{"symbol":"BRSWBNB","side":"SELL"}', "Content-Type: application/json\r\n"),
    post("/api/v3/order", b"symbol=BRSWBNB&side=SELL&price=0.1", "Content-Type: application/x-www-form-urlencoded; "
         "charset=UTF-8\r\nX-MBX-APIKEY: key1\r\n"),
    post("/api/v3/order?symbol=BRS%57BNB&side=SELL&note=a+b%20c&blank=&flag&dup=1&dup=2&%E2%82%AC=%FF",
         headers="x-mbx-apikey: lower\r\nX-MBX-APIKEY2: other\r\n"),
    post("/api/v3/order?timestamp=1&signature=ab", b"", "Content-Type: APPLICATION/JSON\r\n"),
    post("/api/v3/order", b"\xff\xfe not text", "Content-Type:text/plain\r\nX-Spaces:   padded   \r\n"),
    post("/api/v3/order?orderId=7&symbol=X", method="DELETE"),
]


@pytest.mark.parametrize("request_bytes", WHAT_HANDLERS_READ)
def test_handlers_read_the_same_request_either_way(served: Served, request_bytes: bytes) -> None:
    (lean_status, lean_headers, lean_body), (aio_status, aio_headers, aio_body) = both_ways(served, request_bytes)
    assert lean_status == aio_status == 200
    assert json.loads(lean_body) == json.loads(aio_body)
    assert lean_body == aio_body
    for name in ("content-type", "x-echo", "x-tag", "content-length"):  # the handler's and the middleware's
        assert lean_headers[name] == aio_headers[name], name
    assert lean_headers["connection"] == "keep-alive" and "date" in lean_headers


def test_a_bug_is_the_same_500_either_way(served: Served) -> None:
    (lean_status, _, lean_body), (aio_status, _, _) = both_ways(served, post("/fail"))
    assert aio_status == 500  # aiohttp's own (this app has no errors middleware); the front door's is Binance's
    assert lean_status == 500 and json.loads(lean_body)["code"] == -1000


def test_the_app_middlewares_run_on_the_lean_path(served: Served) -> None:
    SEEN.clear()
    sock = served.connect()
    exchange(sock, post("/api/v3/order", b"{}"))
    assert SEEN == ["/api/v3/order"]


def test_pipelined_requests_are_answered_in_order_and_a_later_one_handed_over(served: Served) -> None:
    sock = served.connect()
    sock.sendall(post("/slow") + post("/api/v3/order?n=1") + post("/api/v3/order?n=2") +
                 b"GET /api/v3/ping HTTP/1.1\r\nHost: x\r\n\r\n" + post("/api/v3/order?n=3"))
    pending = bytearray()
    answers = [read_answer(sock, pending) for _ in range(5)]
    assert [a[0] for a in answers] == [200] * 5
    assert json.loads(answers[0][2]) == {"slow": True}
    assert [json.loads(a[2])["raw"] for a in (answers[1], answers[2], answers[4])] == ["n=1", "n=2", "n=3"]
    assert json.loads(answers[3][2]) == {}


def test_a_request_in_pieces_is_assembled(served: Served) -> None:
    sock = served.connect()
    request = post("/api/v3/order?x=1", b'{"a":"b"}', "Content-Type: application/json\r\n")
    for i in range(len(request)):
        sock.sendall(request[i:i + 1])
        time.sleep(0.001)
    status, _, body = read_answer(sock, bytearray())
    assert status == 200 and json.loads(body)["body"] == '{"a":"b"}'


@pytest.mark.parametrize("request_bytes, status", [
    (b"POST /api/v3/order HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n", 200),
    (b"POST /api/v3/order HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}", 100),
    (b"POST /api/v3/order HTTP/1.0\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", 200),
    (b"POST /api/v3/order HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400),
    (b"POST /api/v3/order HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\nContent-Length: 2\r\n\r\n{}", 400),
    (b"POST /api/v3/order HTTP/1.1\r\nHost: x\r\nContent-Length: -2\r\n\r\n{}", 400),
    (b"POST /api/v3/order HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n" + b"x" * 1048577, 413),
    (b"POST /api/v3/order/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 404),
    (b"PUT /api/v3/order HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
    (b"POST /api/v3/order HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n", 400),
])
def test_what_the_front_door_does_not_take_is_aiohttps(served: Served, request_bytes: bytes, status: int) -> None:
    assert served.front is not None
    before = served.front.served
    sock = served.connect()
    try:
        sock.sendall(request_bytes)
    except OSError:  # aiohttp may answer (413) and close before the whole body is sent
        pass
    answer = sock.recv(65536)
    assert answer.split(b"\r\n")[0].split(b" ")[1] == b"%d" % status, answer[:200]
    assert served.front.served == before


def test_connection_close_is_honoured(served: Served) -> None:
    sock = served.connect()
    status, headers, _ = exchange(sock, post("/api/v3/order", b"{}", "Connection: close\r\n"))
    assert status == 200 and headers["connection"] == "close"
    sock.settimeout(5)
    assert sock.recv(100) == b""


def test_a_client_that_leaves_early_does_not_stop_the_request(served: Served) -> None:
    SEEN.clear()
    sock = served.connect()
    sock.sendall(post("/slow"))
    sock.close()
    time.sleep(0.4)
    assert SEEN == ["/slow"]
    assert exchange(served.connect(), post("/api/v3/order"))[0] == 200  # and the server serves on


def test_a_websocket_upgrade_is_handed_over(served: Served) -> None:
    from websockets.sync.client import connect
    with connect(f"ws://127.0.0.1:{served.port}/ws") as ws:
        ws.send("hi")
        assert ws.recv(timeout=5) == "echo hi"


def test_stopping_closes_the_front_doors_connections() -> None:
    running = Served()
    sock = running.connect()
    assert exchange(sock, post("/api/v3/order"))[0] == 200
    assert running.front is not None and len(running.front.connections) == 1
    running.stop()
    sock.settimeout(5)
    assert sock.recv(100) == b""
    assert not running.front.connections


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(served: Served,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from matcher.exchange import front as front_module
    busy, idle = served.connect(), served.connect()
    time.sleep(1.5)
    assert served.front is not None
    monkeypatch.setattr(front_module, "KEEPALIVE_SECONDS", 1.0)
    assert exchange(busy, post("/api/v3/order"))[0] == 200  # active just now
    served.loop.call_soon_threadsafe(served.front._sweep)
    idle.settimeout(5)
    assert idle.recv(100) == b""  # idle since it connected: closed by the sweep
    assert exchange(busy, post("/api/v3/order"))[0] == 200

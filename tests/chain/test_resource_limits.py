"""Resource limits: filters expire and are capped, subscriptions are capped per connection, slow or silent
clients are cut off, framing the node cannot trust is refused, and batches are bounded by a flag."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
import time
from typing import Any, Iterator
from urllib.parse import urlparse

import pytest
from websockets.asyncio.client import connect

from chain import Node, NodeConfig
from chain.errors import LimitExceeded, ResourceNotFound
from chain.filters import Filters
from chain.server import ServerThread
from chain.http_wire import MAX_HEADER
from chain.transport import Limits

from .conftest import rpc


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served() -> Iterator[tuple[Node, ServerThread]]:
    node = Node(NodeConfig(predeploy=False, accounts=2))
    server = ServerThread(node, limits=Limits(request_timeout=0.5, idle_timeout=0.5, max_send_buffer=64 * 1024),
                          max_batch=3).start()
    yield node, server
    server.stop()
    node.close()


def _socket(url: str) -> socket.socket:
    u = urlparse(url)
    return socket.create_connection((u.hostname, u.port), timeout=10)


def _read_all(sock: socket.socket, limit: float = 10.0) -> bytes:
    """Everything until the server closes (or `limit` seconds pass)."""
    sock.settimeout(limit)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return data


def _status_and_body(raw: bytes) -> tuple[int, Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body) if body else None


# -- polling filters -----------------------------------------------------------------------------------
def test_filters_expire_after_five_minutes_unused() -> None:
    clock = Clock()
    filters = Filters(clock=clock)
    kept, dropped = filters.install("blocks"), filters.install("blocks")
    clock.now += 200
    filters.take(kept)  # a poll keeps it alive
    clock.now += 150
    assert filters.take(kept) == []
    with pytest.raises(ResourceNotFound):
        filters.take(dropped)
    filters.on_block("0x1", [])
    clock.now += 301
    filters.on_block("0x2", [])  # each block sweeps
    assert len(filters) == 0


def test_filter_cap_answers_limit_exceeded(served: tuple[Node, ServerThread]) -> None:
    node, server = served
    node.filters.cap = 5
    ids = [rpc(server.url, "eth_newBlockFilter")["result"] for _ in range(5)]
    error = rpc(server.url, "eth_newBlockFilter")["error"]
    assert error["code"] == LimitExceeded.code == -32005 and "too many filters" in error["message"]
    assert rpc(server.url, "eth_uninstallFilter", [ids[0]])["result"] is True
    assert "result" in rpc(server.url, "eth_newBlockFilter")


def test_ten_thousand_abandoned_filters_and_a_thousand_subscriptions_leave_memory_flat(
        served: tuple[Node, ServerThread]) -> None:
    node, server = served
    clock = Clock()
    node.filters.clock = clock
    gc.collect()
    start = _rss()
    for i in range(10_000):
        node.filters.install("logs" if i % 2 else "blocks", None)
    node.mine(20)  # every block filter collects 20 hashes while abandoned

    async def subscribe_and_leave() -> None:
        for _ in range(4):
            async with connect(server.ws_url) as ws:
                for i in range(250):
                    await ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "eth_subscribe",
                                              "params": ["newHeads"]}))
                    assert "result" in json.loads(await ws.recv())

    asyncio.run(subscribe_and_leave())
    deadline = time.monotonic() + 10
    while server.server.subscribe.subscribers and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.server.subscribe.subscribers  # closed connections take their subscriptions along
    clock.now += Filters.TTL + 1
    node.mine(1)
    assert len(node.filters) == 0
    gc.collect()
    assert _rss() - start < 50 * 1024 * 1024


def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


# -- subscriptions -------------------------------------------------------------------------------------
def test_subscriptions_are_capped_per_connection(served: tuple[Node, ServerThread]) -> None:
    from chain.api.subscribe import MAX_SUBSCRIPTIONS
    _, server = served

    async def run() -> tuple[dict[str, Any], dict[str, Any]]:
        async with connect(server.ws_url) as ws:
            for i in range(MAX_SUBSCRIPTIONS):
                await ws.send(json.dumps({"jsonrpc": "2.0", "id": i, "method": "eth_subscribe",
                                          "params": ["newHeads"]}))
                assert "result" in json.loads(await ws.recv())
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": -1, "method": "eth_subscribe", "params": ["newHeads"]}))
            over = json.loads(await ws.recv())
            async with connect(server.ws_url) as other:  # another connection has its own allowance
                await other.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                                             "params": ["newHeads"]}))
                return over, json.loads(await other.recv())

    over, other = asyncio.run(run())
    assert over["error"]["code"] == -32005 and "too many subscriptions" in over["error"]["message"]
    assert "result" in other


def test_a_websocket_client_that_stops_reading_is_dropped(served: tuple[Node, ServerThread]) -> None:
    node, server = served
    sock = _socket(server.url)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    assert b" 101 " in sock.recv(4096)
    frame = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}).encode()
    mask = b"\x01\x02\x03\x04"
    sock.sendall(bytes([0x81, 0x80 | len(frame)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(frame)))
    time.sleep(0.2)
    for _ in range(40):  # pushes pile up unread: far past the 64 KiB the server keeps for a client
        node.mine(100)
        if not any(s for s in server.server.subscribe.subscribers):
            break
    deadline = time.monotonic() + 10
    while server.server.subscribe.subscribers and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.server.subscribe.subscribers
    assert rpc(server.url, "eth_blockNumber")["result"]  # everyone else is still served


# -- slow clients ----------------------------------------------------------------------------------------
def test_an_unfinished_request_times_out_with_408(served: tuple[Node, ServerThread]) -> None:
    _, server = served
    sock = _socket(server.url)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"")
    status, body = _status_and_body(_read_all(sock))
    assert status == 408 and body["error"]["code"] == -32600


def test_a_trickling_request_does_not_reset_the_clock(served: tuple[Node, ServerThread]) -> None:
    _, server = served
    sock = _socket(server.url)
    started = time.monotonic()
    closed = False
    for byte in b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200:
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        time.sleep(0.05)
        if time.monotonic() - started > 8:
            break
    data = b"" if closed else _read_all(sock, 2)
    assert closed or data.startswith(b"HTTP/1.1 408")


def test_an_idle_keep_alive_connection_is_closed(served: tuple[Node, ServerThread]) -> None:
    _, server = served
    sock = _socket(server.url)
    assert _read_all(sock) == b""  # closed by the server, with nothing sent


def test_a_busy_keep_alive_connection_outlives_the_idle_timeout_and_closes_once_idle(
        served: tuple[Node, ServerThread]) -> None:
    _, server = served  # idle timeout 0.5 s
    sock = _socket(server.url)
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
    request = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    for _ in range(8):  # 1.6 s of requests 0.2 s apart: never idle for 0.5 s
        sock.sendall(request)
        answer = b""
        while not answer.endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk, "closed while in use"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
        time.sleep(0.2)
    assert _read_all(sock) == b""  # then idle: closed by the server, with nothing more sent


# -- framing ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("head,status", [
    (b"Content-Length: -5\r\n", 400),
    (b"Content-Length: +5\r\n", 400),
    (b"Content-Length: 5\r\nContent-Length: 5\r\n", 400),
    (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 400),
    (b"Transfer-Encoding: gzip\r\n", 400),
    (b"Content-Length: 99999999999999999999999999\r\n", 413),
    (b"X-Big: " + b"a" * (MAX_HEADER + 10) + b"\r\n", 431),
])
def test_untrustworthy_framing_is_refused_with_a_json_rpc_error(served: tuple[Node, ServerThread], head: bytes,
                                                                status: int) -> None:
    _, server = served
    sock = _socket(server.url)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n{\"a\":1}")
    got, body = _status_and_body(_read_all(sock))
    assert got == status and body["jsonrpc"] == "2.0" and body["error"]["code"] == -32600


def test_other_http_methods_get_405_with_a_json_rpc_error(served: tuple[Node, ServerThread]) -> None:
    _, server = served
    sock = _socket(server.url)
    sock.sendall(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    status, body = _status_and_body(_read_all(sock))
    assert status == 405 and body["error"]["code"] == -32600


def test_a_notification_gets_200_with_no_body(served: tuple[Node, ServerThread]) -> None:
    _, server = served
    sock = _socket(server.url)
    body = b'{"jsonrpc":"2.0","method":"eth_blockNumber","params":[]}'
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    raw = _read_all(sock)
    assert raw.startswith(b"HTTP/1.1 200") and raw.endswith(b"\r\n\r\n")


# -- batches ------------------------------------------------------------------------------------------------
def test_batches_above_the_cap_are_refused_naming_the_flag(served: tuple[Node, ServerThread]) -> None:
    _, server = served
    import urllib.request
    call = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    for size, ok in ((3, True), (4, False)):
        req = urllib.request.Request(server.url, json.dumps([call] * size).encode(),
                                     {"Content-Type": "application/json"})
        reply = json.loads(urllib.request.urlopen(req, timeout=10).read())
        if ok:
            assert len(reply) == 3
        else:
            assert reply["error"]["code"] == -32600 and "--max-batch" in reply["error"]["message"]

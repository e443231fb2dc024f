"""The HTTP transport with raw sockets: framing cases real clients produce, and bad input."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlparse

BODY = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'


def _connect(url: str) -> socket.socket:
    u = urlparse(url)
    return socket.create_connection((u.hostname, u.port), timeout=10)


_leftover: dict[int, bytes] = {}


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = _leftover.pop(id(sock), b"")
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        rest += sock.recv(65536)
    _leftover[id(sock)] = rest[length:]
    return status, headers, rest[:length]


def _post(body: bytes, extra: str = "") -> bytes:
    return (f"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def test_pipelined_keep_alive_requests_get_answers_in_order(url: str) -> None:
    with _connect(url) as sock:
        sock.sendall(_post(BODY) + _post(BODY.replace(b'"id":1', b'"id":2')))
        first = _read_response(sock)
        second = _read_response(sock)
    assert json.loads(first[2])["id"] == 1 and json.loads(second[2])["id"] == 2
    assert "connection" not in first[1]  # HTTP/1.1: kept open unless the answer says close


def test_chunked_body_with_trailer_is_decoded(url: str) -> None:
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (BODY[:10], BODY[10:]))
    with _connect(url) as sock:
        sock.sendall(head + chunks + b"0\r\nX-Trailer: 1\r\n\r\n")
        status, _, body = _read_response(sock)
    assert status == 200 and json.loads(body)["result"] == "0x7a69"


def test_request_split_across_packets(url: str) -> None:
    raw = _post(BODY)
    with _connect(url) as sock:
        for i in range(0, len(raw), 7):
            sock.sendall(raw[i:i + 7])
        status, _, body = _read_response(sock)
    assert status == 200 and json.loads(body)["id"] == 1


def test_connection_close_and_http_1_0_close_after_reply(url: str) -> None:
    for request in (_post(BODY, "Connection: close\r\n"),
                    _post(BODY).replace(b"HTTP/1.1", b"HTTP/1.0")):
        with _connect(url) as sock:
            sock.sendall(request)
            status, headers, _ = _read_response(sock)
            assert status == 200 and headers["connection"] == "close"
            assert sock.recv(1) == b""


def test_bad_requests_get_http_errors_and_the_connection_closes(url: str) -> None:
    cases = [
        (b"NONSENSE\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n", 413),
        (b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        (b"PUT / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
    ]
    for raw, expected in cases:
        with _connect(url) as sock:
            sock.sendall(raw)
            status, _, _ = _read_response(sock)
            assert status == expected, raw


def test_get_lists_methods_and_head_is_empty(url: str) -> None:
    with _connect(url) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body = _read_response(sock)
    assert status == 200 and "eth_call" in json.loads(body)["methods"]


def test_any_origin_by_default_and_only_the_configured_ones_with_cors_origin() -> None:
    from chain import Node, NodeConfig
    from chain.server import ServerThread

    node = Node(NodeConfig(predeploy=False, accounts=1))
    open_server = ServerThread(node).start()
    strict = ServerThread(node, cors_origins=("http://localhost:3000",)).start()
    try:
        with _connect(open_server.url) as sock:
            sock.sendall(_post(BODY, "Origin: http://evil.example\r\n"))
            status, headers, _ = _read_response(sock)
        assert status == 200 and headers["access-control-allow-origin"] == "*"
        with _connect(strict.url) as sock:
            sock.sendall(_post(BODY, "Origin: http://localhost:3000\r\n"))
            status, headers, body = _read_response(sock)
        assert status == 200 and headers["access-control-allow-origin"] == "http://localhost:3000"
        with _connect(strict.url) as sock:
            sock.sendall(_post(BODY, "Origin: http://evil.example\r\n"))
            status, headers, body = _read_response(sock)
        assert status == 403 and "access-control-allow-origin" not in headers
        assert json.loads(body)["error"]["code"] == -32600 and "not allowed" in json.loads(body)["error"]["message"]
        upgrade = (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   b"Origin: http://evil.example\r\n\r\n")
        with _connect(strict.url) as sock:
            sock.sendall(upgrade)
            status, _, _ = _read_response(sock)
        assert status == 403  # a page's WebSocket is refused too (CORS does not cover WebSockets)
        with _connect(strict.url) as sock:
            sock.sendall(_post(BODY))  # tools send no Origin: served as before
            status, _, body = _read_response(sock)
        assert status == 200 and json.loads(body)["result"] == "0x7a69"
    finally:
        open_server.stop()
        strict.stop()
        node.close()

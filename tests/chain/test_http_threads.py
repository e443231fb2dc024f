"""HTTP connections of light clients move from the event loop to the per-core connection threads, and back when
their clients turn heavy: how a client is judged, framing, limits, waiting handlers, WebSocket upgrades, the
connection cap, thread reuse, many clients at once, and the threads pinned one to each core."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlparse

import pytest
from eth_account import Account

from chain import Node, NodeConfig, client_pace
from chain.http_threads import MAX_PINNED_CORES, serving_cores
from chain.server import RpcServer, ServerThread
from chain.transport import Limits

N_STREAM = 20_000
KEY0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADDR0 = Account.from_key(KEY0).address


def _body(method: str, params: list[Any] | None = None, ident: int = 1) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": ident, "method": method, "params": params or []}).encode()


def _post(body: bytes, extra: str = "") -> bytes:
    return (f"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


class Client:
    """A raw keep-alive connection that reads answers one by one."""

    opened: list[Client] = []  # closed after each test, so a failed test leaves no connection to the next

    def __init__(self, url: str) -> None:
        u = urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=10)
        self.rest = b""
        Client.opened.append(self)

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        data = self.rest
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(65536)
            assert chunk, f"closed by the server after {data!r}"
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            assert chunk, "closed in the middle of an answer"
            rest += chunk
        self.rest = rest[length:]
        return int(lines[0].split()[1]), headers, rest[:length]

    def call(self, method: str, params: list[Any] | None = None, ident: int = 1) -> dict[str, Any]:
        self.sock.sendall(_post(_body(method, params, ident)))
        status, _, body = self.answer()
        assert status == 200
        return json.loads(body)  # type: ignore[no-any-return]

    def until_closed(self, limit: float = 10.0) -> bytes:
        self.sock.settimeout(limit)
        data = self.rest
        try:
            while chunk := self.sock.recv(65536):
                data += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        return data

    def close(self) -> None:
        self.sock.close()


def _moved(server: ServerThread, others: int = 0) -> Client:
    """A connection that has answered two requests: the second moved it to the connection threads (`others`:
    how many moved connections the test keeps open; those of earlier tests are first waited out)."""
    connections = server.server.http_threads.connections
    _wait_until(lambda: len(connections) == others)
    client = Client(server.url)
    assert client.call("eth_chainId")["result"] == "0x7a69"
    assert len(connections) == others  # the first request is answered on the loop
    assert client.call("eth_chainId", ident=2)["id"] == 2
    assert len(connections) == others + 1
    return client


def _wait_until(condition: Any, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _http_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("bourse-http-")]


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while Client.opened:
        Client.opened.pop().close()


@pytest.fixture(autouse=True)
def every_client_light(monkeypatch: pytest.MonkeyPatch) -> None:
    """Judge each client by its first gap and call it light, whatever this machine's speed: a connection moves to
    the threads at its second request (the tests of the judgement itself set their own bounds)."""
    monkeypatch.setattr(client_pace, "SAMPLES", 1)
    monkeypatch.setattr(client_pace, "TRY_BELOW", 3600.0)
    monkeypatch.setattr(client_pace, "STAY_BELOW", 3600.0)


@pytest.fixture(scope="module")
def served() -> Iterator[ServerThread]:
    node = Node(NodeConfig(accounts=2))
    server = ServerThread(node).start()
    yield server
    server.stop()
    node.close()


@pytest.fixture
def short() -> Iterator[ServerThread]:
    """Short limits: half a second for a request, for idleness, and for a client to take its answer."""
    node = Node(NodeConfig(predeploy=False, accounts=2))
    server = ServerThread(node, limits=Limits(request_timeout=0.5, idle_timeout=0.5)).start()
    yield server
    server.stop()
    node.close()


# -- moving -------------------------------------------------------------------------------------------------------
def test_a_one_request_connection_stays_on_the_loop_and_starts_no_thread(served: ServerThread) -> None:
    import urllib.request

    before = {t.ident for t in _http_threads()}
    for _ in range(5):
        request = urllib.request.Request(served.url, _body("eth_blockNumber"), {"Content-Type": "application/json"})
        assert "result" in json.loads(urllib.request.urlopen(request, timeout=10).read())
    assert {t.ident for t in _http_threads()} <= before
    assert not served.server.http_threads.connections


def test_a_kept_alive_connection_is_served_by_a_thread_pinned_to_each_core(served: ServerThread) -> None:
    client = _moved(served)
    for i in range(50):
        assert client.call("eth_blockNumber", ident=i)["id"] == i
    cores = serving_cores()
    _wait_until(lambda: all(t.native_id is not None for t in _http_threads()))  # started (a loaded machine is slow)
    names = sorted(t.name for t in _http_threads())
    assert {f"bourse-http-{'any' if core is None else core}" for core in cores} <= set(names)
    if cores == [None]:
        pytest.skip(f"this machine offers {len(os.sched_getaffinity(0))} cores: one unpinned thread a connection "
                    f"(threads are pinned on 2 to {MAX_PINNED_CORES})")
    for thread in _http_threads():
        status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
        allowed = next(line.split(":")[1].strip() for line in status.splitlines()
                       if line.startswith("Cpus_allowed_list"))
        assert allowed == thread.name.removeprefix("bourse-http-")
    client.close()


def test_threads_are_kept_for_the_next_connections(served: ServerThread) -> None:
    threads = served.server.http_threads

    def all_waiting() -> bool:
        with threads._lock:
            return sum(threads._idle.values()) == len(threads.threads)

    _moved(served).close()
    _wait_until(all_waiting)
    before = {t.ident for t in _http_threads()}
    for _ in range(12):  # one after another: each is served by threads the earlier ones used
        _moved(served).close()
        _wait_until(all_waiting)
    assert {t.ident for t in _http_threads()} == before


def test_pipelined_and_split_requests_are_answered_in_order(served: ServerThread) -> None:
    client = _moved(served)
    client.sock.sendall(b"".join(_post(_body("eth_chainId", ident=i)) for i in range(10, 20)))
    assert [json.loads(client.answer()[2])["id"] for _ in range(10)] == list(range(10, 20))
    request = _post(_body("eth_blockNumber", ident=77))
    for i in range(len(request)):  # one byte at a time: the threads take turns reading, the order is kept
        client.sock.sendall(request[i:i + 1])
        time.sleep(0.001)
    assert json.loads(client.answer()[2])["id"] == 77
    client.close()


def test_a_stream_of_requests_in_pieces_of_every_size_is_answered_in_order(served: ServerThread) -> None:
    """Every thread of the connection wakes for each piece: they must take the bytes one at a time, in order."""
    import random

    client = _moved(served)
    stream = b"".join(_post(_body("eth_chainId", ident=i)) for i in range(N_STREAM))
    pieces, rng, at = [], random.Random(7), 0
    while at < len(stream):
        size = rng.choice((1, 2, 7, 30, 97, 150, 400))
        pieces.append(stream[at:at + size])
        at += size

    def send() -> None:
        for piece in pieces:
            client.sock.sendall(piece)

    sender = threading.Thread(target=send)
    sender.start()
    ids = [json.loads(client.answer()[2])["id"] for _ in range(N_STREAM)]
    sender.join(30)
    assert ids == list(range(N_STREAM))
    client.close()


def test_the_bytes_that_moved_a_connection_are_answered_first(served: ServerThread) -> None:
    client = Client(served.url)
    assert client.call("eth_chainId")["result"] == "0x7a69"
    # the second request arrives in two pieces: the first is read by the loop and moves the connection with it
    request = _post(_body("eth_blockNumber", ident=5))
    client.sock.sendall(request[:30])
    time.sleep(0.2)
    assert len(served.server.http_threads.connections) == 1
    client.sock.sendall(request[30:])
    assert json.loads(client.answer()[2])["id"] == 5
    client.close()


def test_chunked_bodies_pages_preflight_and_other_methods(served: ServerThread) -> None:
    client = _moved(served)
    body = _body("eth_chainId", ident=3)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:10], body[10:]))
    client.sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
    status, _, answer = client.answer()
    assert status == 200 and json.loads(answer) == {"jsonrpc": "2.0", "id": 3, "result": "0x7a69"}
    client.sock.sendall(b"OPTIONS / HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:3000\r\n\r\n")
    status, headers, _ = client.answer()
    assert status == 204 and headers["access-control-allow-origin"] == "*"
    client.sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    status, _, answer = client.answer()
    assert status == 200 and "eth_call" in json.loads(answer)["methods"]
    client.sock.sendall(b"GET /explorer/ HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, answer = client.answer()
    assert status == 200 and headers["content-type"].startswith("text/html") and b"<html" in answer.lower()
    client.sock.sendall(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    status, _, answer = client.answer()
    assert status == 405 and json.loads(answer)["error"]["code"] == -32600
    client.sock.sendall(_post(b'{"jsonrpc":"2.0","method":"eth_blockNumber","params":[]}'))
    status, _, answer = client.answer()
    assert status == 200 and answer == b""  # a notification
    client.close()


def test_connection_close_and_bad_framing_end_a_moved_connection(served: ServerThread) -> None:
    client = _moved(served)
    client.sock.sendall(_post(_body("eth_chainId", ident=9), "Connection: close\r\n"))
    status, headers, answer = client.answer()
    assert status == 200 and headers["connection"] == "close" and json.loads(answer)["id"] == 9
    assert client.until_closed() == b""
    client = _moved(served)
    client.sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
    raw = client.until_closed()
    assert raw.startswith(b"HTTP/1.1 400") and b'"code":-32600' in raw


def test_a_request_may_not_trickle_in_forever_on_a_moved_connection(short: ServerThread) -> None:
    client = _moved(short)
    client.sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\"")
    raw = client.until_closed()
    assert raw.startswith(b"HTTP/1.1 408") and b'"code":-32600' in raw


def test_a_moved_connection_is_closed_once_idle_but_not_while_busy() -> None:
    node = Node(NodeConfig(predeploy=False, accounts=2))
    server = ServerThread(node, limits=Limits(idle_timeout=1.5)).start()
    try:
        client = _moved(server)
        for i in range(12):  # 2.4 s of requests 0.2 s apart: never idle for 1.5 s
            assert client.call("eth_chainId", ident=i)["id"] == i
            time.sleep(0.2)
        assert client.until_closed() == b""  # then idle: closed, with nothing sent
        _wait_until(lambda: not server.server.http_threads.connections)
    finally:
        server.stop()
        node.close()


def test_a_client_that_stops_reading_is_dropped_and_others_are_served(short: ServerThread) -> None:
    client = _moved(short)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    flood = _post(_body("eth_getBlockByNumber", ["latest", True])) * 4000  # megabytes of answers, never read

    def send() -> None:
        try:
            client.sock.sendall(flood)
        except OSError:
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    _wait_until(lambda: not short.server.http_threads.connections, 20)  # dropped: half a second without reading
    other = _moved(short)
    assert other.call("eth_blockNumber")["result"] == "0x0"
    other.close()
    client.close()


def test_a_send_that_waits_for_its_block_holds_only_its_own_connection() -> None:
    node = Node(NodeConfig(predeploy=False, accounts=2, no_mining=True))
    server = ServerThread(node).start()
    try:
        waiting = _moved(server)
        tx = {"to": "0x" + "11" * 20, "value": 1, "gas": 21000, "nonce": 0, "chainId": 31337,
              "maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1}
        raw = "0x" + Account.sign_transaction(tx, KEY0).raw_transaction.hex().removeprefix("0x")
        waiting.sock.sendall(_post(_body("eth_sendRawTransactionSync", [raw, 10_000], 42)))
        other = _moved(server, others=1)
        time.sleep(0.2)
        assert other.call("eth_blockNumber")["result"] == "0x0"  # served while the other connection waits
        assert other.call("evm_mine")["result"] == "0x0"
        status, _, answer = waiting.answer()
        assert status == 200 and json.loads(answer)["result"]["status"] == "0x1"
        assert waiting.call("eth_blockNumber")["result"] == "0x1"
    finally:
        server.stop()
        node.close()


def test_a_websocket_upgrade_on_a_moved_connection_goes_back_to_the_loop(served: ServerThread) -> None:
    from websockets.frames import Frame, Opcode
    from websockets.client import ClientProtocol
    from websockets.uri import parse_uri

    client = _moved(served)
    ws = ClientProtocol(parse_uri(served.ws_url))
    ws.send_request(ws.connect())
    for chunk in ws.data_to_send():
        client.sock.sendall(chunk)
    _wait_until(lambda: not served.server.http_threads.connections)

    def receive() -> Any:
        while not (events := ws.events_received()):
            ws.receive_data(client.sock.recv(65536))
        return events[0]

    assert receive().status_code == 101
    ws.send_frame(Frame(Opcode.TEXT, _body("eth_subscribe", ["newHeads"], 8)))
    for chunk in ws.data_to_send():
        client.sock.sendall(chunk)
    assert json.loads(receive().data)["result"].startswith("0x")
    served.node.mine(1)
    assert json.loads(receive().data)["method"] == "eth_subscription"
    client.close()


def test_past_the_connection_cap_connections_stay_on_the_loop(served: ServerThread) -> None:
    threads = served.server.http_threads
    threads.max_connections = 1
    try:
        first, second = _moved(served), Client(served.url)  # the second stays on the loop
        for i in range(5):
            assert second.call("eth_chainId", ident=i)["id"] == i
        assert len(threads.connections) == 1
        first.close()
        second.close()
    finally:
        threads.max_connections = 256


def test_many_clients_at_once_get_consistent_answers(served: ServerThread) -> None:
    node = served.node
    recipients = ["0x" + f"{i + 1:040x}" for i in range(8)]
    errors: list[BaseException] = []

    def client(i: int) -> None:
        try:
            conn = Client(served.url)
            for n in range(40):
                sent = conn.call("eth_sendTransaction", [{"from": node.accounts[1].checksum, "to": recipients[i],
                                                          "value": "0x1"}], n)
                assert sent["result"].startswith("0x"), sent
                assert int(conn.call("eth_getBalance", [recipients[i], "latest"])["result"], 16) >= n + 1
                assert conn.call("eth_blockNumber")["result"].startswith("0x")
            conn.close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    start = int(node.backend.head.number)
    workers = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert not errors, errors[0]
    assert int(node.backend.head.number) == start + 8 * 40  # one block per transaction, none lost
    for address in recipients:
        assert node.backend.balance(bytes.fromhex(address[2:]), node.backend.head.number) == 40


def test_stopping_the_server_ends_moved_connections_and_their_threads() -> None:
    node = Node(NodeConfig(predeploy=False, accounts=2))
    server = ServerThread(node).start()
    clients = [_moved(server, others=i) for i in range(3)]
    server.stop()
    node.close()
    for client in clients:
        assert client.until_closed() == b""
    assert not server.server.http_threads.connections
    assert not server.server.http_threads.threads


def test_the_node_under_uvloop_moves_connections_without_ending_them() -> None:
    """Under uvloop (as `bourse node` runs) the loop's descriptor is closed on a move: the client must not see it."""
    uvloop = pytest.importorskip("uvloop")
    node = Node(NodeConfig(predeploy=False, accounts=2))
    server = RpcServer(node)
    started, stop = threading.Event(), threading.Event()

    async def main() -> None:
        await server.start("127.0.0.1", 0)
        started.set()
        while not stop.is_set():
            await asyncio.sleep(0.02)
        await server.stop()

    runner = threading.Thread(target=uvloop.run, args=(main(),), daemon=True)
    runner.start()
    assert started.wait(10)
    client = Client(f"http://127.0.0.1:{server.port}")
    for i in range(20):
        assert client.call("eth_chainId", ident=i)["id"] == i
    assert len(server.http_threads.connections) == 1
    client.close()
    stop.set()
    runner.join(10)
    node.close()


def test_a_connection_no_thread_could_be_started_for_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    from chain.http_threads import ThreadedHttp

    threads = ThreadedHttp(lambda body: b"{}", lambda: b"{}", None, ("*",), Limits(), lambda sock, data: None,
                           cores=[None])
    ours, theirs = socket.socketpair()
    ours.setblocking(False)

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    assert threads.take(ours, _post(b"{}"))
    monkeypatch.undo()
    theirs.settimeout(10)
    assert theirs.recv(100) == b""  # closed, not left hanging
    assert not threads.connections and not threads.threads
    theirs.close()


# -- judging clients --------------------------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(client_pace.time, "perf_counter", fake)
    monkeypatch.setattr(client_pace, "SAMPLES", 16)
    monkeypatch.setattr(client_pace, "TRY_BELOW", 300e-6)
    monkeypatch.setattr(client_pace, "STAY_BELOW", 100e-6)
    return fake


def _gaps(pace: client_pace.Pace, clock: FakeClock, gaps: list[float]) -> None:
    for gap in gaps:
        pace.answered()
        clock.now += gap
        pace.asked()


def test_a_client_is_judged_by_the_median_of_its_gaps(clock: FakeClock) -> None:
    pace = client_pace.Pace()
    pace.asked()  # a first request: no answer before it, no gap
    _gaps(pace, clock, [20e-6] * 15)
    assert not pace.judged and not pace.try_threads() and not pace.leave_threads()  # too few to judge
    _gaps(pace, clock, [20e-6])
    assert pace.try_threads() and not pace.leave_threads() and pace.median == pytest.approx(20e-6)
    _gaps(pace, clock, [20e-6] * 7 + [0.05] * 7 + [20e-6] * 2)  # seven garbage-collection pauses among sixteen
    assert pace.median == pytest.approx(20e-6)
    _gaps(pace, clock, [200e-6] * 15)
    assert pace.median == pytest.approx(20e-6)  # judged again only at the sixteenth
    pace.asked()  # bytes without an answer before them (the rest of a request) are no gap
    _gaps(pace, clock, [200e-6])
    # from the loop (two wakeups across cores in each gap) worth a try; on the threads, not a light client
    assert pace.try_threads() and pace.leave_threads() and pace.median == pytest.approx(200e-6)
    _gaps(pace, clock, [500e-6] * 16)
    assert not pace.try_threads() and pace.leave_threads()


def test_a_connection_back_from_the_threads_waits_before_trying_again(clock: FakeClock) -> None:
    pace = client_pace.Pace(hold=100)
    _gaps(pace, clock, [20e-6] * 96)
    assert pace.judged and not pace.try_threads()
    _gaps(pace, clock, [20e-6] * 16)
    assert pace.try_threads()


def test_a_heavy_client_stays_on_the_loop_and_goes_back_to_it(served: ServerThread,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_pace, "TRY_BELOW", 0.0)  # nobody is light: nothing moves
    client = Client(served.url)
    for i in range(10):
        assert client.call("eth_chainId", ident=i)["id"] == i
    assert not served.server.http_threads.connections
    client.close()
    monkeypatch.setattr(client_pace, "TRY_BELOW", 3600.0)
    client = _moved(served)
    monkeypatch.setattr(client_pace, "STAY_BELOW", 0.0)  # nobody stays: back to the loop at the next request
    monkeypatch.setattr(client_pace, "HOLD", 5)
    assert client.call("eth_blockNumber", ident=3)["id"] == 3
    _wait_until(lambda: not served.server.http_threads.connections)
    monkeypatch.setattr(client_pace, "STAY_BELOW", 3600.0)
    for i in range(4, 8):  # held on the loop for five requests, the one that went back with it included
        assert client.call("eth_chainId", ident=i)["id"] == i
        assert not served.server.http_threads.connections
    assert client.call("eth_chainId", ident=8)["id"] == 8  # then it tries the threads again
    assert len(served.server.http_threads.connections) == 1
    client.close()

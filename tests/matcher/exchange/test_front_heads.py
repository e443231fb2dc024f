"""The front door's head parser (FrontProtocol._read_request) against a plain reference reading of the rules it
keeps: for random heads built from the pieces that matter - spaces, tabs, control characters, bare CR or LF,
latin-1 bytes, colons, folded and repeated headers, odd versions - it takes, waits for or hands over exactly what
the reference does, with the same method, path, query, headers, body and keep-alive."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from matcher.exchange.front import HAND_OVER, MAX_BODY, MAX_HEAD, FrontProtocol

HANDLERS = {("POST", "/api/v3/order"): "order", ("GET", "/api/v3/ping"): "ping", ("DELETE", "/api/v3/order"): "x"}
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n")
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def reference(buf: bytes) -> Any:
    """What the front door takes, read rule by rule."""
    end = buf.find(b"\r\n\r\n", 0, MAX_HEAD + 4)
    if end < 0:
        return "HAND_OVER" if len(buf) > MAX_HEAD else None
    head = buf[:end].decode("latin-1")
    if CONTROL.search(head):
        return "HAND_OVER"
    lines = head.split("\r\n")
    request_line = lines[0].split(" ")
    if len(request_line) != 3 or request_line[2] != "HTTP/1.1":
        return "HAND_OVER"
    method, target, _ = request_line
    if not target.isascii():
        return "HAND_OVER"
    path, _, query = target.partition("?")
    if (method, path) not in HANDLERS:
        return "HAND_OVER"
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not TOKEN.fullmatch(name):
            return "HAND_OVER"
        key = name.lower()
        if key in headers:
            if key in ("content-length", "content-type", "host", "x-mbx-apikey"):
                return "HAND_OVER"
            continue
        headers[key] = value.strip(" \t")
    if "transfer-encoding" in headers or "expect" in headers or "upgrade" in headers:
        return "HAND_OVER"
    length_text = headers.get("content-length", "0")
    if not (length_text.isascii() and length_text.isdigit()) or len(length_text) > 9:
        return "HAND_OVER"
    length = int(length_text)
    if length > MAX_BODY:
        return "HAND_OVER"
    if len(buf) < end + 4 + length:
        return None
    return (HANDLERS[method, path], method, path, query, headers, buf[end + 4:end + 4 + length],
            headers.get("connection", "").lower() != "close")


class Front:
    handlers = HANDLERS


def ours(buf: bytes) -> Any:
    protocol = FrontProtocol.__new__(FrontProtocol)  # the parser alone: no loop, no transport
    protocol.front, protocol.remote, protocol._buffer = Front(), "127.0.0.1", bytearray(buf)  # type: ignore[assignment]
    got = protocol._read_request()
    if got is None or got is HAND_OVER:
        return None if got is None else "HAND_OVER"
    handler, lean, keep_alive = got
    return (handler, lean.method, lean.path, lean.rel_url.raw_query_string, lean.headers._by_name, lean._body,
            keep_alive)


LINES = ["POST /api/v3/order HTTP/1.1", "GET /api/v3/ping HTTP/1.1", "DELETE /api/v3/order?a=1&b=%20 HTTP/1.1",
         "POST /api/v3/order?x=\t1 HTTP/1.1", "POST  /api/v3/order HTTP/1.1", "POST /api/v3/order HTTP/1.10",
         "POST /api/v3/order HTTP/1.0", "PUT /api/v3/order HTTP/1.1", " /api/v3/order HTTP/1.1",
         "POST /api/v3/\xe9 HTTP/1.1", "P\x01ST /api/v3/order HTTP/1.1", "POST /api/v3/order HTTP/1.1 ",
         "POST\t/api/v3/order HTTP/1.1", "GET /api/v3/ping?q=\x7f HTTP/1.1"]
NAMES = ["Host", "Content-Type", "content-length", "X-MBX-APIKEY", "Connection", "Accept", "X-A", "A!#$%&'*+-.^_`|~",
         "Bad Name", "", "Na:me", "N\xe9", "Transfer-Encoding", "Expect", "Upgrade", " Host", "Host "]
VALUES = ["", " ", "x", " 127.0.0.1 ", "\tv\t", "application/json", "close", "keep-alive", "Close", "v:w", "\xe9\xff",
          "a\x00b", "a\x0bb", "a\x7fb", "a\rb", "a\nb", "12", "0", "-1", "1" * 10, "\u00b2", "3 "]


def random_request(rng: random.Random) -> bytes:
    lines = [rng.choice(LINES)]
    for _ in range(rng.randrange(0, 6)):
        lines.append(f"{rng.choice(NAMES)}{rng.choice([':', ': ', ':', ''])}{rng.choice(VALUES)}")
        if rng.random() < 0.05:
            lines.append(" folded")
    body = bytes(rng.randrange(256) for _ in range(rng.choice([0, 0, 2, 12])))
    if rng.random() < 0.6:
        lines.append(f"Content-Length: {rng.choice([len(body), len(body), len(body) + 3, 0])}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    return raw[:rng.randrange(len(raw) // 2, len(raw) + 1)] if rng.random() < 0.1 else raw  # sometimes still coming


@pytest.mark.parametrize("seed", range(4))
def test_random_heads_are_read_as_the_rules_say(seed: int) -> None:
    rng = random.Random(seed)
    outcomes: dict[str, int] = {}
    for _ in range(5000):
        raw = random_request(rng)
        expected = reference(raw)
        assert ours(raw) == expected, raw
        kind = "wait" if expected is None else "hand over" if expected == "HAND_OVER" else "take"
        outcomes[kind] = outcomes.get(kind, 0) + 1
    assert min(outcomes.get(k, 0) for k in ("wait", "hand over", "take")) > 100, outcomes  # every way is exercised


def test_an_overlong_head_is_handed_over_and_a_short_partial_one_waits() -> None:
    assert ours(b"POST /api/v3/order HTTP/1.1\r\nHost: x\r\n") is None
    assert ours(b"POST /api/v3/order HTTP/1.1\r\nX: " + b"a" * MAX_HEAD) == "HAND_OVER"

"""JSON answers: aiohttp's `web.json_response`, encoded with orjson (about ten times faster than the standard
library: a 1,000-candle klines answer encodes in ~0.07 ms rather than ~0.7 ms here)."""

from __future__ import annotations

import json
from typing import Any

import orjson
from aiohttp import web


def json_response(data: Any, status: int = 200, headers: Any = None) -> web.Response:
    """`data` as a JSON answer (the same Content-Type as web.json_response). What orjson refuses - integers
    beyond 64 bits, keys that are not strings - goes through the standard library."""
    try:
        body = orjson.dumps(data)
    except TypeError:
        body = json.dumps(data).encode()
    return web.Response(body=body, status=status, headers=headers, content_type="application/json",
                        charset="utf-8")

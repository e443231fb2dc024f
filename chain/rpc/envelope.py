"""JSON-RPC 2.0 envelopes: parse, dispatch, and the one place errors are mapped."""

from __future__ import annotations

import difflib
import json
import logging
from typing import Any, Awaitable, Callable

import orjson

from ..collector import collector_paused
from ..errors import ChainError, InvalidRequest, MethodNotFound
from .registry import Registry

log = logging.getLogger("bourse.rpc")
MAX_BATCH = 1_000


def encode_reply(reply: Any) -> bytes:
    """A reply as JSON bytes. orjson refuses values nested deeper than 254 levels; a call tracer's frames for a
    call chain at the EVM's depth limit (1024) nest deeper, so those go through the standard library's encoder."""
    try:
        return orjson.dumps(reply)
    except TypeError as exc:
        if "Recursion limit" not in str(exc):
            raise
        return json.dumps(reply, separators=(",", ":")).encode()


def decode_reply(raw: bytes) -> Any:
    """encode_reply's counterpart: orjson's decoder refuses the same depths."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" not in str(exc):
            raise
        return json.loads(raw)


def error_object(exc: BaseException) -> dict[str, Any]:
    """EIP-1474 error for any exception; unexpected ones are logged, never leaked."""
    if isinstance(exc, ChainError):
        out: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.data is not None:
            out["data"] = exc.data
        stack = getattr(exc, "source_stack", None)
        if stack:
            out["sourceStack"] = stack
        return out
    log.exception("internal error", exc_info=exc)
    return {"code": -32603, "message": "internal error"}


def _reply(request_id: Any, result: Any = None, error: dict[str, Any] | None = None) -> dict[str, Any]:
    if error is not None:
        return {"jsonrpc": "2.0", "id": request_id, "error": error}
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


Connection = Any
Runner = Callable[[Callable[[], Any]], Awaitable[Any]]


class Dispatcher:
    def __init__(self, registry: Registry, max_batch: int = MAX_BATCH) -> None:
        self.registry = registry
        self.max_batch = max_batch

    def _method(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise InvalidRequest("invalid request: method must be a string")
        method = self.registry.get(name)
        if method is None:
            near = difflib.get_close_matches(name, self.registry.names(), n=1)
            hint = f"; did you mean {near[0]}?" if near else ""
            raise MethodNotFound(f"the method {name} does not exist/is not available{hint}")
        return method

    async def one(self, request: Any, connection: Connection = None) -> dict[str, Any] | None:
        if not isinstance(request, dict):
            return _reply(None, error={"code": -32600, "message": "invalid request: expected an object"})
        request_id = request.get("id")
        is_notification = "id" not in request
        if request.get("jsonrpc") != "2.0":
            return _reply(request_id, error={"code": -32600, "message": "invalid request: jsonrpc must be \"2.0\""})
        if request_id is not None and not isinstance(request_id, (str, int, float)):
            return _reply(None, error={"code": -32600, "message": "invalid request: bad id"})
        try:
            method = self._method(request.get("method"))
            params = request.get("params", [])
            if method.needs_connection:
                if connection is None:
                    raise MethodNotFound(f"{method.name} is only available over WebSocket")
                result = await method.handler(params, connection)
            elif method.is_async:
                result = await method.handler(params)
            else:
                result = method.handler(params)
        except BaseException as exc:  # noqa: BLE001 - mapped to an error reply
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            return _reply(request_id, error=error_object(exc))
        if is_notification:
            return None
        return _reply(request_id, result)

    async def payload(self, body: bytes, connection: Connection = None) -> bytes | None:
        """Handle a request body (single or batch); None means nothing to send back."""
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return orjson.dumps(_reply(None, error={"code": -32700, "message": "parse error: invalid JSON"}))
        if isinstance(request, list):
            if not request:
                return orjson.dumps(_reply(None, error={"code": -32600, "message": "invalid request: empty batch"}))
            if len(request) > self.max_batch:
                return orjson.dumps(_reply(None, error={
                    "code": -32600, "message": f"invalid request: batch of {len(request)} is larger than "
                                               f"{self.max_batch} (bourse node --max-batch)"}))
            replies = [r for r in [await self.one(item, connection) for item in request] if r is not None]
            return encode_reply(replies) if replies else None
        if isinstance(request, dict) and self._is_bulky(request.get("method")):
            with collector_paused():  # until the answer is bytes and its objects are gone
                reply = await self.one(request, connection)
                return encode_reply(reply) if reply is not None else None
        reply = await self.one(request, connection)
        return encode_reply(reply) if reply is not None else None

    def _is_bulky(self, name: Any) -> bool:
        method = self.registry.get(name) if isinstance(name, str) else None
        return method is not None and method.bulky


class Deferred:
    """The rest of a handler that had to wait (eth_sendRawTransactionSync): an awaitable the event loop finishes.

    Every other handler completes in its first step, so the transport answers it without creating a task; only a
    request that really awaits is handed to the loop, which resumes the same coroutine where it stopped.
    """

    def __init__(self, coroutine: Any, awaiting: Any) -> None:
        self._coroutine, self._awaiting = coroutine, awaiting

    def __await__(self) -> Any:
        awaiting = self._awaiting
        while True:
            try:
                sent = yield awaiting
            except BaseException as exc:  # cancellation: passed into the handler
                try:
                    awaiting = self._coroutine.throw(exc)
                except StopIteration as done:
                    return done.value
                continue
            try:
                awaiting = self._coroutine.send(sent)
            except StopIteration as done:
                return done.value


def drive(coroutine: Any) -> Any:
    """Run a handler coroutine to its end if it never waits (the usual case), else return a `Deferred`."""
    try:
        awaiting = coroutine.send(None)
    except StopIteration as done:
        return done.value
    return Deferred(coroutine, awaiting)


def run_sync(coroutine: Any) -> Any:
    """Drive a handler coroutine that never awaits I/O (every handler here) without a task."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise RuntimeError("handler awaited I/O; handlers must complete synchronously")

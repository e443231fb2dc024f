"""The REST API under /api/v3 in Binance's shapes, WebSocket streams, and /openapi.json (aiohttp).

Errors are `{"code": ..., "msg": ...}` with HTTP 400 (404 for unknown paths, 500 for bugs, which are logged and
never shown). Handlers run on the event loop, the exchange core's only thread.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from aiohttp import WSMsgType, web

from .errors import MALFORMED, NOT_FOUND, REJECTED_MBX_KEY, UNKNOWN, ApiError
from .front import LEAN_ROUTES, lean_routes
from .private import PrivateHandlers
from .public import PublicHandlers
from .core import GROUP_COMMIT
from .ratelimits import request_weight
from .responses import json_response
from .streams import Subscriber

log = logging.getLogger("bourse.exchange.api")


@web.middleware
async def errors_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return json_response(exc.body(), status=exc.status, headers=exc.headers)
    except web.HTTPException as exc:
        if exc.status == 404:
            return json_response({"code": NOT_FOUND, "msg": f"no such endpoint: {request.method} "
                                                               f"{request.path}"}, status=404)
        if exc.status == 405:
            allowed = getattr(exc, "allowed_methods", None) or ()
            return json_response({"code": NOT_FOUND, "msg": f"method {request.method} is not allowed on "
                                                               f"{request.path}"}, status=405,
                                     headers={"Allow": ",".join(sorted(allowed))})
        raise
    except Exception:
        log.exception("request %s %s failed", request.method, request.path)
        return json_response({"code": UNKNOWN, "msg": "An unknown error occurred while processing the request."},
                                 status=500)


def group_commit_middleware(core: Any) -> Any:
    """What a request writes joins the group committed once per turn of the event loop, with the other requests'
    of that turn (one SQLite commit for many orders); its answer, an error too, waits until the group is durable."""
    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        token = GROUP_COMMIT.set(True)
        try:
            return await handler(request)
        finally:
            GROUP_COMMIT.reset(token)
            await core.committed()
    return middleware


def build_app(service: Any) -> web.Application:
    app = web.Application(middlewares=[errors_middleware, group_commit_middleware(service.core),
                                       rate_limit_middleware(service)], client_max_size=1 << 20)
    PublicHandlers(service).routes(app)
    private = PrivateHandlers(service)
    private.routes(app)
    from .reserves import ReservesHandlers
    ReservesHandlers(service.config.data_dir / "por", private).routes(app)
    handlers = Handlers(service)
    app.router.add_get("/admin/ledger", handlers.ledger)
    app.router.add_post("/admin/burn", handlers.burn)
    app.router.add_get("/bourse/v1/burns", handlers.burn_report)
    app.router.add_get("/bourse/v1/listings", handlers.listings)
    app.router.add_get("/bourse/v1/settlement", handlers.settlement)
    app.router.add_post("/admin/rewards/epoch", handlers.close_reward_epoch)
    app.router.add_get("/bourse/v1/rewards", handlers.reward_epochs)
    app.router.add_get("/bourse/v1/rewards/proof", handlers.reward_proofs)
    app.router.add_get("/openapi.json", handlers.openapi)
    app.router.add_get("/ws/{stream}", handlers.websocket)
    app.router.add_get("/ws", handlers.websocket)
    app.router.add_get("/stream", handlers.websocket)
    app.router.add_get("/bourse/v1/web", handlers.web_config)
    app.router.add_get("/trade", handlers.page)
    app.router.add_get("/trade/{path:.*}", handlers.page)
    app[LEAN_ROUTES] = lean_routes(app, aiohttp_only={handlers.websocket, handlers.page})  # see front.py
    return app


TRADE_PATH = "/trade/"


def trading_site() -> Any:
    """The trading page's files (matcher/exchange/web, plus the pages' shared files under common/)."""
    from pathlib import Path

    import webui
    return webui.StaticSite(TRADE_PATH, {"": Path(__file__).resolve().parent / "web", "common/": webui.SHARED})


def rate_limit_middleware(service: Any) -> Any:
    """Binance's request weight, raw-request and order limits on /api and /sapi, with their headers."""
    limiter, clock = service.limits, service.core.clock_ms

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith(("/api/", "/sapi/")):
            return await handler(request)
        now, ip = clock(), request.remote or "?"
        headers = limiter.admit(ip, request_weight(request.path, request.method, request.query,
                                                   len(service.markets.by_symbol)), now)
        try:
            response = await handler(request)
        except ApiError as exc:
            exc.headers = {**headers, **exc.headers}
            raise
        response.headers.update(headers)
        return response

    return middleware


class Handlers:
    def __init__(self, service: Any) -> None:
        self.service = service
        self.core = service.core
        self.markets = service.markets
        self._site: Any = None

    async def ledger(self, request: web.Request) -> web.Response:
        self._check_admin(request)
        return json_response(self.service.ledger_snapshot())

    def _check_admin(self, request: web.Request) -> None:
        """The operator's bearer token (in the exchange's data dir, printed at start) or HTTP 401."""
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.startswith("Bearer ") else ""
        if not given or not hmac.compare_digest(given.encode(), self.service.admin_token.encode()):
            raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action. (/admin needs the "
                                             "operator's token: Authorization: Bearer <admin.token>)", status=401)

    async def burn(self, request: web.Request) -> web.Response:
        """Burn the collected platform-token fees now (the operator's token); what was started, or nothing."""
        self._check_admin(request)
        burns = self._burns()
        epoch = await asyncio.to_thread(self.service.vault.rpc.block_number)
        started = burns.request(epoch // burns.every_blocks if burns.every_blocks else epoch, "demand")
        return json_response(started if started is not None else {"amount": "0", "state": "NOTHING_TO_BURN"})

    async def burn_report(self, request: web.Request) -> web.Response:
        """Every burn: epoch, amount, state, transaction, block, the token's total supply before and after."""
        return json_response(self._burns().report())

    async def settlement(self, request: web.Request) -> web.Response:
        """The settlement backlog and the bound past which new orders are refused (-1008)."""
        return json_response(self.service.backlog.status())

    async def listings(self, request: web.Request) -> web.Response:
        """Every Listed event the exchange followed: round, token, market opened (or why it was refused), block."""
        if self.service.listings is None:
            raise ApiError(NOT_FOUND, "This exchange follows no listing-vote contract.", status=404)
        return json_response(self.service.listings.report())

    def _burns(self) -> Any:
        if self.service.burns is None:
            raise ApiError(NOT_FOUND, "This exchange has no platform token to burn (the vault's platform token is "
                                      "not one of its assets).", status=404)
        return self.service.burns

    async def close_reward_epoch(self, request: web.Request) -> web.Response:
        """Close a trade-mining epoch now (the operator's token): the fills settled since the last one."""
        self._check_admin(request)
        closed = self._rewards().close_epoch()
        return json_response(closed if closed is not None else {"state": "NOTHING_TO_REWARD"})

    async def reward_epochs(self, request: web.Request) -> web.Response:
        return json_response(self._rewards().epochs())

    async def reward_proofs(self, request: web.Request) -> web.Response:
        """An address's reward and Merkle proof in every published epoch (public, as the distributor's roots)."""
        from .params import params
        from .signed import address
        query = await params(request)
        return json_response(self._rewards().proofs(address(query.get("address"), "address")))

    def _rewards(self) -> Any:
        if self.service.rewards is None:
            raise ApiError(NOT_FOUND, "This exchange runs no trade mining (no distributor configured).", status=404)
        return self.service.rewards

    async def web_config(self, request: web.Request) -> web.Response:
        rpc_url = self.service.config.rpc_url.rstrip("/")
        return json_response({"rpcUrl": rpc_url, "explorerUrl": rpc_url + "/explorer/",
                                  "chainId": self.service.domain.chain_id, "settlementVault": self.service.domain.vault})

    async def page(self, request: web.Request) -> web.Response:
        """The trading page (GET /trade/...): static files with their content type, ETag and caching headers."""
        if self._site is None:
            self._site = trading_site()
        found = self._site.get(request.path_qs, request.headers.get("If-None-Match"))
        return web.Response(status=found.status, body=found.body, headers=dict(found.headers))

    async def openapi(self, request: web.Request) -> web.Response:
        from .openapi import spec_for
        return json_response(spec_for(sorted(self.markets.by_symbol)))

    # --- streams -------------------------------------------------------------------------------------------------
    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        streams = self.service.streams
        wanted = [request.match_info["stream"]] if "stream" in request.match_info else \
            [s for s in request.query.get("streams", "").split("/") if s]
        if len(wanted) == 1 and wanted[0].isdigit():
            wanted = []  # ccxt.pro's /ws/<connection number>: it subscribes by message, as Binance allows
        subscriber = Subscriber(combined=request.path == "/stream")
        for name in wanted:
            if not _subscribe(subscriber, streams, name):
                raise ApiError(MALFORMED, f"unknown stream {name} (or a listenKey that does not exist)")
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        streams.subscribers.add(subscriber)
        import asyncio
        writer = asyncio.create_task(_write(ws, subscriber))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await ws.send_str(json.dumps(_control(subscriber, streams, message.data)))
        finally:
            streams.subscribers.discard(subscriber)
            writer.cancel()
        return ws


def _subscribe(subscriber: Subscriber, streams: Any, name: object) -> bool:
    """A market stream by name, or a user stream by its listenKey (never by address)."""
    internal = streams.normalize(name)
    if internal is None:
        internal = streams.user_stream(name)
        if internal is None:
            return False
        subscriber.aliases[internal] = name  # type: ignore[assignment]
    subscriber.streams.add(internal)
    return True


async def _write(ws: web.WebSocketResponse, subscriber: Subscriber) -> None:
    while not ws.closed:
        text = await subscriber.queue.get()
        if subscriber.overflowed or text is None:
            await ws.close(message=b"subscriber too slow")
            return
        await ws.send_str(text)


def _control(subscriber: Subscriber, streams: Any, text: str) -> dict[str, Any]:
    """Binance's live SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY messages, with
    its error codes (0 unknown property, 1 invalid value type, 2 invalid request, 3 invalid JSON)."""
    try:
        request = json.loads(text)
    except ValueError as exc:
        return {"error": {"code": 3, "msg": f"Invalid JSON: {exc}"}, "id": None}
    if not isinstance(request, dict):
        return {"error": {"code": 2, "msg": "Invalid request: expected a JSON object"}, "id": None}
    method, request_id, args = request.get("method"), request.get("id"), request.get("params")
    if request_id is not None and (isinstance(request_id, bool) or not isinstance(request_id, (int, str))):
        return {"error": {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer or a string"},
                "id": None}
    methods = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
    if method not in methods:
        return {"error": {"code": 2, "msg": f"Invalid request: unknown variant {method}, expected one of "
                                            f"{', '.join(methods)}"}, "id": request_id}
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        if not isinstance(args, list) or not args:
            return {"error": {"code": 2, "msg": "Invalid request: params must be a non-empty list of streams"},
                    "id": request_id}
        resolved = [streams.normalize(a) or streams.user_stream(a) for a in args]
        unknown = [a for a, n in zip(args, resolved) if n is None]
        if unknown:
            return {"error": {"code": 2, "msg": f"Invalid request: unknown stream {unknown[0]}"}, "id": request_id}
        if method == "SUBSCRIBE":
            for name in args:
                _subscribe(subscriber, streams, name)
        else:
            subscriber.streams.difference_update(resolved)  # type: ignore[arg-type]
        return {"result": None, "id": request_id}
    if method == "LIST_SUBSCRIPTIONS":
        return {"result": sorted(subscriber.aliases.get(s, s) for s in subscriber.streams), "id": request_id}
    if not isinstance(args, list) or not args or not isinstance(args[0], str):
        return {"error": {"code": 2, "msg": "Invalid request: property name must be a string"}, "id": request_id}
    if args[0] != "combined":
        return {"error": {"code": 0, "msg": "Unknown property"}, "id": request_id}
    if method == "GET_PROPERTY":
        return {"result": subscriber.combined, "id": request_id}
    if len(args) != 2 or not isinstance(args[1], bool):
        return {"error": {"code": 1, "msg": "Invalid value type: expected Boolean"}, "id": request_id}
    subscriber.combined = args[1]
    return {"result": None, "id": request_id}


def _int(value: Any, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ApiError(MALFORMED, f"Parameter '{field}' must be an integer.")


__all__ = ["build_app"]

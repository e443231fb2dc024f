"""The REST API under /api/v3 in Binance's shapes, WebSocket streams, and /openapi.json (aiohttp).

Errors are `{"code": ..., "msg": ...}` with HTTP 400 (404 for unknown paths, 500 for bugs, which are logged and
never shown). Handlers run on the event loop, the exchange core's only thread.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from aiohttp import WSMsgType, web

from . import store
from .errors import MALFORMED, NO_SUCH_ORDER, NOT_FOUND, REJECTED_MBX_KEY, UNKNOWN, ApiError
from .params import limit, params
from .public import MAX_LIMIT, PublicHandlers
from .ratelimits import ORDER_PATHS, request_weight
from .intake import parse_cancel, parse_cancel_all, parse_order, parse_withdraw
from .signed import address
from .streams import Subscriber
from .views import my_trade_view, order_view, trade_view

log = logging.getLogger("bourse.exchange.api")


@web.middleware
async def errors_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response(exc.body(), status=exc.status, headers=exc.headers)
    except web.HTTPException as exc:
        if exc.status == 404:
            return web.json_response({"code": NOT_FOUND, "msg": f"no such endpoint: {request.method} "
                                                               f"{request.path}"}, status=404)
        if exc.status == 405:
            allowed = getattr(exc, "allowed_methods", None) or ()
            return web.json_response({"code": NOT_FOUND, "msg": f"method {request.method} is not allowed on "
                                                               f"{request.path}"}, status=405,
                                     headers={"Allow": ",".join(sorted(allowed))})
        raise
    except Exception:
        log.exception("request %s %s failed", request.method, request.path)
        return web.json_response({"code": UNKNOWN, "msg": "An unknown error occurred while processing the request."},
                                 status=500)


def build_app(service: Any) -> web.Application:
    app = web.Application(middlewares=[errors_middleware, rate_limit_middleware(service)], client_max_size=1 << 20)
    PublicHandlers(service).routes(app)
    handlers = Handlers(service)
    app.router.add_post("/api/v3/order", handlers.new_order)
    app.router.add_post("/api/v3/order/cancelReplace", handlers.cancel_replace)
    app.router.add_delete("/api/v3/order", handlers.cancel_order)
    app.router.add_get("/api/v3/order", handlers.get_order)
    app.router.add_delete("/api/v3/openOrders", handlers.cancel_open_orders)
    app.router.add_get("/api/v3/openOrders", handlers.open_orders)
    app.router.add_get("/api/v3/allOrders", handlers.all_orders)
    app.router.add_get("/api/v3/myTrades", handlers.my_trades)
    app.router.add_get("/api/v3/account", handlers.account)
    app.router.add_post("/api/v3/withdraw", handlers.withdraw)
    app.router.add_get("/api/v3/withdrawals", handlers.withdrawals)
    app.router.add_get("/admin/ledger", handlers.ledger)
    app.router.add_get("/openapi.json", handlers.openapi)
    app.router.add_get("/ws/{stream}", handlers.websocket)
    app.router.add_get("/ws", handlers.websocket)
    app.router.add_get("/stream", handlers.websocket)
    return app


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
        if (request.method, request.path) in ORDER_PATHS:
            headers.update(limiter.count_order(ip, now))
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

    # --- orders -------------------------------------------------------------------------------------------------
    async def new_order(self, request: web.Request) -> web.Response:
        body = await params(request)
        return web.json_response(self.service.place(parse_order(body, self.markets, self.service.domain,
                                                                self.core.clock_ms())))

    async def cancel_replace(self, request: web.Request) -> web.Response:
        from matcher.model import CancelOrder

        from .intake import parse_cancel_replace
        order, order_id, client_id, allow_failure = parse_cancel_replace(
            await params(request), self.markets, self.service.domain, self.core.clock_ms())
        command = order.command
        cancel = CancelOrder(command.account, command.symbol, order_id, client_id, command.ts)
        return web.json_response(self.service.cancel_replace(order, cancel, allow_failure))

    async def cancel_order(self, request: web.Request) -> web.Response:
        maker, symbol, order_id, client_id = parse_cancel(await params(request), self.markets, self.service.domain,
                                                          self.core.clock_ms())
        return web.json_response(self.service.cancel(maker, symbol, order_id, client_id))

    async def cancel_open_orders(self, request: web.Request) -> web.Response:
        maker, symbol = parse_cancel_all(await params(request), self.markets, self.service.domain,
                                         self.core.clock_ms())
        open_ids = [o.order_id for o in self.core.engine.orders.values() if o.account == maker and o.symbol == symbol]
        return web.json_response([self.service.cancel(maker, symbol, order_id, "") for order_id in sorted(open_ids)])

    async def get_order(self, request: web.Request) -> web.Response:
        query = await params(request)
        market = self.markets.get(query.get("symbol"))
        account = address(query.get("address"), "address")
        if query.get("orderId"):
            row = store.one(self.core.db, "SELECT * FROM orders WHERE order_id = ? AND account = ? AND symbol = ?",
                            _int(query["orderId"], "orderId"), account, market.symbol)
        elif query.get("origClientOrderId"):
            row = store.one(self.core.db, "SELECT * FROM orders WHERE client_order_id = ? AND account = ? AND "
                            "symbol = ? ORDER BY order_id DESC LIMIT 1", query["origClientOrderId"], account,
                            market.symbol)
        else:
            raise ApiError(MALFORMED, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        if row is None:
            raise ApiError(NO_SUCH_ORDER, "Order does not exist.")
        return web.json_response(order_view(row, market))

    async def open_orders(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = address(query.get("address"), "address")
        sql = "SELECT * FROM orders WHERE account = ? AND status IN ('NEW', 'PARTIALLY_FILLED')"
        args: list[Any] = [account]
        if query.get("symbol"):
            sql += " AND symbol = ?"
            args.append(self.markets.get(query["symbol"]).symbol)
        rows = store.rows(self.core.db, sql + " ORDER BY order_id", *args)
        return web.json_response([order_view(r, self.markets.get(r["symbol"])) for r in rows])

    async def all_orders(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = address(query.get("address"), "address")
        market = self.markets.get(query.get("symbol"))
        rows = store.rows(self.core.db, "SELECT * FROM orders WHERE account = ? AND symbol = ? AND order_id >= ? "
                          "ORDER BY order_id LIMIT ?", account, market.symbol, _int(query.get("orderId", 0), "orderId"),
                          limit(query, 500, MAX_LIMIT))
        return web.json_response([order_view(r, market) for r in rows])

    async def my_trades(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = address(query.get("address"), "address")
        market = self.markets.get(query.get("symbol"))
        rows = store.rows(self.core.db, "SELECT * FROM trades WHERE symbol = ? AND (maker = ? OR taker = ?) AND "
                          "trade_id >= ? ORDER BY trade_id LIMIT ?", market.symbol, account, account,
                          _int(query.get("fromId", 0), "fromId"), limit(query, 500, MAX_LIMIT))
        return web.json_response([my_trade_view(r, market, account) for r in rows])

    async def account(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = address(query.get("address"), "address")
        from .views import asset_text
        balances = [{"asset": asset, "free": asset_text(self.markets, asset, free),
                     "locked": asset_text(self.markets, asset, locked), "freeUnits": str(free),
                     "lockedUnits": str(locked)}
                    for asset, (free, locked) in sorted(self.core.balances(account).items())]
        return web.json_response({"makerCommission": 0, "takerCommission": 0, "canTrade": True, "canWithdraw": True,
                                  "canDeposit": True, "updateTime": self.core.clock_ms(), "accountType": "SPOT",
                                  "address": account, "balances": balances, "permissions": ["SPOT"]})

    async def withdraw(self, request: web.Request) -> web.Response:
        user, asset, token, amount, nonce = parse_withdraw(await params(request), self.markets, self.service.domain)
        return web.json_response(self.service.request_withdrawal(user, asset, token, amount, nonce))

    async def withdrawals(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = address(query.get("address"), "address")
        rows = store.rows(self.core.db, "SELECT id, asset, token, amount, nonce, state, reason, tx_hash, block, "
                          "created_ms FROM withdrawals WHERE account = ? ORDER BY id", account)
        return web.json_response([{**r, "amount": str(r["amount"]), "nonce": str(r["nonce"])} for r in rows])

    async def ledger(self, request: web.Request) -> web.Response:
        self._check_admin(request)
        return web.json_response(self.service.ledger_snapshot())

    def _check_admin(self, request: web.Request) -> None:
        """The operator's bearer token (in the exchange's data dir, printed at start) or HTTP 401."""
        header = request.headers.get("Authorization", "")
        given = header[7:].strip() if header.startswith("Bearer ") else ""
        if not given or not hmac.compare_digest(given.encode(), self.service.admin_token.encode()):
            raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action. (/admin needs the "
                                             "operator's token: Authorization: Bearer <admin.token>)", status=401)

    async def openapi(self, request: web.Request) -> web.Response:
        from .openapi import spec_for
        return web.json_response(spec_for(sorted(self.markets.by_symbol)))

    # --- streams -------------------------------------------------------------------------------------------------
    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        streams = self.service.streams
        wanted = [request.match_info["stream"]] if "stream" in request.match_info else \
            [s for s in request.query.get("streams", "").split("/") if s]
        names = [streams.normalize(s) for s in wanted]
        if any(n is None for n in names):
            raise ApiError(MALFORMED, f"unknown stream in {wanted}")
        ws = web.WebSocketResponse(heartbeat=30)
        await ws.prepare(request)
        subscriber = Subscriber(combined=request.path == "/stream")
        subscriber.streams.update(n for n in names if n)
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
        names = [streams.normalize(s) for s in args]
        unknown = [a for a, n in zip(args, names) if n is None]
        if unknown:
            return {"error": {"code": 2, "msg": f"Invalid request: unknown stream {unknown[0]}"}, "id": request_id}
        if method == "SUBSCRIBE":
            subscriber.streams.update(names)  # type: ignore[arg-type]
        else:
            subscriber.streams.difference_update(names)  # type: ignore[arg-type]
        return {"result": None, "id": request_id}
    if method == "LIST_SUBSCRIPTIONS":
        return {"result": sorted(subscriber.streams), "id": request_id}
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

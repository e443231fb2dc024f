"""Binance's trading and account endpoints. Each answers only to proof: an API key's signature (Binance's way) or
the account's own EIP-712 signature (a signed order, cancel or withdrawal; for reads, a `Read` message over the
path and a timestamp). Withdrawals take only the account's own signature, never an API key."""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from matcher.model import CancelOrder

from . import store
from .agent_orders import agent_order_steps
from .apikeys import ED25519, HMAC, READ, TRADE, Principal, check_timestamp
from .curve_worker import run_off_loop
from .errors import MALFORMED, NO_SUCH_ORDER, REJECTED_MBX_KEY, ApiError
from .intake import order_steps, parse_cancel, parse_cancel_all, parse_cancel_replace, parse_withdraw
from .order_lists import leg_params
from .params import integer, limit, params
from .responses import json_response
from .signed import address, check_signer, exchange_message, message_digest
from .views import asset_text, my_trade_view, order_view

MAX_LIMIT = 1000
LISTEN_KEY_TTL_MS = 60 * 60_000
AGENT_APPROVAL_DAYS = 30
MISSING_KEY = "API-key format invalid. (send X-MBX-APIKEY with a signed request, or address, timestamp and an " \
              "EIP-712 Read signature)"


class PrivateHandlers:
    def __init__(self, service: Any) -> None:
        self.service = service
        self.core = service.core
        self.markets = service.markets
        self.keys = service.keys

    def routes(self, app: web.Application) -> None:
        r = app.router
        r.add_post("/api/v3/order", self.new_order)
        r.add_post("/api/v3/order/test", self.test_order)
        r.add_post("/api/v3/order/cancelReplace", self.cancel_replace)
        r.add_delete("/api/v3/order", self.cancel_order)
        r.add_put("/api/v3/order/amend/keepPriority", self.amend_keep_priority)
        r.add_post("/api/v3/orderList/oco", self.new_oco)
        r.add_post("/api/v3/orderList/oto", self.new_oto)
        r.add_post("/api/v3/orderList/otoco", self.new_otoco)
        r.add_delete("/api/v3/orderList", self.cancel_order_list)
        r.add_get("/api/v3/orderList", self.get_order_list)
        r.add_get("/api/v3/allOrderList", self.all_order_lists)
        r.add_get("/api/v3/openOrderList", self.open_order_lists)
        r.add_get("/api/v3/order", self.get_order)
        r.add_delete("/api/v3/openOrders", self.cancel_open_orders)
        r.add_get("/api/v3/openOrders", self.open_orders)
        r.add_get("/api/v3/allOrders", self.all_orders)
        r.add_get("/api/v3/myTrades", self.my_trades)
        r.add_get("/api/v3/account", self.account)
        r.add_get("/api/v3/account/commission", self.commission)
        r.add_get("/api/v3/rateLimit/order", self.order_rate_limits)
        r.add_get("/api/v3/myPreventedMatches", self.prevented_matches)
        r.add_post("/api/v3/withdraw", self.withdraw)
        r.add_get("/api/v3/withdrawals", self.withdrawals)
        r.add_post("/api/v3/userDataStream", self.new_listen_key)
        r.add_put("/api/v3/userDataStream", self.keep_listen_key)
        r.add_delete("/api/v3/userDataStream", self.close_listen_key)
        r.add_post("/bourse/v1/apiKey/agent", self.new_agent)
        r.add_post("/bourse/v1/apiKey", self.create_api_key)
        r.add_get("/bourse/v1/apiKey", self.list_api_keys)
        r.add_delete("/bourse/v1/apiKey", self.delete_api_key)

    # --- who is asking ------------------------------------------------------------------------------------------
    async def principal(self, request: web.Request, query: dict[str, Any]) -> Principal:
        now = self.core.clock_ms()
        api_key = request.headers.get("X-MBX-APIKEY")
        if api_key is not None:
            raw_body = (await request.read()).decode("utf-8", "replace") if request.body_exists else ""
            return self.keys.authenticate(api_key, request.remote or "", request.rel_url.raw_query_string, raw_body,
                                          query, now)
        if "address" in query and "signature" in query:
            account = address(query["address"], "address")
            check_timestamp(query, now)
            typed = exchange_message("Read", {"account": account, "method": request.method, "path": request.path,
                                              "timestamp": int(query["timestamp"])}, self.service.domain)
            check_signer(message_digest(typed), query["signature"], account)
            return Principal(account)
        raise ApiError(-2014, MISSING_KEY, status=401)

    async def trader(self, request: web.Request, query: dict[str, Any]) -> Principal:
        principal = await self.principal(request, query)
        if principal.api_key is not None and not principal.can_trade:
            raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action.", status=401)
        return principal

    # --- orders -------------------------------------------------------------------------------------------------
    async def _parse_new_order(self, query: dict[str, Any], principal: Principal | None) -> Any:
        """The secp256k1 work - recovering a signed order's signer, signing an API-key order with its agent - is
        done off the event loop (`curve_worker`)."""
        now = self.core.clock_ms()
        if principal is not None:
            steps = agent_order_steps(query, principal, self.keys, self.markets, self.service.domain,
                                      self.core.engine, now)
        else:
            steps = order_steps({k: v for k, v in query.items() if k != "newOrderRespType"}, self.markets,
                                self.service.domain, now)
        return await run_off_loop(steps, self.service.curve)

    async def new_order(self, request: web.Request) -> web.Response:
        query = await params(request)
        principal = await self.trader(request, query) if "X-MBX-APIKEY" in request.headers else None
        order = await self._parse_new_order(query, principal)
        headers = self._count_order(order.command.account)
        placed = self.service.place(order, agent=principal.agent if principal is not None else None)
        return json_response(respond(placed, query.get("newOrderRespType"), order.command.type.value),
                                 headers=headers)

    def _count_order(self, account: str) -> dict[str, str]:
        """Binance counts ORDERS per account: a refusal (429, -1015) places nothing."""
        return self.service.limits.count_order(account, self.core.clock_ms())

    async def test_order(self, request: web.Request) -> web.Response:
        """Validate as a new order would be (signature, filters, nonce) without placing it."""
        query = await params(request)
        compute = str(query.pop("computeCommissionRates", "false")).lower() == "true"
        principal = await self.trader(request, query) if "X-MBX-APIKEY" in request.headers else None
        order = await self._parse_new_order(query, principal)
        self.service.check_filters(order)
        if not compute:
            return json_response({})
        rates = _commission(order.market.spec)
        return json_response({"standardCommissionForOrder": rates["standardCommission"],
                                  "taxCommissionForOrder": rates["taxCommission"], "discount": rates["discount"]})

    async def cancel_replace(self, request: web.Request) -> web.Response:
        order, order_id, client_id, allow_failure = parse_cancel_replace(
            await params(request), self.markets, self.service.domain, self.core.clock_ms())
        command = order.command
        cancel = CancelOrder(command.account, command.symbol, order_id, client_id, command.ts)
        headers = self._count_order(command.account)
        return json_response(self.service.cancel_replace(order, cancel, allow_failure), headers=headers)

    async def cancel_order(self, request: web.Request) -> web.Response:
        query = await params(request)
        if "X-MBX-APIKEY" in request.headers:
            principal = await self.trader(request, query)
            symbol = self.markets.get(query.get("symbol")).symbol
            order_id, client_id = integer(query, "orderId", 0, low=0), query.get("origClientOrderId", "")
            if not order_id and not client_id:
                raise ApiError(MALFORMED, "Param 'origClientOrderId' or 'orderId' must be sent, but both were "
                                          "empty/null!")
            return json_response(self.service.cancel(principal.account, symbol, order_id, client_id))
        maker, symbol, order_id, client_id = parse_cancel(query, self.markets, self.service.domain,
                                                          self.core.clock_ms())
        return json_response(self.service.cancel(maker, symbol, order_id, client_id))

    async def cancel_open_orders(self, request: web.Request) -> web.Response:
        query = await params(request)
        if "X-MBX-APIKEY" in request.headers:
            maker = (await self.trader(request, query)).account
            symbol = self.markets.get(query.get("symbol")).symbol
        else:
            maker, symbol = parse_cancel_all(query, self.markets, self.service.domain, self.core.clock_ms())
        open_ids = [o.order_id for o in self.core.engine.orders.values() if o.account == maker and o.symbol == symbol]
        return json_response([self.service.cancel(maker, symbol, order_id, "") for order_id in sorted(open_ids)])

    async def amend_keep_priority(self, request: web.Request) -> web.Response:
        """Binance's amend: lower an open order's quantity, keeping its place in the queue (an API key with TRADE;
        the signed vault order still bounds every fill)."""
        query = await params(request)
        if "X-MBX-APIKEY" not in request.headers:
            raise ApiError(-2014, MISSING_KEY, status=401)
        account = (await self.trader(request, query)).account
        market = self.markets.get(query.get("symbol"))
        order_id, client_id = integer(query, "orderId", 0, low=0), query.get("origClientOrderId", "")
        if not order_id and not client_id:
            raise ApiError(MALFORMED, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        if query.get("newQty") is None:
            raise ApiError(MALFORMED, "Mandatory parameter 'newQty' was not sent, was empty/null, or malformed.")
        new_qty = market.lots(query["newQty"], "newQty")
        return json_response(self.service.amend(account, market, order_id, str(client_id), new_qty))

    # --- order lists (API key) ----------------------------------------------------------------------------------
    async def _list_principal(self, request: web.Request, query: dict[str, Any]) -> Principal:
        if "X-MBX-APIKEY" not in request.headers:
            raise ApiError(-2014, MISSING_KEY + " (order lists are placed with an API key)", status=401)
        return await self.trader(request, query)

    async def new_oco(self, request: web.Request) -> web.Response:
        query = await params(request)
        principal = await self._list_principal(request, query)
        symbol, side, quantity = self._list_basics(query, "side", "quantity")
        legs = {role: leg_params(query, role, side, quantity, symbol) for role in ("above", "below")}
        return await self._place_list(request, query, principal, "OCO", symbol, legs)

    async def new_oto(self, request: web.Request) -> web.Response:
        query = await params(request)
        principal = await self._list_principal(request, query)
        symbol, side, quantity = self._list_basics(query, "workingSide", "workingQuantity")
        _, pending_side, pending_quantity = self._list_basics(query, "pendingSide", "pendingQuantity")
        legs = {"working": leg_params(query, "working", side, quantity, symbol),
                "pending": leg_params(query, "pending", pending_side, pending_quantity, symbol)}
        return await self._place_list(request, query, principal, "OTO", symbol, legs)

    async def new_otoco(self, request: web.Request) -> web.Response:
        query = await params(request)
        principal = await self._list_principal(request, query)
        symbol, side, quantity = self._list_basics(query, "workingSide", "workingQuantity")
        _, pending_side, pending_quantity = self._list_basics(query, "pendingSide", "pendingQuantity")
        legs = {"working": leg_params(query, "working", side, quantity, symbol),
                "pendingAbove": leg_params(query, "pendingAbove", pending_side, pending_quantity, symbol),
                "pendingBelow": leg_params(query, "pendingBelow", pending_side, pending_quantity, symbol)}
        return await self._place_list(request, query, principal, "OTOCO", symbol, legs)

    def _list_basics(self, query: dict[str, Any], side_field: str, quantity_field: str) -> tuple[str, str, str]:
        symbol = self.markets.get(query.get("symbol")).symbol
        side, quantity = query.get(side_field), query.get(quantity_field)
        if side not in ("BUY", "SELL"):
            raise ApiError(MALFORMED, f"Mandatory parameter '{side_field}' was not sent, was empty/null, or malformed.")
        if quantity in (None, ""):
            raise ApiError(MALFORMED, f"Mandatory parameter '{quantity_field}' was not sent, was empty/null, or "
                                      "malformed.")
        return symbol, side, str(quantity)

    async def _place_list(self, request: web.Request, query: dict[str, Any], principal: Principal, kind: str,
                          symbol: str, legs: dict[str, dict[str, Any]]) -> web.Response:
        headers = {}
        for _ in range(2 if kind == "OCO" else 1):
            headers = self._count_order(principal.account)
        view = self.service.order_lists.place(kind, symbol, principal, str(query.get("listClientOrderId", "")),
                                              legs)
        self.service.streams.publish_list_status(principal.account, view, self.core.clock_ms())
        return json_response(view, headers=headers)

    async def cancel_order_list(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = (await self._list_principal(request, query)).account
        lists = self.service.order_lists
        list_id = lists.find(account, integer(query, "orderListId", low=0), query.get("listClientOrderId"))
        return json_response(lists.cancel(account, list_id))

    async def get_order_list(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = (await self.principal(request, query)).account
        lists = self.service.order_lists
        return json_response(lists.view(lists.find(account, integer(query, "orderListId", low=0),
                                                        query.get("origClientOrderId"))))

    async def all_order_lists(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = (await self.principal(request, query)).account
        return json_response(self.service.order_lists.of(account, False, limit(query, 500, MAX_LIMIT)))

    async def open_order_lists(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = (await self.principal(request, query)).account
        return json_response(self.service.order_lists.of(account, True, MAX_LIMIT))

    # --- reads --------------------------------------------------------------------------------------------------
    async def get_order(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = (await self.principal(request, query)).account
        market = self.markets.get(query.get("symbol"))
        if query.get("orderId"):
            row = store.one(self.core.db, "SELECT * FROM orders WHERE order_id = ? AND account = ? AND symbol = ?",
                            integer(query, "orderId", low=0), account, market.symbol)
        elif query.get("origClientOrderId"):
            row = store.one(self.core.db, "SELECT * FROM orders WHERE client_order_id = ? AND account = ? AND "
                            "symbol = ? ORDER BY order_id DESC LIMIT 1", query["origClientOrderId"], account,
                            market.symbol)
        else:
            raise ApiError(MALFORMED, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        if row is None:
            raise ApiError(NO_SUCH_ORDER, "Order does not exist.")
        return json_response(order_view(row, market))

    async def open_orders(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = (await self.principal(request, query)).account
        sql = "SELECT * FROM orders WHERE account = ? AND status IN ('NEW', 'PARTIALLY_FILLED')"
        args: list[Any] = [account]
        if query.get("symbol"):
            sql += " AND symbol = ?"
            args.append(self.markets.get(query["symbol"]).symbol)
        rows = store.rows(self.core.db, sql + " ORDER BY order_id", *args)
        return json_response([order_view(r, self.markets.get(r["symbol"])) for r in rows])

    async def all_orders(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = (await self.principal(request, query)).account
        market = self.markets.get(query.get("symbol"))
        sql, args = "SELECT * FROM orders WHERE account = ? AND symbol = ? AND order_id >= ?", \
            [account, market.symbol, integer(query, "orderId", 0, low=0)]
        sql, args = _time_range(sql, args, query, "created_ms")
        rows = store.rows(self.core.db, sql + " ORDER BY order_id LIMIT ?", *args, limit(query, 500, MAX_LIMIT))
        return json_response([order_view(r, market) for r in rows])

    async def my_trades(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = (await self.principal(request, query)).account
        market = self.markets.get(query.get("symbol"))
        sql = "SELECT * FROM trades WHERE symbol = ? AND (maker = ? OR taker = ?) AND trade_id >= ?"
        args: list[Any] = [market.symbol, account, account, integer(query, "fromId", 0, low=0)]
        order_id = integer(query, "orderId", low=0)
        if order_id is not None:
            sql, args = sql + " AND (maker_order_id = ? OR taker_order_id = ?)", [*args, order_id, order_id]
        sql, args = _time_range(sql, args, query, "time_ms")
        rows = store.rows(self.core.db, sql + " ORDER BY trade_id LIMIT ?", *args, limit(query, 500, MAX_LIMIT))
        return json_response([my_trade_view(r, market, account) for r in rows])

    async def account(self, request: web.Request) -> web.Response:
        query = await params(request)
        principal = await self.principal(request, query)
        account = principal.account
        balances = [{"asset": asset, "free": asset_text(self.markets, asset, free),
                     "locked": asset_text(self.markets, asset, locked), "freeUnits": str(free),
                     "lockedUnits": str(locked)}
                    for asset, (free, locked) in sorted(self.core.balances(account).items())
                    if free or locked or str(query.get("omitZeroBalances", "false")).lower() != "true"]
        return json_response({
            "makerCommission": 0, "takerCommission": 0, "buyerCommission": 0, "sellerCommission": 0,
            "commissionRates": {"maker": _bps(0), "taker": _bps(0), "buyer": _bps(0), "seller": _bps(0)},
            "canTrade": principal.api_key is None or principal.can_trade, "canWithdraw": principal.api_key is None,
            "canDeposit": True, "brokered": False, "requireSelfTradePrevention": False, "preventSor": False,
            "updateTime": self.core.clock_ms(), "accountType": "SPOT", "address": account, "uid": 0,
            "balances": balances, "permissions": ["SPOT"]})

    async def commission(self, request: web.Request) -> web.Response:
        query = await params(request)
        await self.principal(request, query)
        spec = self.markets.get(query.get("symbol")).spec
        return json_response({"symbol": spec.symbol, **_commission(spec, with_sides=True)})

    async def order_rate_limits(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = (await self.principal(request, query)).account
        return json_response(self.service.limits.order_usage(account, self.core.clock_ms()))

    async def prevented_matches(self, request: web.Request) -> web.Response:
        """Orders that self-trade prevention expired (EXPIRED_IN_MATCH), Binance's shape."""
        query = await params(request)
        account = (await self.principal(request, query)).account
        market = self.markets.get(query.get("symbol"))
        rows = store.rows(self.core.db, "SELECT * FROM orders WHERE account = ? AND symbol = ? AND status = "
                          "'EXPIRED_IN_MATCH' ORDER BY order_id LIMIT ?", account, market.symbol,
                          limit(query, 500, MAX_LIMIT))
        return json_response([{"symbol": r["symbol"], "preventedMatchId": r["order_id"],
                                   "takerOrderId": r["order_id"], "makerSymbol": r["symbol"],
                                   "tradeGroupId": -1, "selfTradePreventionMode": r["stp"],
                                   "price": market.price_text(r["price"]),
                                   "makerPreventedQuantity": market.qty_text(r["qty"] - r["filled"]),
                                   "transactTime": r["updated_ms"]} for r in rows])

    # --- withdrawals: the account's own signature only ----------------------------------------------------------
    async def withdraw(self, request: web.Request) -> web.Response:
        if "X-MBX-APIKEY" in request.headers:
            raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action. (withdrawals need the "
                                             "account's own EIP-712 signature)", status=401)
        user, asset, token, amount, nonce = parse_withdraw(await params(request), self.markets, self.service.domain)
        return json_response(self.service.request_withdrawal(user, asset, token, amount, nonce))

    async def withdrawals(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = (await self.principal(request, query)).account
        rows = store.rows(self.core.db, "SELECT id, asset, token, amount, nonce, state, reason, tx_hash, block, "
                          "created_ms FROM withdrawals WHERE account = ? ORDER BY id", account)
        return json_response([{**r, "amount": str(r["amount"]), "nonce": str(r["nonce"])} for r in rows])

    # --- user data stream ----------------------------------------------------------------------------------------
    async def new_listen_key(self, request: web.Request) -> web.Response:
        """Binance's listenKey (API key only: the header, no signature; or an EIP-712 Read)."""
        query = await params(request)
        account = self._key_holder(request) if "X-MBX-APIKEY" in request.headers else \
            (await self.principal(request, query)).account
        return json_response({"listenKey": self.service.streams.listen_keys.create(account,
                                                                                        self.core.clock_ms())})

    async def keep_listen_key(self, request: web.Request) -> web.Response:
        query = await params(request)
        self.service.streams.listen_keys.keep(query.get("listenKey"), self.core.clock_ms())
        return json_response({})

    async def close_listen_key(self, request: web.Request) -> web.Response:
        query = await params(request)
        self.service.streams.close_listen_key(query.get("listenKey"), self.core.clock_ms())
        return json_response({})

    def _key_holder(self, request: web.Request) -> str:
        found = self.keys.lookup(request.headers["X-MBX-APIKEY"])
        if found is None:
            raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action.", status=401)
        return found["account"]

    # --- API keys ------------------------------------------------------------------------------------------------
    async def new_agent(self, request: web.Request) -> web.Response:
        """Step 1: a fresh agent key for `address`; the maker approves it on the vault (approveAgent)."""
        query = await params(request)
        account = address(query.get("address"), "address")
        days = integer(query, "days", AGENT_APPROVAL_DAYS, low=1, high=365)
        expiry = self.core.clock_ms() // 1000 + days * 86_400  # type: ignore[operator]
        agent = self.keys.new_agent(account, expiry, self.core.clock_ms())
        import asyncio

        from contracts.settlement import agent_approval

        from .vault import approve_agent_calldata
        nonce = await asyncio.to_thread(self.service.vault.agent_nonce, account)
        domain = self.service.domain
        return json_response({"address": account, "agent": agent, "expiry": expiry, "agentNonce": nonce,
                                  "approve": {"to": self.service.vault.address,
                                              "data": "0x" + approve_agent_calldata(agent, expiry).hex()},
                                  "agentApproval": agent_approval(account, agent, expiry, nonce, domain.chain_id,
                                                                  domain.vault)})

    async def create_api_key(self, request: web.Request) -> web.Response:
        """Step 2: once the vault shows the approval, the maker's EIP-712 ApiKeyGrant makes the key."""
        query = await params(request)
        account = address(query.get("address"), "address")
        agent_address = address(query.get("agent"), "agent")
        kind = query.get("keyType", HMAC)
        permissions = query.get("permissions", TRADE)
        if kind not in (HMAC, ED25519) or permissions not in (TRADE, READ):
            raise ApiError(-1100, f"keyType is {HMAC} or {ED25519}; permissions {TRADE} or {READ}.")
        public_key, allowlist, label = str(query.get("publicKey", "")), str(query.get("ipAllowlist", "")), \
            str(query.get("label", ""))
        if kind == ED25519 and "BEGIN PUBLIC KEY" not in public_key:
            raise ApiError(MALFORMED, "An ED25519 key needs publicKey: the PEM of the user's Ed25519 public key.")
        check_timestamp(query, self.core.clock_ms())
        grant = {"maker": account, "agent": agent_address, "permissions": permissions, "keyType": kind,
                 "publicKey": public_key, "ipAllowlist": allowlist, "label": label,
                 "timestamp": int(query["timestamp"])}
        check_signer(message_digest(exchange_message("ApiKeyGrant", grant, self.service.domain)),
                     query.get("signature"), account)
        agent = self.keys.agent(agent_address)
        if agent is None or agent["account"] != account or agent["state"] == "REVOKED":
            raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action. (unknown agent: ask "
                                             "/bourse/v1/apiKey/agent first)", status=401)
        import asyncio
        if query.get("approvalSignature"):  # the maker's signed AgentApproval: the operator submits it
            from contracts.settlement import agent_approval, typed_digest
            nonce = integer(query, "agentNonce", low=0)
            if nonce is None:
                raise ApiError(MALFORMED, "Mandatory parameter 'agentNonce' was not sent, was empty/null, or "
                                          "malformed.")
            domain = self.service.domain
            digest = typed_digest(agent_approval(account, agent_address, agent["expiry"], nonce, domain.chain_id,
                                                 domain.vault))
            check_signer(digest, query["approvalSignature"], account)
            self.keys.queue_approval(account, agent_address, agent["expiry"], nonce, query["approvalSignature"])
            expiry = agent["expiry"]
        else:
            expiry = await asyncio.to_thread(self.service.vault.agent_expiry, account, agent_address)
            if expiry <= self.core.clock_ms() // 1000:
                raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action. (the vault does "
                                                 "not show the agent approved: send approveAgent, or sign the "
                                                 "AgentApproval as approvalSignature)", status=401)
            self.keys.set_agent_state(agent_address, "APPROVED", expiry)
        api_key, secret = self.keys.create_key(account, agent_address, kind, permissions,
                                               [ip for ip in allowlist.split(",") if ip], label,
                                               public_key or None, self.core.clock_ms())
        out = {"apiKey": api_key, "keyType": kind, "agent": agent_address, "agentExpiry": expiry,
               "agentState": self.keys.agent(agent_address)["state"], "permissions": [permissions]}  # type: ignore
        if secret is not None:
            out["secretKey"] = secret
        return json_response(out)

    async def list_api_keys(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = (await self.principal(request, query)).account
        return json_response(self.keys.keys_of(account))

    async def delete_api_key(self, request: web.Request) -> web.Response:
        query = await params(request)
        account = (await self.principal(request, query)).account
        if not self.keys.delete_key(account, str(query.get("apiKey", ""))):
            raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action.", status=401)
        return json_response({})


def respond(placed: dict[str, Any], kind: Any, order_type: str) -> dict[str, Any]:
    """Binance's newOrderRespType: ACK, RESULT or FULL (the default for LIMIT and MARKET, ACK for the rest)."""
    kind = kind or ("FULL" if order_type in ("LIMIT", "MARKET") else "ACK")
    if kind not in ("ACK", "RESULT", "FULL"):
        raise ApiError(-1100, "Invalid newOrderRespType: ACK, RESULT or FULL.")
    if kind == "ACK":
        return {k: placed[k] for k in ("symbol", "orderId", "orderListId", "clientOrderId", "transactTime")}
    if kind == "RESULT":
        return {k: v for k, v in placed.items() if k != "fills"}
    return placed


def _time_range(sql: str, args: list[Any], query: dict[str, Any], column: str) -> tuple[str, list[Any]]:
    start, end = integer(query, "startTime", low=0), integer(query, "endTime", low=0)
    if start is not None:
        sql, args = sql + f" AND {column} >= ?", [*args, start]
    if end is not None:
        sql, args = sql + f" AND {column} <= ?", [*args, end]
    return sql, args


def _commission(spec: Any, with_sides: bool = False) -> dict[str, Any]:
    """Binance's commission rates of a market (no tax, no discount); `with_sides` adds buyer/seller."""
    sides = {"buyer": _bps(0), "seller": _bps(0)} if with_sides else {}
    return {"standardCommission": {"maker": _bps(spec.maker_fee_bps), "taker": _bps(spec.taker_fee_bps), **sides},
            "taxCommission": {"maker": _bps(0), "taker": _bps(0), **sides},
            "discount": {"enabledForAccount": False, "enabledForSymbol": False, "discountAsset": None,
                         "discount": _bps(0)}}


def _bps(bps: int) -> str:
    return f"{bps // 10_000}.{bps % 10_000:04d}0000"


def new_listen_key() -> str:
    return secrets.token_urlsafe(48)[:60] + "0000"


__all__ = ["PrivateHandlers", "respond"]

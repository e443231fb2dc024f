"""A Python client for the Bourse exchange: signs orders, cancels and withdrawals with a wallet key (EIP-712, the
same structs the server and the vault check) and wraps the REST and WebSocket API. Deposits go straight to the
vault over JSON-RPC.

    client = ExchangeClient("http://127.0.0.1:8080", private_key=key, rpc_url="http://127.0.0.1:8545")
    client.deposit("WBNB", "10")
    client.order("BRSWBNB", "BUY", "LIMIT", quantity="5", price="0.0123")
    async for message in client.stream("brswbnb@trade", f"{client.address.lower()}@user"): ...
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector

from contracts.settlement import Order, order_hash

from .errors import MatcherError
from .exchange.signed import Domain, exchange_message, message_digest, sign_digest
from .exchange.units import format_units, parse_units

DEFAULT_TTL_SECONDS = 7 * 24 * 3600
NATIVE = "0x" + "00" * 20


class ExchangeApiError(MatcherError):
    """The exchange refused a request (Binance-style code and message)."""

    def __init__(self, code: int, msg: str, status: int, data: Any = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code, self.msg, self.status, self.data = code, msg, status, data  # data: cancelReplace's outcome


class ExchangeUnreachable(MatcherError, ConnectionError):
    """No answer from the exchange at all (not running, wrong URL, network)."""


class ExchangeClient:
    def __init__(self, url: str, private_key: bytes | str | None = None, rpc_url: str | None = None,
                 timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.key = bytes.fromhex(private_key.removeprefix("0x")) if isinstance(private_key, str) else private_key
        self.address = Account.from_key(self.key).address if self.key else None
        self.rpc_url = rpc_url
        self.timeout = timeout
        self._info: dict[str, Any] | None = None
        self._nonces = itertools.count(time.time_ns() // 1000)

    # --- plumbing -----------------------------------------------------------------------------------------------
    def request(self, method: str, path: str, query: dict[str, Any] | None = None,
                body: dict[str, Any] | None = None) -> Any:
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            try:
                error = json.loads(payload)
            except ValueError:
                raise ExchangeApiError(-1000, payload.decode(errors="replace"), exc.code) from None
            raise ExchangeApiError(error.get("code", -1000), error.get("msg", ""), exc.code,
                                   error.get("data")) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ExchangeUnreachable(f"cannot reach the exchange at {self.url}: {reason}") from None

    @property
    def info(self) -> dict[str, Any]:
        if self._info is None:
            self._info = self.request("GET", "/api/v3/exchangeInfo")
        return self._info

    @property
    def domain(self) -> Domain:
        return Domain(int(self.info["chainId"]), self.info["settlementVault"])

    def market(self, symbol: str) -> dict[str, Any]:
        for market in self.info["symbols"]:
            if market["symbol"] == symbol:
                return market
        raise MatcherError(f"unknown symbol {symbol}")

    def _signer(self) -> bytes:
        if self.key is None:
            raise MatcherError("this client has no key: pass private_key to sign")
        return self.key

    # --- public data --------------------------------------------------------------------------------------------
    def ping(self) -> dict[str, Any]:
        return self.request("GET", "/api/v3/ping")

    def server_time(self) -> int:
        return int(self.request("GET", "/api/v3/time")["serverTime"])

    def depth(self, symbol: str, limit: int = 100) -> dict[str, Any]:
        return self.request("GET", "/api/v3/depth", {"symbol": symbol, "limit": limit})

    def trades(self, symbol: str, limit: int = 500) -> list[dict[str, Any]]:
        return self.request("GET", "/api/v3/trades", {"symbol": symbol, "limit": limit})

    def ticker_24hr(self, symbol: str) -> dict[str, Any]:
        return self.request("GET", "/api/v3/ticker/24hr", {"symbol": symbol})

    def book_ticker(self, symbol: str) -> dict[str, Any]:
        return self.request("GET", "/api/v3/ticker/bookTicker", {"symbol": symbol})

    # --- orders -------------------------------------------------------------------------------------------------
    def order_body(self, symbol: str, side: str, type: str = "LIMIT", quantity: str | None = None,  # noqa: A002
                   price: str | None = None, time_in_force: str | None = None, quote_order_qty: str | None = None,
                   stop_price: str | None = None, client_order_id: str | None = None, stp: str | None = None,
                   expiry: int | None = None, nonce: int | None = None, max_fee_bps: int | None = None,
                   max_platform_fee_rate: int = 0, trailing_delta: int | None = None,
                   iceberg_qty: str | None = None) -> dict[str, Any]:
        """A signed POST /api/v3/order body (sign here, send later: the benchmark pre-signs). To let the
        exchange charge fees in the platform token (after opting in on the vault), sign a
        `max_platform_fee_rate`: the most platform-token units per unit received (x 10**18) the order may pay.
        A MARKET, STOP_LOSS or TAKE_PROFIT order's `price` is its protection price (the worst it trades at):
        a MARKET buy defaults to twice the best ask, a sell to none; a market stop buy must give one."""
        market = self.market(symbol)
        if quantity is None:
            raise MatcherError("orders need a quantity (for quoteOrderQty MARKET orders: the most to buy or sell)")
        if price is None:
            if type in ("STOP_LOSS", "TAKE_PROFIT") and side == "SELL":
                price = "0"
            elif type != "MARKET":
                raise MatcherError(f"{type} {side} orders need a price")
            else:
                price = self._protection(symbol, side)
        base_decimals = int(market["baseAssetPrecision"])
        quote_units = parse_units(price, int(market["quotePrecision"]), "price")
        order = Order(self.address, market["baseToken"], market["quoteToken"], side == "BUY",  # type: ignore[arg-type]
                      parse_units(quantity, base_decimals, "quantity"), quote_units * 10**18 // 10**base_decimals,
                      expiry or int(time.time()) + DEFAULT_TTL_SECONDS, nonce if nonce is not None else
                      next(self._nonces), max_fee_bps if max_fee_bps is not None else
                      max(market["makerFeeBps"], market["takerFeeBps"]), max_platform_fee_rate)
        signature = sign_digest(order_hash(order, self.domain.chain_id, self.domain.vault), self._signer())
        body: dict[str, Any] = {"symbol": symbol, "side": side, "type": type, "quantity": quantity, "price": price,
                                "address": self.address, "nonce": str(order.nonce), "expiry": order.expiry,
                                "maxFeeBps": order.maxFeeBps, "signature": signature, "newOrderRespType": "FULL"}
        if max_platform_fee_rate:
            body["maxPlatformFeeRate"] = str(max_platform_fee_rate)
        for key, value in (("timeInForce", time_in_force), ("quoteOrderQty", quote_order_qty),
                           ("stopPrice", stop_price), ("newClientOrderId", client_order_id),
                           ("selfTradePreventionMode", stp), ("trailingDelta", trailing_delta),
                           ("icebergQty", iceberg_qty)):
            if value is not None:
                body[key] = value
        return body

    def order(self, symbol: str, side: str, type: str = "LIMIT", **fields: Any) -> dict[str, Any]:  # noqa: A002
        return self.request("POST", "/api/v3/order", body=self.order_body(symbol, side, type, **fields))

    def cancel_replace(self, symbol: str, side: str, type: str = "LIMIT", cancel_order_id: int = 0,  # noqa: A002
                       cancel_client_order_id: str = "", mode: str = "STOP_ON_FAILURE",
                       **fields: Any) -> dict[str, Any]:
        """Cancel one of this key's orders and place a new signed one in a single command (mode ALLOW_FAILURE:
        the new one goes in even if the cancel fails; a partial outcome raises ExchangeApiError -2021 with `data`)."""
        body = self.order_body(symbol, side, type, **fields)
        body["cancelReplaceMode"] = mode
        if cancel_order_id:
            body["cancelOrderId"] = cancel_order_id
        if cancel_client_order_id:
            body["cancelOrigClientOrderId"] = cancel_client_order_id
        return self.request("POST", "/api/v3/order/cancelReplace", body=body)

    def _protection(self, symbol: str, side: str) -> str:
        """A MARKET order's default protection price: twice the best ask for a buy, zero for a sell."""
        if side == "SELL":
            return "0"
        ask = self.book_ticker(symbol)["askPrice"]
        market = self.market(symbol)
        decimals = int(market["quotePrecision"])
        units = parse_units(ask, decimals, "askPrice")
        if units == 0:
            raise MatcherError(f"{symbol} has no asks: give a MARKET buy an explicit protection price")
        return format_units(units * 2, decimals)

    def cancel(self, symbol: str, order_id: int = 0, client_order_id: str = "") -> dict[str, Any]:
        timestamp = self.server_time()
        message = {"maker": self.address, "symbol": symbol, "orderId": order_id, "clientOrderId": client_order_id,
                   "timestamp": timestamp}
        signature = sign_digest(message_digest(exchange_message("Cancel", message, self.domain)), self._signer())
        body = {"symbol": symbol, "address": self.address, "timestamp": timestamp, "signature": signature}
        if order_id:
            body["orderId"] = order_id
        if client_order_id:
            body["origClientOrderId"] = client_order_id
        return self.request("DELETE", "/api/v3/order", body=body)

    def cancel_open_orders(self, symbol: str) -> list[dict[str, Any]]:
        timestamp = self.server_time()
        message = {"maker": self.address, "symbol": symbol, "timestamp": timestamp}
        signature = sign_digest(message_digest(exchange_message("CancelAll", message, self.domain)), self._signer())
        return self.request("DELETE", "/api/v3/openOrders", body={"symbol": symbol, "address": self.address,
                                                                 "timestamp": timestamp, "signature": signature})

    def signed_read(self, method: str, path: str, query: dict[str, Any] | None = None) -> Any:
        """A private request proven with this key's EIP-712 `Read` signature over the method, the path and a
        timestamp (valid for the 5 s recvWindow)."""
        timestamp = self.server_time()
        message = {"account": self.address, "method": method, "path": path, "timestamp": timestamp}
        signature = sign_digest(message_digest(exchange_message("Read", message, self.domain)), self._signer())
        return self.request(method, path, {**(query or {}), "address": self.address, "timestamp": timestamp,
                                           "signature": signature})

    def get_order(self, symbol: str, order_id: int | None = None, client_order_id: str | None = None) -> dict[str, Any]:
        return self.signed_read("GET", "/api/v3/order", {"symbol": symbol, "orderId": order_id,
                                                         "origClientOrderId": client_order_id})

    def open_orders(self, symbol: str | None = None) -> list[dict[str, Any]]:
        return self.signed_read("GET", "/api/v3/openOrders", {"symbol": symbol})

    def all_orders(self, symbol: str) -> list[dict[str, Any]]:
        return self.signed_read("GET", "/api/v3/allOrders", {"symbol": symbol})

    def my_trades(self, symbol: str, from_id: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        return self.signed_read("GET", "/api/v3/myTrades", {"symbol": symbol, "fromId": from_id, "limit": limit})

    def account(self) -> dict[str, Any]:
        return self.signed_read("GET", "/api/v3/account")

    def listen_key(self) -> str:
        """A listenKey for this account's user stream (`/ws/<listenKey>`), valid 60 minutes from its last use."""
        return str(self.signed_read("POST", "/api/v3/userDataStream")["listenKey"])

    def create_api_key(self, permissions: str = "TRADE", key_type: str = "HMAC_SHA256", public_key: str = "",
                       ip_allowlist: str = "", label: str = "", days: int = 30,
                       by_signature: bool = False) -> dict[str, Any]:
        """An API key for stock Binance clients: the exchange makes an agent key, this key approves it on the vault
        (a transaction; needs rpc_url), then signs the EIP-712 ApiKeyGrant. Returns apiKey (and secretKey for an
        HMAC key: shown once)."""
        from wallet.rpc import Rpc
        from wallet.transactions import build_transaction, send_signed, sign_transaction
        if self.rpc_url is None:
            raise MatcherError("the agent is approved on the vault on chain: pass rpc_url")
        agent = self.request("POST", "/bourse/v1/apiKey/agent", body={"address": self.address, "days": days})
        extra: dict[str, Any] = {}
        if by_signature:  # no transaction of ours: the operator submits the signed approval (approveAgentBySig)
            from contracts.settlement import typed_digest
            extra = {"agentNonce": agent["agentNonce"],
                     "approvalSignature": sign_digest(typed_digest(agent["agentApproval"]), self._signer())}
        else:
            rpc = Rpc(self.rpc_url)
            receipt = send_signed(rpc, sign_transaction(build_transaction(
                rpc, self.address, agent["approve"]["to"], 0, bytes.fromhex(agent["approve"]["data"][2:])),
                self._signer()))
            if int(receipt["status"], 16) != 1:
                raise MatcherError("the vault refused the agent approval")
        timestamp = self.server_time()
        grant = {"maker": self.address, "agent": agent["agent"], "permissions": permissions, "keyType": key_type,
                 "publicKey": public_key, "ipAllowlist": ip_allowlist, "label": label, "timestamp": timestamp}
        signature = sign_digest(message_digest(exchange_message("ApiKeyGrant", grant, self.domain)), self._signer())
        return dict(self.request("POST", "/bourse/v1/apiKey", body={
            "address": self.address, "agent": agent["agent"], "permissions": permissions, "keyType": key_type,
            "publicKey": public_key, "ipAllowlist": ip_allowlist, "label": label, "timestamp": timestamp,
            "signature": signature, **extra}))

    def balances(self) -> dict[str, tuple[int, int]]:
        """Free and locked per asset, in base units."""
        return {b["asset"]: (int(b["freeUnits"]), int(b["lockedUnits"])) for b in self.account()["balances"]}

    def withdraw(self, asset: str, amount: str, nonce: int | None = None) -> dict[str, Any]:
        token, decimals = self._asset(asset)
        units = parse_units(amount, decimals, "amount")
        nonce = nonce if nonce is not None else next(self._nonces)
        message = {"user": self.address, "token": token, "amount": units, "nonce": nonce}
        signature = sign_digest(message_digest(exchange_message("Withdraw", message, self.domain)), self._signer())
        return self.request("POST", "/api/v3/withdraw", body={"address": self.address, "asset": asset,
                                                              "amount": amount, "nonce": str(nonce),
                                                              "signature": signature})

    def withdrawals(self) -> list[dict[str, Any]]:
        return self.signed_read("GET", "/api/v3/withdrawals")

    # --- on chain -----------------------------------------------------------------------------------------------
    def deposit(self, asset: str, amount: str) -> dict[str, Any]:
        """Approve (tokens) and deposit into the vault from this key; returns the deposit's receipt."""
        from wallet.rpc import Rpc
        from wallet.transactions import build_transaction, send_signed, sign_transaction
        if self.rpc_url is None:
            raise MatcherError("deposits go to the vault on chain: pass rpc_url")
        rpc, key, vault = Rpc(self.rpc_url), self._signer(), self.info["settlementVault"]
        token, decimals = self._asset(asset)
        units = parse_units(amount, decimals, "amount")
        if token == NATIVE:
            data = function_signature_to_4byte_selector("depositNative()")
            return send_signed(rpc, sign_transaction(build_transaction(rpc, self.address, vault, units, data), key))
        approve = function_signature_to_4byte_selector("approve(address,uint256)") + encode(["address", "uint256"],
                                                                                             [vault, units])
        send_signed(rpc, sign_transaction(build_transaction(rpc, self.address, token, 0, approve), key))
        data = function_signature_to_4byte_selector("deposit(address,uint256)") + encode(["address", "uint256"],
                                                                                         [token, units])
        return send_signed(rpc, sign_transaction(build_transaction(rpc, self.address, vault, 0, data), key))

    def _asset(self, asset: str) -> tuple[str, int]:
        for market in self.info["symbols"]:
            if market["baseAsset"] == asset:
                return market["baseToken"], int(market["baseAssetPrecision"])
            if market["quoteAsset"] == asset:
                return market["quoteToken"], int(market["quotePrecision"])
        raise MatcherError(f"unknown asset {asset}")

    # --- streams -------------------------------------------------------------------------------------------------
    async def stream(self, *streams: str) -> AsyncIterator[dict[str, Any]]:
        """Messages of the combined stream ({"stream", "data"}), e.g. `brswbnb@depth`, `<address>@user`."""
        import websockets
        url = self.url.replace("http://", "ws://").replace("https://", "wss://") + "/stream?streams=" + \
            "/".join(streams)
        async with websockets.connect(url) as connection:
            async for message in connection:
                yield json.loads(message)




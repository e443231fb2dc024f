"""The OpenAPI 3.0 description of the REST API (served at /openapi.json)."""

from __future__ import annotations

from typing import Any

_ERROR = {"type": "object", "required": ["code", "msg"],
          "properties": {"code": {"type": "integer"}, "msg": {"type": "string"}}}
_DECIMAL = {"type": "string", "pattern": r"^\d+(\.\d+)?$"}
_ADDRESS = {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}
_SIGNATURE = {"type": "string", "pattern": "^0x[0-9a-fA-F]{130}$"}
_UINT = {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": r"^\d+$"}]}


def _query(name: str, required: bool = False, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema or {"type": "string"}}


def _op(summary: str, parameters: list[dict[str, Any]] | None = None, body: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary, "parameters": parameters or [],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": result or {}}}},
                      "400": {"description": "Rejected; nothing changed",
                              "content": {"application/json": {"schema": _ERROR}}},
                      "429": {"description": "Over a rate limit (-1003, -1015); Retry-After says when to retry",
                              "content": {"application/json": {"schema": _ERROR}}},
                      "418": {"description": "Banned after ignoring 429s (-1003); Retry-After",
                              "content": {"application/json": {"schema": _ERROR}}}}}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return operation


ORDER_BODY = {
    "type": "object", "additionalProperties": False,
    "required": ["symbol", "side", "type", "quantity", "address", "nonce", "expiry", "maxFeeBps", "signature"],
    "properties": {
        "symbol": {"type": "string"}, "side": {"type": "string", "enum": ["BUY", "SELL"]},
        "type": {"type": "string", "enum": ["LIMIT", "MARKET", "LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT",
                                            "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]},
        "timeInForce": {"type": "string", "enum": ["GTC", "IOC", "FOK"]},
        "quantity": _DECIMAL, "price": _DECIMAL, "quoteOrderQty": _DECIMAL, "stopPrice": _DECIMAL,
        "trailingDelta": {"type": "integer", "minimum": 1, "maximum": 9999}, "icebergQty": _DECIMAL,
        "newClientOrderId": {"type": "string", "maxLength": 36},
        "selfTradePreventionMode": {"type": "string", "enum": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]},
        "address": _ADDRESS, "nonce": _UINT, "expiry": _UINT, "maxFeeBps": _UINT, "maxPlatformFeeRate": _UINT,
        "signature": _SIGNATURE,
        "newOrderRespType": {"type": "string"},
    },
    "description": "The order fields plus the maker's EIP-712 signature of the settlement vault's Order "
                   "(maker, baseToken, quoteToken, isBuy, baseAmount, price x 1e18 per base unit, expiry, nonce, "
                   "maxFeeBps, maxPlatformFeeRate - optional, 0 when absent: the most platform-token units x 1e18 per unit "
                   "received its fees may cost when paid in the platform token). MARKET orders carry `price` as their protection price and, when sized by "
                   "quoteOrderQty, `quantity` as the signed cap; so do STOP_LOSS and "
                   "TAKE_PROFIT orders, which become MARKET orders when triggered (a buy must give one: it locks "
                   "quantity x price until then).",
}
CANCEL_BODY = {"type": "object", "additionalProperties": False,
               "required": ["symbol", "address", "timestamp", "signature"],
               "properties": {"symbol": {"type": "string"}, "orderId": _UINT, "origClientOrderId": {"type": "string"},
                              "address": _ADDRESS, "timestamp": _UINT, "signature": _SIGNATURE}}
CANCEL_ALL_BODY = {"type": "object", "additionalProperties": False,
                   "required": ["symbol", "address", "timestamp", "signature"],
                   "properties": {"symbol": {"type": "string"}, "address": _ADDRESS, "timestamp": _UINT,
                                  "signature": _SIGNATURE}}
WITHDRAW_BODY = {"type": "object", "additionalProperties": False,
                 "required": ["address", "asset", "amount", "nonce", "signature"],
                 "properties": {"address": _ADDRESS, "asset": {"type": "string"}, "amount": _DECIMAL, "nonce": _UINT,
                                "signature": _SIGNATURE}}
SYMBOL = _query("symbol", True)
CANCEL_REPLACE_BODY = {**ORDER_BODY, "properties": {
    **ORDER_BODY["properties"], "cancelOrderId": _UINT, "cancelOrigClientOrderId": {"type": "string"},
    "cancelReplaceMode": {"type": "string", "enum": ["STOP_ON_FAILURE", "ALLOW_FAILURE"]}}}

_INTERVAL = {"type": "string", "enum": ["1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h",
                                        "1d", "3d", "1w", "1M"]}
_MS = {"type": "integer", "minimum": 0, "maximum": 253_402_300_799_999}  # to the end of year 9999
_ZONE = {"type": "string", "pattern": r"^[+-]?(0?[0-9]|1[0-2])(:[0-5][0-9])?$"}
_SYMBOLS = {"type": "string", "pattern": r'^\[("[A-Z0-9]+",)*"[A-Z0-9]+"\]$',
            "description": 'A JSON array of symbols, e.g. ["BRSWBNB","WBNBUSDT"]'}
_TYPE = {"type": "string", "enum": ["FULL", "MINI"]}
_LIMIT = {"type": "integer", "minimum": 1, "maximum": 1000}
_LEG = {"type": "string", "enum": ["LIMIT", "LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                                   "TAKE_PROFIT_LIMIT", "MARKET"]}
_WINDOW = {"type": "string", "pattern": "^([1-9]|[1-5][0-9])m$|^([1-9]|1[0-9]|2[0-3])h$|^[1-7]d$"}
KLINES = [SYMBOL, _query("interval", True, _INTERVAL), _query("startTime", schema=_MS), _query("endTime", schema=_MS),
          _query("timeZone", schema=_ZONE), _query("limit", schema=_LIMIT)]
MARKET_DATA: dict[str, Any] = {
    "/api/v3/klines": {"get": _op("Candles (every Binance interval; timeZone shifts their boundaries)", KLINES)},
    "/api/v3/uiKlines": {"get": _op("Candles for charts (as klines)", KLINES)},
    "/api/v3/aggTrades": {"get": _op("Aggregate trades: one taker order's fills at one price", [
        SYMBOL, _query("fromId", schema=_MS), _query("startTime", schema=_MS), _query("endTime", schema=_MS),
        _query("limit", schema=_LIMIT)])},
    "/api/v3/historicalTrades": {"get": _op("Trades from an id", [SYMBOL, _query("fromId", schema=_MS),
                                                                    _query("limit", schema=_LIMIT)])},
    "/api/v3/avgPrice": {"get": _op("Volume-weighted price of the last 5 minutes", [SYMBOL])},
    "/api/v3/ticker": {"get": _op("Rolling-window statistics (to the minute)", [
        _query("symbol"), _query("symbols", schema=_SYMBOLS), _query("windowSize", schema=_WINDOW),
        _query("type", schema=_TYPE)])},
    "/api/v3/ticker/tradingDay": {"get": _op("Statistics of the trading day in a time zone", [
        _query("symbol"), _query("symbols", schema=_SYMBOLS), _query("timeZone", schema=_ZONE),
        _query("type", schema=_TYPE)])},
    "/api/v3/ticker/price": {"get": _op("Last price", [_query("symbol"), _query("symbols", schema=_SYMBOLS)])},
    "/sapi/v1/system/status": {"get": _op("System status (0: normal)", result={"type": "object"})},
}

PROOF = [_query("address", schema=_ADDRESS), _query("timestamp", schema=_MS),
         _query("recvWindow", schema={"type": "integer", "minimum": 1, "maximum": 60000}),
         _query("signature", schema={"type": "string", "minLength": 1})]


def _signed(summary: str, parameters: list[dict[str, Any]] | None = None,
            body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A private endpoint: an API key's signature (X-MBX-APIKEY + timestamp + signature, Binance's way) or the
    account's EIP-712 Read signature (address + timestamp + signature)."""
    operation = _op(summary, [*(parameters or []), *PROOF], body)
    operation["security"] = [{"apiKey": []}, {}]
    operation["responses"]["401"] = {"description": "No valid proof (-2014, -2015)",
                                     "content": {"application/json": {"schema": _ERROR}}}
    return operation


def _missing(operation: dict[str, Any]) -> dict[str, Any]:
    """An operation that answers 404 (-3004) when there is nothing published to read."""
    operation["responses"]["404"] = {"description": "Nothing published", "content": {"application/json": {
        "schema": _ERROR}}}
    return operation


def _admin(operation: dict[str, Any]) -> dict[str, Any]:
    operation["security"] = [{"adminToken": []}]
    operation["responses"]["401"] = {"description": "Without the operator's token (-2015)",
                                     "content": {"application/json": {"schema": _ERROR}}}
    return operation


PRIVATE: dict[str, Any] = {
    "/api/v3/order/test": {"post": _signed("Validate a new order without placing it")},
    "/api/v3/order/amend/keepPriority": {"put": _signed("Lower an open order's quantity, keeping its place "
                                                        "(API key with TRADE)", [
        SYMBOL, _query("orderId", schema=_MS), _query("origClientOrderId"), _query("newQty", True, _DECIMAL)])},
    "/api/v3/orderList/oco": {"post": _signed("One-cancels-the-other: above and below legs (API key)", [
        SYMBOL, _query("side", True, {"type": "string", "enum": ["BUY", "SELL"]}), _query("quantity", True, _DECIMAL),
        _query("aboveType", True, _LEG), _query("belowType", True, _LEG), _query("listClientOrderId")])},
    "/api/v3/orderList/oto": {"post": _signed("One-triggers-the-other: a working order, then a pending one "
                                              "(API key)", [SYMBOL, _query("workingType", True, _LEG),
                                                            _query("pendingType", True, _LEG)])},
    "/api/v3/orderList/otoco": {"post": _signed("A working order, then an OCO pair (API key)", [
        SYMBOL, _query("workingType", True, _LEG), _query("pendingAboveType", True, _LEG),
        _query("pendingBelowType", True, _LEG)])},
    "/api/v3/orderList": {
        "delete": _signed("Cancel an order list (API key)", [SYMBOL, _query("orderListId", schema=_MS),
                                                             _query("listClientOrderId")]),
        "get": _signed("An order list", [_query("orderListId", schema=_MS), _query("origClientOrderId")])},
    "/api/v3/allOrderList": {"get": _signed("The account's order lists", [_query("limit", schema=_LIMIT)])},
    "/api/v3/openOrderList": {"get": _signed("The account's executing order lists")},
    "/api/v3/account/commission": {"get": _signed("Commission rates of a symbol", [SYMBOL])},
    "/api/v3/rateLimit/order": {"get": _signed("Order rate limits with what is used")},
    "/api/v3/myPreventedMatches": {"get": _signed("Orders self-trade prevention expired", [
        SYMBOL, _query("limit", schema=_LIMIT)])},
    "/api/v3/userDataStream": {
        "post": _signed("A listenKey for the user stream (/ws/<listenKey>), 60 minutes from its last keep-alive"),
        "put": _op("Keep a listenKey alive", [_query("listenKey", True)]),
        "delete": _op("Close a listenKey", [_query("listenKey", True)])},
    "/bourse/v1/por/root": {"get": _missing(_op("The published proof-of-reserves root (Merkle sum tree: root hash, "
                                                "assets, totals)", result={"type": "object"}))},
    "/bourse/v1/por/proof": {"get": _missing(_signed("The caller's inclusion proof in the published proof of "
                                                     "reserves"))},
    "/bourse/v1/burns": {"get": _missing(_op("Every burn of the collected platform-token fees: epoch, amount, state, "
                                             "transaction, block, total supply before and after",
                                             result={"type": "array"}))},
    "/bourse/v1/settlement": {"get": _op("The settlement backlog: fills waiting (PENDING) and sent (SUBMITTED), and "
                                         "the bound past which new orders are refused with -1008 until it shrinks",
                                         result={"type": "object"})},
    "/bourse/v1/listings": {"get": _missing(_op("Every listing vote's Listed event: round, token, the market it "
                                                "opened or why it was refused, block, transaction",
                                                result={"type": "array"}))},
    "/bourse/v1/rewards": {"get": _missing(_op("Trade-mining epochs: fills covered, reward, root, state, "
                                               "transaction", result={"type": "array"}))},
    "/bourse/v1/rewards/proof": {"get": _missing(_op("An address's reward and Merkle proof in every published epoch",
                                                     [_query("address", True, _ADDRESS)],
                                                     result={"type": "array"}))},
    "/bourse/v1/web": {"get": _op("What the trading page needs beside the API: the node's JSON-RPC URL (wallets "
                                  "sign there), the block explorer's URL, chain id and settlement vault",
                                  result={"type": "object"})},
    "/bourse/v1/apiKey/agent": {"post": _op("Step 1 of an API key: a fresh agent key for an address, and the "
                                            "approveAgent call the maker sends to the vault", [
                                                _query("address", True, _ADDRESS),
                                                _query("days", schema={"type": "integer", "minimum": 1,
                                                                       "maximum": 365})])},
    "/bourse/v1/apiKey": {
        "post": _op("Step 2: the maker's EIP-712 ApiKeyGrant (maker, agent, permissions, keyType, publicKey, "
                    "ipAllowlist, label, timestamp) makes an HMAC_SHA256 key (secret returned once) or registers an "
                    "ED25519 public key", [_query("address", True, _ADDRESS), _query("agent", True, _ADDRESS),
                                           _query("timestamp", True, _MS), _query("signature", True)]),
        "get": _signed("The caller's API keys"),
        "delete": _signed("Delete one of the caller's API keys", [_query("apiKey", True)])},
}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Bourse exchange API", "version": "1",
             "description": "Binance spot shapes under /api/v3; orders, cancels and withdrawals are EIP-712 signed. "
                            "Errors are {code, msg}: -1013 filter failure, -1021 expiry/timestamp, -1022 bad "
                            "signature, -1100/-1102/-1104 malformed, -1121 unknown symbol, -2010 insufficient "
                            "balance, -2011 cancel of an unknown order, -2012 duplicate client order id, -2013 no "
                            "such order, -2021/-2022 cancel-replace, -3001 replayed order or withdrawal."},
    "components": {"securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-MBX-APIKEY"},
                                       "adminToken": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/api/v3/ping": {"get": _op("Test connectivity", result={"type": "object"})},
        "/api/v3/time": {"get": _op("Server time in ms", result={"type": "object"})},
        "/api/v3/exchangeInfo": {"get": _op("Markets, filters, rate limits, chain id and vault", [
            _query("symbol"), _query("symbols", schema=_SYMBOLS), _query("permissions")])},
        "/api/v3/depth": {"get": _op("L2 snapshot with lastUpdateId", [SYMBOL, _query("limit", schema={
            "type": "integer", "minimum": 1, "maximum": 5000})])},
        "/api/v3/trades": {"get": _op("Recent trades", [SYMBOL, _query("limit", schema=_LIMIT)])},
        "/api/v3/ticker/24hr": {"get": _op("24 hour statistics", [_query("symbol"), _query("symbols", schema=_SYMBOLS),
                                                                   _query("type", schema=_TYPE)])},
        "/api/v3/ticker/bookTicker": {"get": _op("Best bid and ask", [_query("symbol"),
                                                                      _query("symbols", schema=_SYMBOLS)])},
        **MARKET_DATA,
        "/api/v3/order": {
            "post": _op("Place a signed order", body=ORDER_BODY),
            "delete": _op("Cancel an order (EIP-712 signed Cancel)", body=CANCEL_BODY),
            "get": _signed("Query an order", [SYMBOL, _query("orderId"), _query("origClientOrderId")])},
        "/api/v3/order/cancelReplace": {
            "post": _op("Cancel an order and place a new signed one; the new order's signature authorises the "
                        "cancel. cancelReplaceMode STOP_ON_FAILURE (default) or ALLOW_FAILURE; a partial outcome is "
                        "HTTP 409 code -2021, a failure 400 code -2022, both with `data` as Binance",
                        body=CANCEL_REPLACE_BODY)},
        "/api/v3/openOrders": {
            "get": _signed("Open orders", [_query("symbol")]),
            "delete": _op("Cancel all open orders of a symbol (EIP-712 signed CancelAll)", body=CANCEL_ALL_BODY)},
        "/api/v3/allOrders": {"get": _signed("All orders", [SYMBOL, _query("orderId"), _query("startTime", schema=_MS),
                                                            _query("endTime", schema=_MS),
                                                            _query("limit", schema=_LIMIT)])},
        "/api/v3/myTrades": {"get": _signed("The account's trades with their settlement state", [
            SYMBOL, _query("orderId", schema=_MS), _query("fromId", schema=_MS), _query("startTime", schema=_MS),
            _query("endTime", schema=_MS), _query("limit", schema=_LIMIT)])},
        "/api/v3/account": {"get": _signed("Free and locked balances", [_query("omitZeroBalances")])},
        "/api/v3/withdraw": {"post": _op("Withdraw through the vault's operator path (EIP-712 signed)",
                                         body=WITHDRAW_BODY)},
        "/api/v3/withdrawals": {"get": _signed("The account's withdrawals and their state")},
        **PRIVATE,
        "/admin/ledger": {"get": _admin(_op("The ledger at the follower's block, with what is in flight"))},
        "/admin/rewards/epoch": {"post": _missing(_admin(_op("Close a trade-mining epoch now and publish its root",
                                                             result={"type": "object"})))},
        "/admin/burn": {"post": _missing(_admin(_op("Burn the collected platform-token fees now (the fee account's "
                                                    "balance in the platform token, once its fills have settled)",
                                                    result={"type": "object"})))},
    },
}


def spec_for(symbols: list[str]) -> dict[str, Any]:
    """SPEC with `symbol` parameters listing the markets this exchange runs (so a valid request is one it takes)."""
    import copy
    spec = copy.deepcopy(SPEC)
    for operations in spec["paths"].values():
        for operation in operations.values():
            for parameter in operation["parameters"]:
                if parameter["name"] == "symbol":
                    parameter["schema"] = {"type": "string", "enum": symbols}
                if parameter["name"] == "symbols":
                    one = "(" + "|".join(f'"{s}"' for s in symbols) + ")"
                    parameter["schema"] = {**parameter["schema"], "pattern": f"^\\[{one}(,{one})*\\]$"}
    return spec

"""Requests in: parse and check an API request into an engine command plus what the user signed.

Everything here is checked before the engine sees anything, so a rejected request changes nothing: unknown or
malformed fields, filters, the signature (the vault's own EIP-712 check), expiry, fee cap, nonce replay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generator

from contracts.settlement import ORDER_FIELD_LIMITS, Order, unsettleable_field
from matcher.model import OrderType, PlaceOrder, Side, Stp, TimeInForce

from .curve_worker import Recover, Work, run_here
from .errors import (FILTER_FAILURE, ILLEGAL_PARAM, INVALID_ORDER_TYPE, INVALID_SIDE, INVALID_TIF, MALFORMED,
                     TIMESTAMP, UNKNOWN_PARAM, ApiError)
from .markets import Market, Markets
from .signed import (Domain, address, check_recovered, check_signer, exchange_message, message_digest,
                     signed_digest)
from .store import SignedOrderRow

ORDER_FIELDS = {"symbol", "side", "type", "timeInForce", "quantity", "price", "quoteOrderQty", "stopPrice",
                "trailingDelta", "icebergQty", "newClientOrderId", "selfTradePreventionMode", "address", "nonce", "expiry", "maxFeeBps",
                "maxPlatformFeeRate", "signature", "newOrderRespType"}
MIN_TTL_SECONDS = 60  # an order must stay valid this long, or settlement could find it expired
RECV_WINDOW_MS = 60_000
MAX_UINT = 2**256 - 1
MARKET_STOPS = (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT)  # become MARKET orders when triggered
STOPS = (*MARKET_STOPS, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT)


@dataclass(frozen=True)
class OrderRequest:
    command: PlaceOrder
    signed: SignedOrderRow
    order: Order
    market: Market


def parse_order(body: dict[str, Any], markets: Markets, domain: Domain, now_ms: int,
                signer: str | None = None, signed_here: tuple[Order, bytes] | None = None) -> OrderRequest:
    """`signer`: the maker's agent that signed, for an order placed with an API key; `signed_here`: the order and
    hash the exchange signed for it (see `signed.signed_digest`). The signer is recovered on the caller's thread."""
    return run_here(order_steps(body, markets, domain, now_ms, signer, signed_here))  # type: ignore[no-any-return]


OrderSteps = Generator[Work, "bytes | None", OrderRequest]


def order_steps(body: dict[str, Any], markets: Markets, domain: Domain, now_ms: int, signer: str | None = None,
                signed_here: tuple[Order, bytes] | None = None) -> OrderSteps:
    """`parse_order` as steps: it yields `Recover` when it needs to know who signed (every order but one the
    exchange signed itself) and is sent the recovered address bytes (or None), so the caller may have it done
    elsewhere - off the event loop (`curve_worker.run_off_loop`) - and every check still runs in the same order."""
    _only(body, ORDER_FIELDS)
    market = markets.get(_required(body, "symbol"))
    spec = market.spec
    side = _enum(Side, body, "side", INVALID_SIDE)
    kind = _enum(OrderType, body, "type", INVALID_ORDER_TYPE)
    maker = address(_required(body, "address"), "address")
    nonce = _uint(_required(body, "nonce"), "nonce")
    expiry = _uint(_required(body, "expiry"), "expiry")
    max_fee_bps = _uint(_required(body, "maxFeeBps"), "maxFeeBps")
    max_platform_fee_rate = _uint(body.get("maxPlatformFeeRate", 0), "maxPlatformFeeRate")
    client_id = body.get("newClientOrderId", "")
    if not isinstance(client_id, str) or len(client_id) > 36:
        raise ApiError(ILLEGAL_PARAM, "Parameter 'newClientOrderId' must be a string of at most 36 characters.")
    stp = _enum(Stp, body, "selfTradePreventionMode", ILLEGAL_PARAM, Stp.NONE)
    tif, price_ticks, qty, quote_qty, stop = TimeInForce.GTC, 0, 0, 0, 0
    if kind is OrderType.MARKET or kind in MARKET_STOPS:  # `price`: the protection price the maker signs
        if "timeInForce" in body:
            raise ApiError(ILLEGAL_PARAM, f"Parameter 'timeInForce' is not allowed for {kind.value} orders.")
        vault_price = _protection_price(market, side, _required(body, "price"))
        price_ticks = market.ticks_from_settlement_price(vault_price, round_up=side is Side.SELL)
        if side is Side.BUY and price_ticks == 0:
            raise ApiError(FILTER_FAILURE, "Filter failure: PRICE_FILTER (protection price below one tick)")
        if "quoteOrderQty" in body:
            if kind is not OrderType.MARKET:
                raise ApiError(ILLEGAL_PARAM, f"Parameter 'quoteOrderQty' is not allowed for {kind.value} orders.")
            quote_qty = market.quote_units(body["quoteOrderQty"])
        qty = market.lots(_required(body, "quantity"))  # by quantity, or the cap of a quote-sized order
    else:
        tif = _enum(TimeInForce, body, "timeInForce", INVALID_TIF, TimeInForce.GTC)
        if kind is OrderType.LIMIT_MAKER and "timeInForce" in body:
            raise ApiError(ILLEGAL_PARAM, "Parameter 'timeInForce' is not allowed for LIMIT_MAKER orders.")
        price_ticks = market.ticks(_required(body, "price"))
        qty = market.lots(_required(body, "quantity"))
        vault_price = market.settlement_price(price_ticks)
    trailing = _trailing_delta(body, kind)
    if kind in STOPS:
        if "stopPrice" in body or not trailing:
            stop = market.ticks(_required(body, "stopPrice"), "stopPrice")
    elif "stopPrice" in body:
        raise ApiError(ILLEGAL_PARAM, "Parameter 'stopPrice' is only for stop orders.")
    iceberg = 0
    if body.get("icebergQty") not in (None, "", "0"):
        if kind is OrderType.MARKET or kind in MARKET_STOPS:
            raise ApiError(ILLEGAL_PARAM, f"Parameter 'icebergQty' is not allowed for {kind.value} orders.")
        iceberg = market.lots(body["icebergQty"], "icebergQty")
    if qty <= 0:
        raise ApiError(FILTER_FAILURE, "Filter failure: LOT_SIZE")
    order = Order(maker, spec.base.token, spec.quote.token, side is Side.BUY, spec.base_units(qty), vault_price,
                  expiry, nonce, max_fee_bps, max_platform_fee_rate)
    _check_settleable(order)
    digest, (v, r, s) = signed_digest(order, body.get("signature"), domain, signed_here)
    if signed_here is None:
        recovered = yield Recover(digest, (v, r, s))
        check_recovered(recovered, signer or order.maker)
    if expiry * 1000 < now_ms + MIN_TTL_SECONDS * 1000:
        raise ApiError(TIMESTAMP, f"Order expiry must be at least {MIN_TTL_SECONDS}s in the future.")
    if max_fee_bps < max(spec.maker_fee_bps, spec.taker_fee_bps):
        raise ApiError(FILTER_FAILURE, "Filter failure: FEE (maxFeeBps is below the market's fee)")
    command = PlaceOrder(maker, spec.symbol, side, kind, qty=qty, price=price_ticks, quote_qty=quote_qty, tif=tif,
                         stop_price=stop, client_order_id=client_id, stp=stp, ts=now_ms,
                         max_platform_fee_rate=max_platform_fee_rate, trailing_delta=trailing, iceberg_qty=iceberg)
    signature = "0x" + (r + s + bytes([v])).hex()
    return OrderRequest(command, SignedOrderRow(nonce, expiry, max_fee_bps, vault_price, spec.base_units(qty),
                                                "0x" + digest.hex(), signature, kind.value, max_platform_fee_rate),
                        order, market)


def parse_cancel_replace(body: dict[str, Any], markets: Markets, domain: Domain,
                         now_ms: int) -> tuple[OrderRequest, int, str, bool]:
    """A signed new order plus the order it replaces (by cancelOrderId or cancelOrigClientOrderId), and whether
    the new order goes in even if the cancel fails (cancelReplaceMode ALLOW_FAILURE; the default is
    STOP_ON_FAILURE). The new order's signature is the authority: only its maker's open orders can be cancelled."""
    cancel_fields = {"cancelOrderId", "cancelOrigClientOrderId", "cancelReplaceMode"}
    mode = body.get("cancelReplaceMode", "STOP_ON_FAILURE")
    if mode not in ("STOP_ON_FAILURE", "ALLOW_FAILURE"):
        raise ApiError(ILLEGAL_PARAM, "Invalid cancelReplaceMode: STOP_ON_FAILURE or ALLOW_FAILURE.")
    order_id = _uint(body.get("cancelOrderId", 0), "cancelOrderId")
    client_id = body.get("cancelOrigClientOrderId", "")
    if not isinstance(client_id, str) or (not order_id and not client_id):
        raise ApiError(MALFORMED, "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, but both were "
                                  "empty/null!")
    request = parse_order({k: v for k, v in body.items() if k not in cancel_fields}, markets, domain, now_ms)
    return request, order_id, client_id, mode == "ALLOW_FAILURE"


def parse_cancel(body: dict[str, Any], markets: Markets, domain: Domain, now_ms: int) -> tuple[str, str, int, str]:
    """(maker, symbol, orderId, clientOrderId) of a signed cancel."""
    _only(body, {"symbol", "orderId", "origClientOrderId", "address", "timestamp", "signature"})
    symbol = markets.get(_required(body, "symbol")).symbol
    maker = address(_required(body, "address"), "address")
    order_id = _uint(body.get("orderId", 0), "orderId")
    client_id = body.get("origClientOrderId", "")
    if not isinstance(client_id, str) or (not order_id and not client_id):
        raise ApiError(MALFORMED, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
    timestamp = _fresh(body, now_ms)
    message = {"maker": maker, "symbol": symbol, "orderId": order_id, "clientOrderId": client_id,
               "timestamp": timestamp}
    check_signer(message_digest(exchange_message("Cancel", message, domain)), body.get("signature"), maker)
    return maker, symbol, order_id, client_id


def parse_cancel_all(body: dict[str, Any], markets: Markets, domain: Domain, now_ms: int) -> tuple[str, str]:
    _only(body, {"symbol", "address", "timestamp", "signature"})
    symbol = markets.get(_required(body, "symbol")).symbol
    maker = address(_required(body, "address"), "address")
    message = {"maker": maker, "symbol": symbol, "timestamp": _fresh(body, now_ms)}
    check_signer(message_digest(exchange_message("CancelAll", message, domain)), body.get("signature"), maker)
    return maker, symbol


def parse_withdraw(body: dict[str, Any], markets: Markets, domain: Domain) -> tuple[str, str, str, int, int]:
    """(user, asset, token, amount, nonce) of a signed withdrawal request."""
    _only(body, {"address", "asset", "amount", "nonce", "signature"})
    user = address(_required(body, "address"), "address")
    name = _required(body, "asset")
    asset = markets.assets.get(name) if isinstance(name, str) else None
    if asset is None:
        raise ApiError(MALFORMED, "Parameter 'asset' is not an asset of this exchange.")
    from .units import parse_units
    amount = parse_units(_required(body, "amount"), asset.decimals, "amount")
    if amount <= 0:
        raise ApiError(MALFORMED, "Parameter 'amount' must be positive.")
    nonce = _uint(_required(body, "nonce"), "nonce")
    message = {"user": user, "token": asset.token, "amount": amount, "nonce": nonce}
    check_signer(message_digest(exchange_message("Withdraw", message, domain)), body.get("signature"), user)
    return user, asset.symbol, asset.token, amount, nonce


def _trailing_delta(body: dict[str, Any], kind: OrderType) -> int:
    """Binance's trailingDelta (basis points), for stop orders only; 0 when not sent."""
    if body.get("trailingDelta") in (None, ""):
        return 0
    if kind not in STOPS:
        raise ApiError(ILLEGAL_PARAM, "Parameter 'trailingDelta' is only for stop orders.")
    delta = _uint(body["trailingDelta"], "trailingDelta")
    if delta <= 0:
        raise ApiError(ILLEGAL_PARAM, "Parameter 'trailingDelta' must be positive.")
    return delta


def _protection_price(market: Market, side: Side, text: object) -> int:
    units = market.quote_units(text, "price")
    return units * 10**18 // 10**market.spec.base.decimals


def _fresh(body: dict[str, Any], now_ms: int) -> int:
    timestamp = _uint(_required(body, "timestamp"), "timestamp")
    if abs(timestamp - now_ms) > RECV_WINDOW_MS:
        raise ApiError(TIMESTAMP, "Timestamp for this request is outside of the recvWindow.")
    return timestamp


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    if allowed.issuperset(body):
        return
    extra = sorted(set(body) - allowed)
    if extra:
        raise ApiError(UNKNOWN_PARAM, f"Not all sent parameters were read; unknown: {', '.join(extra)}.")


def _required(body: dict[str, Any], field: str) -> Any:
    value = body.get(field)
    if value is None or value == "":
        raise ApiError(MALFORMED, f"Mandatory parameter '{field}' was not sent, was empty/null, or malformed.")
    return value


def _check_settleable(order: Order) -> None:
    """Refuse an order with a field the vault's batch format cannot carry (it could never settle)."""
    field = unsettleable_field(order)
    if field == "baseAmount":
        raise ApiError(FILTER_FAILURE, "Filter failure: LOT_SIZE (quantity above what the vault settles)")
    if field is not None:
        raise ApiError(ILLEGAL_PARAM, f"Parameter '{field}' must be below {ORDER_FIELD_LIMITS[field]:,} (the vault's "
                                      "settlement format).")


def _uint(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise ApiError(ILLEGAL_PARAM, f"Parameter '{field}' must be an unsigned integer.")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_UINT:
        raise ApiError(ILLEGAL_PARAM, f"Parameter '{field}' must be an unsigned integer.")
    return value


def _enum(kind: Any, body: dict[str, Any], field: str, code: int, default: Any = None) -> Any:
    value = body.get(field)
    if value is None and default is not None:
        return default
    if type(value) is str:  # the member by its value, as kind(value) finds it first (without Enum's call path)
        member = kind._value2member_map_.get(value)
        if member is not None:
            return member
    try:
        return kind(value)
    except ValueError:
        raise ApiError(code, f"Invalid {field}: {value!r}.") from None

"""Orders placed with an API key: Binance's parameters in, a vault Order out, signed by the key's agent (which the
maker approved on the vault) and then checked exactly like an order the maker signed."""

from __future__ import annotations

import time
from typing import Any, Generator

from contracts.settlement import Order, order_hash

from .apikeys import KeyStore, Principal
from .curve_worker import Sign, Work, run_here
from .errors import FILTER_FAILURE, MALFORMED, NEW_ORDER_REJECTED, REJECTED_MBX_KEY, UNKNOWN_PARAM, ApiError
from .intake import OrderRequest, order_steps
from .markets import Market, Markets
from .signed import Domain
from .units import format_units

AGENT_ORDER_TTL_S = 90 * 86_400  # bounded by the agent's approval as well
BINANCE_ORDER_FIELDS = {"symbol", "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price",
                        "newClientOrderId", "stopPrice", "trailingDelta", "icebergQty", "selfTradePreventionMode",
                        "newOrderRespType", "timestamp", "recvWindow", "signature", "strategyId", "strategyType"}
PASSED_ON = ("symbol", "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price", "newClientOrderId",
             "stopPrice", "trailingDelta", "icebergQty", "selfTradePreventionMode")
MARKET_STOPS = ("STOP_LOSS", "TAKE_PROFIT")


def agent_order(params: dict[str, Any], principal: Principal, keys: KeyStore, markets: Markets, domain: Domain,
                engine: Any, now_ms: int) -> OrderRequest:
    """An API-key order, signed here with the key's agent, on the caller's thread."""
    return run_here(agent_order_steps(params, principal, keys, markets, domain, engine, now_ms))  # type: ignore


def agent_order_steps(params: dict[str, Any], principal: Principal, keys: KeyStore, markets: Markets,
                      domain: Domain, engine: Any, now_ms: int) -> Generator[Work, "bytes | None", OrderRequest]:
    """`agent_order` as steps: it yields the agent's `Sign` and is sent the signature (see `intake.order_steps`)."""
    if not principal.can_trade or principal.agent is None:
        raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action.", status=401)
    extra = sorted(set(params) - BINANCE_ORDER_FIELDS)
    if extra:
        raise ApiError(UNKNOWN_PARAM, f"Not all sent parameters were read; unknown: {', '.join(extra)}.")
    if principal.agent_state is not None and principal.agent_expiry is not None:  # read with its key just now
        agent: dict[str, Any] | None = {"state": principal.agent_state, "expiry": principal.agent_expiry}
    else:
        agent = keys.agent(principal.agent)
    if agent is None or agent["state"] != "APPROVED" or agent["expiry"] * 1000 <= now_ms:
        raise ApiError(REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action. (the key's agent is no "
                                         "longer approved on the vault)", status=401)
    market = markets.get(params.get("symbol"))
    body = {k: params[k] for k in PASSED_ON if k in params and params[k] != ""}
    if body.get("type") == "MARKET":
        _market_order_bounds(body, market, principal.account, engine)
    elif body.get("type") in MARKET_STOPS:
        _stop_protection(body, market, engine)
    spec = market.spec
    expiry = min(agent["expiry"], int(time.time()) + AGENT_ORDER_TTL_S, now_ms // 1000 + AGENT_ORDER_TTL_S)
    nonce = keys.next_agent_nonce(principal.account)
    max_fee_bps = max(spec.maker_fee_bps, spec.taker_fee_bps)
    order = _order(body, market, principal.account, expiry, nonce, max_fee_bps)
    digest = order_hash(order, domain.chain_id, domain.vault)
    signature = yield Sign(digest, keys.agent_key(principal.agent))  # r || s || recovery id
    if signature is None:
        raise ValueError("the agent's stored key is not a valid secp256k1 key")
    signed = {**body, "address": principal.account, "nonce": nonce, "expiry": expiry, "maxFeeBps": max_fee_bps,
              "signature": "0x" + (signature[:64] + bytes([signature[64] + 27])).hex()}
    return (yield from order_steps(signed, markets, domain, now_ms, signer=principal.agent,
                                   signed_here=(order, digest)))



def _order(body: dict[str, Any], market: Market, maker: str, expiry: int, nonce: int, max_fee_bps: int) -> Order:
    """The vault Order `parse_order` will rebuild from `body` (so the agent signs exactly what is checked)."""
    spec = market.spec
    side = body.get("side")
    if side not in ("BUY", "SELL"):
        raise ApiError(-1117, "Invalid side.")
    quantity = body.get("quantity")
    if quantity is None:
        raise ApiError(MALFORMED, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
    base_units = spec.base_units(market.lots(quantity))
    if body.get("type") == "MARKET" or body.get("type") in MARKET_STOPS:
        price = market.quote_units(body["price"], "price") * 10**18 // 10**spec.base.decimals
    else:
        if body.get("price") is None:
            raise ApiError(MALFORMED, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.")
        price = market.settlement_price(market.ticks(body["price"]))
    return Order(maker, spec.base.token, spec.quote.token, side == "BUY", base_units, price, expiry, nonce,
                 max_fee_bps, 0)


def _stop_protection(body: dict[str, Any], market: Market, engine: Any) -> None:
    """The protection price signed for a STOP_LOSS / TAKE_PROFIT order (a MARKET order once triggered): none for a
    sell; for a buy, the most a limit buy may be placed at (PERCENT_PRICE_BY_SIDE's multiplier) above where the stop
    triggers at most — its stop price, or the last price for a trailing stop without one — raised by the trailing
    delta. A buy locks quantity x this price until it triggers; what it does not spend is released."""
    if "price" in body:
        raise ApiError(-1106, "Parameter 'price' sent when not required.")
    if body.get("side") != "BUY":
        body["price"] = "0"
        return
    spec = market.spec
    if "stopPrice" in body:
        reference = market.ticks(body["stopPrice"], "stopPrice")
    else:
        reference = engine.last_price.get(spec.symbol, 0)
        if not reference:
            raise ApiError(NEW_ORDER_REJECTED, "Order rejected: a trailing stop buy without a stopPrice needs a "
                                               "last price to be protected from.")
    delta_text = str(body.get("trailingDelta", "0"))
    delta = int(delta_text) if delta_text.isdigit() else 0  # (parse_order refuses a malformed one)
    ceiling = reference * (10_000 + delta) * market.limits.multiplier_up / 10_000
    body["price"] = format_units(int(ceiling) * spec.tick_size, spec.quote.decimals)


def _market_order_bounds(body: dict[str, Any], market: Market, account: str, engine: Any) -> None:
    """A MARKET order's signed bounds from the book now: a buy's protection price is the ask level that covers it
    (the deepest ask when nothing does); a quote-sized order's quantity cap is what that quote can buy at the best
    price (a buy) or the seller's free base (a sell)."""
    if "price" in body:
        raise ApiError(-1106, "Parameter 'price' sent when not required.")
    spec = market.spec
    book = engine.depth(spec.symbol, 5000)
    if body.get("side") == "SELL":
        body["price"] = "0"
        if "quoteOrderQty" in body and "quantity" not in body:
            free = engine.balance(account, spec.base.symbol)[0] // spec.lot_size
            if free <= 0:
                raise ApiError(NEW_ORDER_REJECTED, "Account has insufficient balance for requested action.")
            body["quantity"] = market.qty_text(free)
        return
    asks = book["asks"]
    if not asks:
        raise ApiError(FILTER_FAILURE, "Filter failure: MARKET_LOT_SIZE (no asks to buy from)")
    if "quoteOrderQty" in body and "quantity" not in body:
        quote = market.quote_units(body["quoteOrderQty"])
        best = asks[0][0]
        body["quantity"] = market.qty_text(max(1, -(-quote // (best * spec.quote_per_lot_tick))))
        wanted, spend = None, quote
    else:
        if "quantity" not in body:
            raise ApiError(MALFORMED, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
        wanted, spend = market.lots(body["quantity"]), None
    worst = asks[-1][0]
    for price, lots in asks:
        if wanted is not None:
            wanted -= lots
            if wanted <= 0:
                worst = price
                break
        else:
            spend -= spec.notional(price, lots)  # type: ignore[operator]
            if spend <= 0:  # type: ignore[operator]
                worst = price
                break
    body["price"] = format_units(worst * spec.tick_size, spec.quote.decimals)


__all__ = ["agent_order"]

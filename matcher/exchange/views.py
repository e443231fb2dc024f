"""Engine records and table rows in Binance's JSON shapes (prices and quantities as exact decimal strings)."""

from __future__ import annotations

from typing import Any

from matcher.model import BalanceUpdate, BookTicker, DepthUpdate, OrderUpdate, Side, Trade

from .markets import Market, Markets

OPEN_STATUSES = ("NEW", "PARTIALLY_FILLED")


def order_view(row: dict[str, Any], market: Market) -> dict[str, Any]:
    return {
        "symbol": row["symbol"], "orderId": row["order_id"], "orderListId": row.get("order_list_id", -1),
        "clientOrderId": row["client_order_id"], "price": market.price_text(row["price"]),
        "origQty": market.qty_text(row["qty"]), "executedQty": market.qty_text(row["filled"]),
        "cummulativeQuoteQty": market.quote_text(row["cum_quote"]), "status": row["status"],
        "timeInForce": row["tif"], "type": row["type"], "side": row["side"],
        "stopPrice": market.price_text(row["stop_price"]), "icebergQty": market.qty_text(row.get("iceberg_qty", 0)),
        "time": row["created_ms"], "updateTime": row["updated_ms"], "isWorking": row["status"] in OPEN_STATUSES,
        "workingTime": row["created_ms"], "origQuoteOrderQty": market.quote_text(row["quote_qty"]),
        "selfTradePreventionMode": row["stp"],
        **({"trailingDelta": row["trailing_delta"]} if row.get("trailing_delta") else {}),
        "address": row["account"], "nonce": str(row["nonce"]), "expiry": row["expiry"], "orderHash": row["order_hash"],
        "reason": row["reason"],
        "signedOrder": {"maker": row["account"], "baseToken": market.spec.base.token,
                        "quoteToken": market.spec.quote.token, "isBuy": row["side"] == "BUY",
                        "baseAmount": str(row["base_amount"]), "price": str(row["vault_price"]),
                        "expiry": row["expiry"], "nonce": str(row["nonce"]), "maxFeeBps": row["max_fee_bps"],
                        "maxPlatformFeeRate": str(row["max_platform_fee_rate"])},
    }


def trade_view(row: dict[str, Any], market: Market) -> dict[str, Any]:
    return {"id": row["trade_id"], "price": market.price_text(row["price"]), "qty": market.qty_text(row["qty"]),
            "quoteQty": market.quote_text(row["quote"]), "time": row["time_ms"],
            "isBuyerMaker": row["taker_side"] == "SELL", "isBestMatch": True}


def my_trade_view(row: dict[str, Any], market: Market, account: str) -> dict[str, Any]:
    is_maker = row["maker"] == account
    is_buyer = (row["taker_side"] == "BUY") != is_maker
    fee, fee_asset = (row["maker_fee"], row["maker_fee_asset"]) if is_maker else (row["taker_fee"],
                                                                                   row["taker_fee_asset"])
    return {"symbol": row["symbol"], "id": row["trade_id"],
            "orderId": row["maker_order_id"] if is_maker else row["taker_order_id"], "orderListId": -1,
            "price": market.price_text(row["price"]), "qty": market.qty_text(row["qty"]),
            "quoteQty": market.quote_text(row["quote"]), "commission": market.asset_text(fee_asset, fee),
            "commissionAsset": fee_asset, "time": row["time_ms"], "isBuyer": is_buyer, "isMaker": is_maker,
            "isBestMatch": True, "settlement": row["state"], "settlementReason": row["reason"],
            "batchId": str(row["batch_id"]) if row["batch_id"] is not None else None, "txHash": row["tx_hash"],
            "block": row["block"]}


def depth_event(event: DepthUpdate, market: Market, now: int) -> dict[str, Any]:
    return {"e": "depthUpdate", "E": now, "s": event.symbol, "U": event.first_update_id, "u": event.last_update_id,
            "b": [[market.price_text(p), market.qty_text(q)] for p, q in event.bids],
            "a": [[market.price_text(p), market.qty_text(q)] for p, q in event.asks]}


def trade_event(event: Trade, market: Market) -> dict[str, Any]:
    return {"e": "trade", "E": event.ts, "s": event.symbol, "t": event.trade_id,
            "p": market.price_text(event.price), "q": market.qty_text(event.qty), "T": event.ts,
            "m": event.taker_side is Side.SELL, "M": True}


def book_ticker_event(event: BookTicker, market: Market) -> dict[str, Any]:
    return {"u": event.update_id, "s": event.symbol, "b": market.price_text(event.bid_price),
            "B": market.qty_text(event.bid_qty), "a": market.price_text(event.ask_price),
            "A": market.qty_text(event.ask_qty)}


def execution_report(update: OrderUpdate, trade: Trade | None, market: Market, now: int) -> dict[str, Any]:
    commission, commission_asset, is_maker = 0, None, False
    if trade is not None:
        is_maker = trade.maker_order_id == update.order_id
        commission = trade.maker_fee if is_maker else trade.taker_fee
        commission_asset = trade.maker_fee_asset if is_maker else trade.taker_fee_asset
    return {"e": "executionReport", "E": now, "s": update.symbol, "c": update.client_order_id,
            "S": update.side.value, "o": update.type.value, "f": update.tif.value, "q": market.qty_text(update.qty),
            "p": market.price_text(update.price), "P": market.price_text(0), "F": market.qty_text(0), "g": -1,
            "C": "", "x": update.exec_type.value, "X": update.status.value, "r": update.reason or "NONE",
            "i": update.order_id, "l": market.qty_text(update.last_qty), "z": market.qty_text(update.filled),
            "L": market.price_text(update.last_price),
            "n": market.asset_text(commission_asset, commission) if commission_asset else "0",
            "N": commission_asset, "T": update.ts, "t": trade.trade_id if trade is not None else -1,
            "w": update.status.value in OPEN_STATUSES, "m": is_maker, "M": False, "O": update.ts,
            "Z": market.quote_text(update.cum_quote),
            "Y": market.quote_text(market.spec.notional(update.last_price, update.last_qty)), "W": update.ts}


def account_position(account: str, updates: list[BalanceUpdate], markets: Markets, now: int) -> dict[str, Any]:
    return {"e": "outboundAccountPosition", "E": now, "u": now,
            "B": [{"a": u.asset, "f": asset_text(markets, u.asset, u.free),
                   "l": asset_text(markets, u.asset, u.locked)} for u in updates if u.account == account]}


def asset_text(markets: Markets, asset: str, units: int) -> str:
    from .units import format_units
    decimals = markets.assets[asset].decimals
    return format_units(units, decimals, 8 if decimals >= 8 else decimals)


def agg_trade_view(row: dict[str, Any], market: Market) -> dict[str, Any]:
    return {"a": row["agg_id"], "p": market.price_text(row["price"]), "q": market.qty_text(row["qty"]),
            "f": row["first_id"], "l": row["last_id"], "T": row["time_ms"], "m": row["buyer_maker"], "M": True}


def kline_view(candle: Any, close_ms: int, market: Market) -> list[Any]:
    """Binance's kline array: open time, OHLC, volume, close time, quote volume, trades, taker buy volumes."""
    return [candle.open_ms, market.price_text(candle.open), market.price_text(candle.high),
            market.price_text(candle.low), market.price_text(candle.close), market.qty_text(candle.volume), close_ms,
            market.quote_text(candle.quote), candle.count, market.qty_text(candle.taker_volume),
            market.quote_text(candle.taker_quote), "0"]

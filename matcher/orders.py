"""The rules of MARKET, stop and iceberg orders, off the engine's hot path: what makes one valid, and what accepting
a MARKET order locks."""

from __future__ import annotations

from .book import Book
from .market import MarketSpec
from .model import Code, OrderType, PlaceOrder, Side, TimeInForce
from .state import reached, within

MAX_TRAILING_DELTA = 10_000  # basis points: a trailing stop cannot wait for a fall of 100 %


def validate_market_order(cmd: PlaceOrder, min_notional: int) -> tuple[Code, str] | None:
    """A MARKET order may carry a protection price (the worst it will trade at; 0 = none) and, when sized by
    quote amount, a base quantity cap: what a signed settlement order needs."""
    if cmd.price < 0:
        return Code.PRICE_FILTER, "protection price must not be negative"
    if cmd.iceberg_qty or cmd.trailing_delta or cmd.stop_price:
        return Code.INVALID_ORDER, "MARKET orders take no icebergQty, trailingDelta or stopPrice"
    if cmd.qty <= 0 and cmd.quote_qty <= 0:
        return Code.INVALID_ORDER, "MARKET orders take quantity or quoteOrderQty"
    if cmd.qty < 0 or cmd.quote_qty < 0:
        return Code.LOT_SIZE, "quantity must be positive"
    if cmd.quote_qty and cmd.quote_qty < min_notional:
        return Code.MIN_NOTIONAL, "order value below the market's minimum notional"
    return None


def validate_stop_order(cmd: PlaceOrder, min_notional: int, per_lot_tick: int,
                        last_price: int) -> tuple[Code, str] | None:
    """A stop order (STOP_LOSS[_LIMIT], TAKE_PROFIT[_LIMIT]), trailing or not, or an iceberg limit order. A
    STOP_LOSS / TAKE_PROFIT becomes a MARKET order when triggered: its `price` is a protection price, which a buy
    needs (it is what the buy locks) and a sell may leave at 0 (none)."""
    kind = cmd.type
    market_stop = kind is OrderType.STOP_LOSS or kind is OrderType.TAKE_PROFIT
    stop = market_stop or kind is OrderType.STOP_LOSS_LIMIT or kind is OrderType.TAKE_PROFIT_LIMIT
    if cmd.qty <= 0:
        return Code.LOT_SIZE, "quantity must be a positive whole number of lots"
    if cmd.quote_qty:
        return Code.INVALID_ORDER, "quoteOrderQty is only for MARKET orders"
    if cmd.price < 0 or cmd.stop_price < 0 or (cmd.price == 0 and not (market_stop and cmd.side is Side.SELL)):
        return Code.PRICE_FILTER, ("a market stop buy needs a protection price (what it locks)" if market_stop
                                   else "price must be a positive whole number of ticks")
    if cmd.trailing_delta:
        if not stop:
            return Code.INVALID_ORDER, "trailingDelta is only for stop orders"
        if not 0 < cmd.trailing_delta < MAX_TRAILING_DELTA:
            return Code.INVALID_ORDER, "trailingDelta must be between 1 and 9999 basis points"
    elif stop and cmd.stop_price <= 0:
        return Code.PRICE_FILTER, "stop orders need a positive stop price"
    elif stop and last_price and reached(kind, cmd.side, cmd.stop_price, last_price):
        return Code.WOULD_TRIGGER, "order would trigger immediately"
    if cmd.iceberg_qty:
        if market_stop or kind is OrderType.MARKET:
            return Code.INVALID_ORDER, "icebergQty is only for limit orders"
        if cmd.tif is not TimeInForce.GTC:
            return Code.INVALID_ORDER, "an iceberg order must be GTC"
        if not 0 < cmd.iceberg_qty < cmd.qty:
            return Code.INVALID_ORDER, "icebergQty must be positive and less than the quantity"
    if cmd.price and cmd.price * cmd.qty * per_lot_tick < min_notional:
        return Code.MIN_NOTIONAL, "order value below the market's minimum notional"
    return None


def lock_for_market_order(cmd: PlaceOrder, market: MarketSpec, book: Book) -> tuple[str, int]:
    """What accepting a MARKET order locks: for a buy, the quote it would spend on the book as it stands (or
    its quote amount); for a sell, its base quantity (or, sized by quote, the lots that amount would sell)."""
    opposite = Side.SELL if cmd.side is Side.BUY else Side.BUY
    if cmd.side is Side.BUY:
        if cmd.quote_qty:
            return market.quote.symbol, cmd.quote_qty
        cost, left = 0, cmd.qty
        for maker in book.walk(opposite):
            if not within(cmd.side is Side.BUY, cmd.price, maker.price):
                break
            take = min(left, maker.remaining)
            cost += market.notional(maker.price, take)
            left -= take
            if not left:
                break
        return market.quote.symbol, cost
    if cmd.qty and not cmd.quote_qty:
        return market.base.symbol, market.base_units(cmd.qty)
    lots, budget = 0, cmd.quote_qty
    for maker in book.walk(opposite):
        if not within(cmd.side is Side.BUY, cmd.price, maker.price):
            break
        per_lot = market.notional(maker.price, 1)
        take = min(maker.remaining, budget // per_lot)
        if cmd.qty:
            take = min(take, cmd.qty - lots)
        lots += take
        budget -= take * per_lot
        if take < maker.remaining or (cmd.qty and lots == cmd.qty):
            break
    return market.base.symbol, market.base_units(lots)

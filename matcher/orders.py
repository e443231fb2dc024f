"""MARKET orders' rules, off the engine's hot path: what makes one valid, and what accepting one locks."""

from __future__ import annotations

from .book import Book
from .market import MarketSpec
from .model import Code, PlaceOrder, Side
from .state import within


def validate_market_order(cmd: PlaceOrder, min_notional: int) -> tuple[Code, str] | None:
    """A MARKET order may carry a protection price (the worst it will trade at; 0 = none) and, when sized by
    quote amount, a base quantity cap: what a signed settlement order needs."""
    if cmd.price < 0:
        return Code.PRICE_FILTER, "protection price must not be negative"
    if cmd.qty <= 0 and cmd.quote_qty <= 0:
        return Code.INVALID_ORDER, "MARKET orders take quantity or quoteOrderQty"
    if cmd.qty < 0 or cmd.quote_qty < 0:
        return Code.LOT_SIZE, "quantity must be positive"
    if cmd.quote_qty and cmd.quote_qty < min_notional:
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

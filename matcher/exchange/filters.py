"""Binance's symbol and exchange filters beyond what the engine checks itself (tick, lot and minimum notional):
price and quantity ceilings, MARKET_LOT_SIZE, NOTIONAL's maximum, PERCENT_PRICE_BY_SIDE against the 5-minute
average price, ICEBERG_PARTS, TRAILING_DELTA, MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS and EXCHANGE_MAX_NUM_ORDERS. Each is listed in exchangeInfo
exactly as it is enforced; each rejection is -1013 "Filter failure: <FILTER>" as on Binance. Nothing here
changes state: an order that fails a filter changes nothing.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, NamedTuple

from matcher.errors import BadMarketSpec
from matcher.model import ExecType, OrderType, OrderUpdate, PlaceOrder, Status

from . import history
from .errors import FILTER_FAILURE, ApiError
from .intervals import MINUTE
from .units import format_units

ALGO_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
INT_LIMITS = ("max_num_orders", "max_num_algo_orders", "iceberg_parts", "min_trailing_above_delta",
              "max_trailing_above_delta", "min_trailing_below_delta", "max_trailing_below_delta")
AVG_PRICE_MINS = 5


@dataclass(frozen=True)
class Limits:
    """A market's ceilings, in whole units of its assets (what its TOML table may set)."""

    max_price: Fraction = Fraction(1_000_000)  # quote per base
    max_qty: Fraction = Fraction(9_000_000_000)  # base, for limit orders
    market_max_qty: Fraction = Fraction(9_000_000_000)  # base, for market orders
    max_notional: Fraction = Fraction(9_000_000_000)  # quote
    multiplier_up: Fraction = Fraction(5)  # PERCENT_PRICE_BY_SIDE: at most avg x up, at least avg x down
    multiplier_down: Fraction = Fraction(1, 5)
    max_num_orders: int = 200
    max_num_algo_orders: int = 5
    iceberg_parts: int = 10  # an iceberg's quantity is at most this many of its slices
    min_trailing_above_delta: int = 10  # basis points, for stops that trigger on a rise (STOP_LOSS BUY, TAKE_PROFIT
    max_trailing_above_delta: int = 2_000  # SELL and their _LIMIT forms)
    min_trailing_below_delta: int = 10  # ... and on a fall (STOP_LOSS SELL, TAKE_PROFIT BUY)
    max_trailing_below_delta: int = 2_000

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> Limits:
        try:
            fields = {name: Fraction(str(table[name])) for name in ("max_price", "max_qty", "market_max_qty",
                                                                     "max_notional", "multiplier_up",
                                                                     "multiplier_down") if name in table}
        except ValueError as exc:
            raise BadMarketSpec(f"market {table.get('symbol', '?')}: {exc}") from None
        for name, value in fields.items():
            if value <= 0 or (value * 10**8).denominator != 1:
                raise BadMarketSpec(f"market {table.get('symbol', '?')}: {name} must be positive with at most 8 "
                                    f"decimals")
        fields.update({name: int(table[name]) for name in INT_LIMITS if name in table})
        return cls(**fields)


def symbol_filters(market: Any) -> list[dict[str, Any]]:
    spec, limits, bounds = market.spec, market.limits, market.bounds  # the ceilings `check` enforces
    price, qty, quote = market.price_text, market.qty_text, market.quote_text
    max_ticks, max_lots, market_lots = bounds.max_price_ticks, bounds.max_lots, bounds.market_max_lots
    multiplier = _text
    return [
        {"filterType": "PRICE_FILTER", "minPrice": price(1), "maxPrice": price(max_ticks), "tickSize": price(1)},
        {"filterType": "LOT_SIZE", "minQty": qty(1), "maxQty": qty(max_lots), "stepSize": qty(1)},
        {"filterType": "MARKET_LOT_SIZE", "minQty": qty(1), "maxQty": qty(market_lots), "stepSize": qty(1)},
        {"filterType": "MIN_NOTIONAL", "minNotional": quote(spec.min_notional), "applyToMarket": True,
         "avgPriceMins": AVG_PRICE_MINS},
        {"filterType": "NOTIONAL", "minNotional": quote(spec.min_notional), "applyMinToMarket": True,
         "maxNotional": quote(bounds.max_notional_units), "applyMaxToMarket": False,
         "avgPriceMins": AVG_PRICE_MINS},
        {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": multiplier(limits.multiplier_up),
         "bidMultiplierDown": multiplier(limits.multiplier_down), "askMultiplierUp": multiplier(limits.multiplier_up),
         "askMultiplierDown": multiplier(limits.multiplier_down), "avgPriceMins": AVG_PRICE_MINS},
        {"filterType": "ICEBERG_PARTS", "limit": limits.iceberg_parts},
        {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": limits.min_trailing_above_delta,
         "maxTrailingAboveDelta": limits.max_trailing_above_delta,
         "minTrailingBelowDelta": limits.min_trailing_below_delta,
         "maxTrailingBelowDelta": limits.max_trailing_below_delta},
        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": limits.max_num_orders},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": limits.max_num_algo_orders},
    ]


class OpenOrders:
    """Open orders per account (and per market, and algo orders per market), kept from the order updates as they
    commit, so the MAX_NUM_ORDERS filters cost O(1) however many orders are open."""

    TERMINAL = ("FILLED", "CANCELED", "EXPIRED", "REJECTED", "EXPIRED_IN_MATCH")
    _TERMINAL = tuple(Status(status) for status in TERMINAL)  # the members: found by identity

    def __init__(self, db: sqlite3.Connection) -> None:
        self.per_market: dict[tuple[str, str], int] = {}
        self.algo: dict[tuple[str, str], int] = {}
        self.per_account: dict[str, int] = {}
        for account, symbol, kind, count in db.execute(
                "SELECT account, symbol, type, COUNT(*) FROM orders WHERE status IN ('NEW', 'PARTIALLY_FILLED') "
                "GROUP BY account, symbol, type"):
            self._add(account, symbol, kind, count)

    def _add(self, account: str, symbol: str, kind: str, count: int) -> None:
        self.per_market[account, symbol] = self.per_market.get((account, symbol), 0) + count
        self.per_account[account] = self.per_account.get(account, 0) + count
        if kind in ALGO_TYPES:
            self.algo[account, symbol] = self.algo.get((account, symbol), 0) + count

    def listener(self, seq: int, command: Any, result: Any) -> None:
        """A core listener: +1 for each order that opens, -1 for each that ends."""
        for event in result.events:
            if type(event) is OrderUpdate:
                if event.exec_type is ExecType.NEW:
                    self._add(event.account, event.symbol, event.type.value, 1)
                if event.status in self._TERMINAL:
                    self._add(event.account, event.symbol, event.type.value, -1)


def check(command: PlaceOrder, market: Any, percent_bounds: Callable[[Any, int, int], tuple[int, int] | None],
          now: int, last_price: int, exchange_max_orders: int, open_orders: OpenOrders) -> None:
    """-1013 for the first filter `command` fails (the engine checks tick, lot and minimum notional).
    `percent_bounds(market, now, last_price)`: the tick prices PERCENT_PRICE_BY_SIDE allows around the 5-minute
    average, None before any trade (AveragePrices.percent_bounds)."""
    limits, bounds = market.limits, market.bounds
    is_market = command.type is OrderType.MARKET or command.type.value in ("STOP_LOSS", "TAKE_PROFIT")
    if not is_market and command.price > bounds.max_price_ticks:
        _fail("PRICE_FILTER")
    if command.stop_price and command.stop_price > bounds.max_price_ticks:
        _fail("PRICE_FILTER")
    if command.qty > (bounds.market_max_lots if is_market else bounds.max_lots):
        _fail("MARKET_LOT_SIZE" if is_market else "LOT_SIZE")
    if not is_market and market.spec.notional(command.price, command.qty) > bounds.max_notional_units:
        _fail("NOTIONAL")
    if not is_market:
        allowed = percent_bounds(market, now, last_price)
        if allowed is not None and not allowed[0] <= command.price <= allowed[1]:
            _fail("PERCENT_PRICE_BY_SIDE")
    if command.iceberg_qty and -(-command.qty // command.iceberg_qty) > limits.iceberg_parts:
        _fail("ICEBERG_PARTS")
    if command.trailing_delta:
        kind = command.type.value
        above = kind.startswith("STOP_LOSS") == (command.side.value == "BUY")  # triggers on a rise
        low, high = ((limits.min_trailing_above_delta, limits.max_trailing_above_delta) if above
                     else (limits.min_trailing_below_delta, limits.max_trailing_below_delta))
        if not low <= command.trailing_delta <= high:
            _fail("TRAILING_DELTA")
    key = (command.account, command.symbol)
    if open_orders.per_market.get(key, 0) + 1 > limits.max_num_orders:
        _fail("MAX_NUM_ORDERS")
    if command.type.value in ALGO_TYPES and open_orders.algo.get(key, 0) + 1 > limits.max_num_algo_orders:
        _fail("MAX_NUM_ALGO_ORDERS")
    if open_orders.per_account.get(command.account, 0) + 1 > exchange_max_orders:
        _fail("EXCHANGE_MAX_NUM_ORDERS")


def percent_price_bounds(reference: Fraction, down: Fraction, up: Fraction) -> tuple[int, int]:
    """The whole tick prices PERCENT_PRICE_BY_SIDE allows: reference x down <= price <= reference x up (for a whole
    price, price <= x is price <= floor(x), and price >= x is price >= ceil(x))."""
    return math.ceil(reference * down), math.floor(reference * up)


def average_price_ticks(db: sqlite3.Connection, market: Any, now: int, last_price: int) -> Fraction:
    """The volume-weighted price of the last 5 minutes in ticks (the last price when nothing traded; 0 before any
    trade)."""
    stats = history.window(db, market.symbol, now - AVG_PRICE_MINS * MINUTE, now)
    if stats is None or not stats.volume:
        return Fraction(last_price)
    spec = market.spec
    return Fraction(stats.quote, spec.quote_per_lot_tick * stats.volume)


class AveragePrices:
    """`average_price_ticks` per market, computed again only when its inputs may have moved: the minute of `now`
    (the window is whole minutes up to the current one), the last price, or `changes()` - a count that moves with
    every write that can add a fill to the candles (ExchangeCore.changes). The percent-price filter asks on every
    order; this answers most of them without reading the candles."""

    def __init__(self, db: sqlite3.Connection, changes: Callable[[], int]) -> None:
        self.db, self.changes = db, changes
        # per market: the inputs, the average, and the percent-price bounds around it (None: no average yet)
        self._cached: dict[str, tuple[tuple[int, int, int], Fraction, tuple[int, int] | None]] = {}

    def ticks(self, market: Any, now: int, last_price: int) -> Fraction:
        return self._entry(market, now, last_price)[1]

    def percent_bounds(self, market: Any, now: int, last_price: int) -> tuple[int, int] | None:
        """`percent_price_bounds` around the average with the market's multipliers, worked out once per average (an
        order compares integers); None when there is no average yet."""
        return self._entry(market, now, last_price)[2]

    def _entry(self, market: Any, now: int,
               last_price: int) -> tuple[tuple[int, int, int], Fraction, tuple[int, int] | None]:
        key = (now // MINUTE, self.changes(), last_price)
        cached = self._cached.get(market.symbol)
        if cached is not None and cached[0] == key:
            return cached
        value, limits = average_price_ticks(self.db, market, now, last_price), market.limits
        bounds = percent_price_bounds(value, limits.multiplier_down, limits.multiplier_up) if value else None
        entry = self._cached[market.symbol] = (key, value, bounds)
        return entry


class Bounds(NamedTuple):
    """A market's ceilings in the engine's integers (Market.bounds keeps them: they are checked on every order)."""

    max_price_ticks: int
    max_lots: int
    market_max_lots: int
    max_notional_units: int


def bounds_of(market: Any) -> Bounds:
    return Bounds(max_price_ticks(market), max_lots_of(market, market.limits.max_qty),
                  max_lots_of(market, market.limits.market_max_qty), max_notional_units(market))


def max_price_ticks(market: Any) -> int:
    spec = market.spec
    return int(market.limits.max_price * 10**spec.quote.decimals // spec.tick_size)


def max_lots_of(market: Any, whole: Fraction) -> int:
    spec = market.spec
    return int(whole * 10**spec.base.decimals // spec.lot_size)


def max_notional_units(market: Any) -> int:
    return int(market.limits.max_notional * 10**market.spec.quote.decimals)


def _text(value: Fraction) -> str:
    return format_units(int(value * 10**8), 8, 8)  # exact: Limits.from_table allows at most 8 decimals


def _fail(name: str) -> None:
    raise ApiError(FILTER_FAILURE, f"Filter failure: {name}")


__all__ = ["Limits", "OpenOrders", "check", "symbol_filters"]

"""Exchange markets: a MarketSpec plus how its numbers look in the API (Binance's exchangeInfo filters).

A markets file (TOML) lists them with decimal sizes, converted exactly:

    [[market]]
    symbol = "BRSWBNB"
    base = { symbol = "BRS", token = "0x...", decimals = 18 }
    quote = { symbol = "WBNB", token = "0x...", decimals = 18 }
    tick_size = "0.0001"      # quote per base
    lot_size = "0.01"         # base
    min_notional = "0.001"    # quote
    maker_fee_bps = 10
    taker_fee_bps = 20
    # optional ceilings and filters (whole units; Binance-like defaults): max_price, max_qty, market_max_qty,
    # max_notional, multiplier_up / multiplier_down (PERCENT_PRICE_BY_SIDE), max_num_orders, max_num_algo_orders
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from eth_utils import is_address, to_checksum_address

from matcher.errors import BadMarketSpec
from matcher.market import Asset, MarketSpec

from .filters import Bounds, Limits, bounds_of, symbol_filters
from .errors import FILTER_FAILURE, INVALID_SYMBOL, ApiError
from .units import format_units, parse_units, places_of

@dataclass(frozen=True)
class Market:
    spec: MarketSpec
    limits: Limits = Limits()

    @property
    def symbol(self) -> str:
        return self.spec.symbol

    # computed once (a frozen dataclass: what they are computed from cannot change); on every order's path
    @cached_property
    def price_places(self) -> int:
        return places_of(self.spec.tick_size, self.spec.quote.decimals)

    @cached_property
    def qty_places(self) -> int:
        return places_of(self.spec.lot_size, self.spec.base.decimals)

    @cached_property
    def bounds(self) -> Bounds:
        return bounds_of(self)

    # --- API strings <-> engine integers -------------------------------------------------------------------
    def ticks(self, price: object, field: str = "price") -> int:
        units = parse_units(price, self.spec.quote.decimals, field)
        if units % self.spec.tick_size:
            raise ApiError(FILTER_FAILURE, "Filter failure: PRICE_FILTER")
        return units // self.spec.tick_size

    def lots(self, quantity: object, field: str = "quantity") -> int:
        units = parse_units(quantity, self.spec.base.decimals, field)
        if units % self.spec.lot_size:
            raise ApiError(FILTER_FAILURE, "Filter failure: LOT_SIZE")
        return units // self.spec.lot_size

    def quote_units(self, amount: object, field: str = "quoteOrderQty") -> int:
        return parse_units(amount, self.spec.quote.decimals, field)

    # Binance writes every price and quantity with (at least) 8 decimals: clients compare strings such as
    # "0.00000000" (python-binance's depth cache removes a level only on exactly that)
    # An order's answer shows seven amounts, most of them 0 or a price or size seen before: each text is kept
    # (up to TEXTS_KEPT of each kind) rather than formatted again.
    def price_text(self, ticks: int) -> str:
        return _kept_text(self._texts[0], ticks, self.spec.tick_size, self.spec.quote.decimals, self.price_places)

    def qty_text(self, lots: int) -> str:
        return _kept_text(self._texts[1], lots, self.spec.lot_size, self.spec.base.decimals, self.qty_places)

    def quote_text(self, units: int) -> str:
        return _kept_text(self._texts[2], units, 1, self.spec.quote.decimals, self.price_places)

    @cached_property
    def _texts(self) -> tuple[dict[int, str], dict[int, str], dict[int, str]]:
        return {}, {}, {}  # prices, quantities, quote amounts

    def derived_price_text(self, units: int) -> str:
        """A computed price (an average: quote units per whole base unit) cut to the API's decimals."""
        places = max(8, self.price_places)
        decimals = self.spec.quote.decimals
        cut = units - units % 10 ** (decimals - places) if decimals > places else units
        return format_units(cut, decimals, places)

    def asset_text(self, asset: str, units: int) -> str:
        decimals = self.spec.base.decimals if asset == self.spec.base.symbol else self.spec.quote.decimals
        return format_units(units, decimals, 8 if decimals >= 8 else decimals)

    def settlement_price(self, ticks: int) -> int:
        return self.spec.settlement_price(ticks)

    def ticks_from_settlement_price(self, price: int, round_up: bool) -> int:
        """The tick price for a signed vault price (quote units per base unit x 10**18)."""
        scale = self.spec.tick_size * 10**18
        whole, rest = divmod(price * 10**self.spec.base.decimals, scale)
        return whole + (1 if rest and round_up else 0)

    def info(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "symbol": spec.symbol, "status": "TRADING",
            "baseAsset": spec.base.symbol, "baseAssetPrecision": spec.base.decimals,
            "quoteAsset": spec.quote.symbol, "quotePrecision": spec.quote.decimals,
            "quoteAssetPrecision": spec.quote.decimals,
            "baseToken": spec.base.token, "quoteToken": spec.quote.token,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                           "TAKE_PROFIT_LIMIT"],
            "timeInForce": ["GTC", "IOC", "FOK"],
            "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8, "icebergAllowed": True,
            "ocoAllowed": True, "otoAllowed": True, "cancelReplaceAllowed": True, "amendAllowed": True,
            "allowTrailingStop": True, "quoteOrderQtyMarketAllowed": True, "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False, "permissions": [], "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "NONE",
            "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
            "makerFeeBps": spec.maker_fee_bps, "takerFeeBps": spec.taker_fee_bps,
            "lotSizeUnits": str(spec.lot_size), "tickSizeUnits": str(spec.tick_size),
            "filters": symbol_filters(self),
        }


class Markets:
    """The exchange's markets by symbol and their assets by symbol and token. Listings add to it while the exchange
    runs (`add`); everything reads it at each request, so a new market is served as soon as it is added."""

    def __init__(self, markets: list[Market]) -> None:
        self.by_symbol: dict[str, Market] = {}
        self.assets: dict[str, Asset] = {}
        self.by_token: dict[str, Asset] = {}
        for market in markets:
            self.add(market)

    def check(self, market: Market) -> None:
        """BadMarketSpec if `market` cannot join: its symbol is taken, or an asset symbol or token is already
        defined otherwise."""
        if market.symbol in self.by_symbol:
            raise BadMarketSpec(f"market {market.symbol} is defined twice")
        for asset in (market.spec.base, market.spec.quote):
            for known in (self.assets.get(asset.symbol), self.by_token.get(asset.token)):
                if known is not None and known != asset:
                    raise BadMarketSpec(f"asset {asset.symbol} is defined twice with different tokens or decimals")

    def add(self, market: Market) -> None:
        """Add a market (after `check`: nothing is added if it fails)."""
        self.check(market)
        self.by_symbol[market.symbol] = market
        for asset in (market.spec.base, market.spec.quote):
            self.assets[asset.symbol] = self.by_token[asset.token] = asset

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.by_symbol.values())

    def get(self, symbol: object) -> Market:
        market = self.by_symbol.get(symbol) if isinstance(symbol, str) else None
        if market is None:
            raise ApiError(INVALID_SYMBOL, "Invalid symbol.")
        return market

    @property
    def specs(self) -> list[MarketSpec]:
        return [m.spec for m in self]


TEXTS_KEPT = 4096  # of each kind, per market: a few hundred KB at most


def _kept_text(texts: dict[int, str], amount: int, unit: int, decimals: int, places: int) -> str:
    """`amount` x `unit` units as the API writes them (at least 8 decimals), kept in `texts` by amount."""
    if type(amount) is not int:  # a bool, say: formatted, never a key
        return format_units(amount * unit, decimals, max(8, places))
    text = texts.get(amount)
    if text is None:
        text = format_units(amount * unit, decimals, max(8, places))
        if len(texts) >= TEXTS_KEPT:
            texts.clear()  # bounded: a spread of new amounts costs the kept texts, not memory
        texts[amount] = text
    return text


def market_from_table(table: dict[str, Any]) -> Market:
    try:
        base, quote = _asset(table["base"]), _asset(table["quote"])
        spec = MarketSpec(
            symbol=str(table["symbol"]), base=base, quote=quote,
            tick_size=_units(table["tick_size"], quote.decimals, "tick_size"),
            lot_size=_units(table["lot_size"], base.decimals, "lot_size"),
            min_notional=_units(table.get("min_notional", "0"), quote.decimals, "min_notional"),
            maker_fee_bps=int(table.get("maker_fee_bps", 0)), taker_fee_bps=int(table.get("taker_fee_bps", 0)))
    except (KeyError, TypeError) as exc:
        raise BadMarketSpec(f"market {table.get('symbol', '?')}: missing or bad field {exc}") from None
    return Market(spec, Limits.from_table(table))


def load_markets(path: Path) -> Markets:
    try:
        document = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BadMarketSpec(f"markets file {path}: {exc}") from None
    tables = document.get("market")
    if not isinstance(tables, list) or not tables:
        raise BadMarketSpec(f"markets file {path} has no [[market]] tables")
    return Markets([market_from_table(t) for t in tables])


def _asset(table: dict[str, Any]) -> Asset:
    token = str(table["token"])
    if not is_address(token):
        raise BadMarketSpec(f"asset {table.get('symbol')}: token {token!r} is not an address")
    return Asset(str(table["symbol"]), to_checksum_address(token), int(table["decimals"]))


def _units(value: Any, decimals: int, field: str) -> int:
    try:
        return parse_units(value, decimals, field)
    except ApiError as exc:
        raise BadMarketSpec(f"{field}: {exc.msg}") from None


__all__ = ["Market", "Markets", "load_markets", "market_from_table"]

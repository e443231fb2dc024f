"""Markets: integer ticks and lots, and the exact conversion to token units.

A price is a whole number of ticks, a quantity a whole number of lots. One lot
at one tick is worth `quote_per_lot_tick` quote units, an integer checked when
the market is defined, so every notional is `price * qty * quote_per_lot_tick`
with no rounding anywhere inside the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .errors import BadMarketSpec


@dataclass(frozen=True)
class Asset:
    symbol: str
    token: str  # token address ("0x000..." for the native coin)
    decimals: int


@dataclass(frozen=True)
class MarketSpec:
    symbol: str
    base: Asset
    quote: Asset
    tick_size: int  # quote units per whole base unit (10**base.decimals base units) per tick
    lot_size: int  # base units per lot
    min_notional: int  # quote units
    maker_fee_bps: int
    taker_fee_bps: int

    def __post_init__(self) -> None:
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise BadMarketSpec(f"{self.symbol}: tick and lot sizes must be positive")
        if (self.tick_size * self.lot_size) % 10**self.base.decimals:
            raise BadMarketSpec(
                f"{self.symbol}: one lot at one tick is not a whole number of quote units "
                f"(tick {self.tick_size} x lot {self.lot_size} / 10^{self.base.decimals})")
        if not 0 <= self.maker_fee_bps <= 10_000 or not 0 <= self.taker_fee_bps <= 10_000:
            raise BadMarketSpec(f"{self.symbol}: fees must be between 0 and 10000 bps")

    @cached_property
    def quote_per_lot_tick(self) -> int:
        return self.tick_size * self.lot_size // 10**self.base.decimals

    def notional(self, price_ticks: int, qty_lots: int) -> int:
        """Quote units for `qty_lots` at `price_ticks`."""
        return price_ticks * qty_lots * self.quote_per_lot_tick

    def base_units(self, qty_lots: int) -> int:
        return qty_lots * self.lot_size

    def settlement_price(self, price_ticks: int) -> int:
        """The vault's price for a tick price: quote units per base unit, scaled by 10**18."""
        return price_ticks * self.tick_size * 10**18 // 10**self.base.decimals

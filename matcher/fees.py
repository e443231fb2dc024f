"""Fees paid in the platform token at a discount (BNB-style)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

PRICE_SCALE = 10**18


@dataclass(frozen=True)
class FeePolicy:
    """Fees paid in the platform token: `rates[asset]` platform-token units per asset unit (x 10**18)."""

    platform_asset: str = ""
    discount_bps: int = 0
    rates: dict[str, int] = field(default_factory=dict)

    def platform_fee(self, asset: str, fee: int) -> int | None:
        rate = self.rates.get(asset)
        if not self.platform_asset or not rate:
            return None
        return fee * rate // PRICE_SCALE * (10_000 - self.discount_bps) // 10_000

    def with_rate(self, asset: str, rate: int) -> FeePolicy:
        rates = {a: r for a, r in self.rates.items() if a != asset}
        if rate:
            rates[asset] = rate
        return replace(self, rates=rates)

    def with_discount(self, discount_bps: int) -> FeePolicy:
        return replace(self, discount_bps=discount_bps)

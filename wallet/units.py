"""Exact conversions between user-facing amounts and integer base units (never floats)."""

from __future__ import annotations

import re

from .errors import WalletError

ETHER = 10**18
GWEI = 10**9
_AMOUNT = re.compile(r"^\s*(\d+)(?:\.(\d+))?\s*([a-zA-Z]*)\s*$")
_UNITS = {"": None, "wei": 0, "gwei": 9, "ether": 18, "eth": 18, "bnb": 18}


def parse_amount(text: str, decimals: int = 18) -> int:
    """`"1.5"` -> 1.5 * 10**decimals; `"1.5ether"`, `"20gwei"`, `"7wei"` name their unit. Refuses lost digits."""
    match = _AMOUNT.match(str(text))
    if not match:
        raise WalletError(f"not an amount: {text!r} (use digits, optionally with a unit: wei, gwei, ether)")
    whole, fraction, unit = match.group(1), match.group(2) or "", match.group(3).lower()
    if unit not in _UNITS:
        raise WalletError(f"unknown unit {unit!r} in {text!r} (wei, gwei, ether)")
    scale = decimals if _UNITS[unit] is None else _UNITS[unit]
    if len(fraction.rstrip("0")) > scale:
        raise WalletError(f"{text!r} has more than {scale} decimals")
    return int(whole) * 10**scale + (int(fraction.ljust(scale, "0")[:scale]) if scale else 0)


def format_amount(amount: int, decimals: int = 18) -> str:
    """Integer base units as an exact decimal string: 1500000000000000000 -> "1.5"."""
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**decimals)
    text = f"{whole}.{fraction:0{decimals}d}".rstrip("0").rstrip(".") if decimals else str(whole)
    return sign + text

"""Exact conversions between the API's decimal strings and integer base units (no floats, no rounding)."""

from __future__ import annotations

import functools
import re

from .errors import ApiError, BAD_PRECISION, MALFORMED

_DECIMAL = re.compile(r"^(\d+)(?:\.(\d*))?$")


def parse_units(text: object, decimals: int, field: str) -> int:
    """`"1.5"` with 18 decimals -> 1500000000000000000; more digits than `decimals` is an error, not a rounding."""
    if type(text) is str and len(text) <= 80:
        known = _PARSED.get((text, decimals))
        if known is not None:
            return known
        units = _parse_units(text, decimals, field)
        if len(_PARSED) >= PARSED_KEPT:
            _PARSED.clear()  # bounded: a spread of new amounts costs the kept ones, not memory
        _PARSED[text, decimals] = units
        return units
    return _parse_units(text, decimals, field)


PARSED_KEPT = 8192  # amounts read recently (an order's price and size, mostly seen before), by text of <= 80 chars
_PARSED: dict[tuple[str, int], int] = {}


def _parse_units(text: object, decimals: int, field: str) -> int:
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise ApiError(MALFORMED, f"Mandatory parameter '{field}' was not sent, was empty/null, or malformed.")
    match = _DECIMAL.match(str(text).strip())
    if not match:
        raise ApiError(MALFORMED, f"Parameter '{field}' is not a non-negative decimal number.")
    whole, fraction = match.group(1), (match.group(2) or "").rstrip("0")
    if len(fraction) > decimals:
        raise ApiError(BAD_PRECISION, f"Parameter '{field}' has too much precision.")
    return int(whole) * 10**decimals + (int(fraction.ljust(decimals, "0")) if decimals and fraction else 0)


def format_units(amount: int, decimals: int, places: int | None = None) -> str:
    """Integer units as a decimal string with at least `places` decimals (never dropping a non-zero digit)."""
    places = decimals if places is None else places
    if not amount:  # most fields of a new order (executed, stop price, iceberg...): the text without arithmetic
        return "0." + "0" * places if places else "0"
    sign = "-" if amount < 0 else ""
    whole, fraction = divmod(abs(amount), 10**decimals)
    digits = f"{fraction:0{decimals}d}" if decimals else ""
    keep = max(places, len(digits.rstrip("0")))
    return f"{sign}{whole}.{(digits + '0' * keep)[:keep]}" if keep else f"{sign}{whole}"


@functools.lru_cache(maxsize=4096)  # a few (tick or lot, decimals) pairs per market, asked for every order shown
def places_of(step: int, decimals: int) -> int:
    """Decimals needed to show multiples of `step` units exactly (tick 10**14 of 18 decimals -> 4)."""
    places = decimals
    while places > 0 and step % 10 ** (decimals - places + 1) == 0:
        places -= 1
    return places

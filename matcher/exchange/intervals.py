"""Binance's kline intervals (1s ... 1M) and time zones: which bucket a time falls in, and which stored base
resolution a candle of an interval is built from.

Candles are stored at four base resolutions (1s, 1m, 1h, 1d); every other interval is a fixed number of base
candles (3m = 3 x 1m, 1w = 7 x 1d, 1M = the days of a month), so a query reads at most ~60 stored rows per candle
it returns. Buckets are aligned as Binance aligns them: to the epoch in the request's time zone, weeks starting on
Monday, months on the 1st.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from .errors import BAD_INTERVAL, ILLEGAL_PARAM, ApiError

SECOND, MINUTE, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000
WEEK = 7 * DAY
MONTH = -1  # calendar months have no fixed length
BASES = (SECOND, MINUTE, HOUR, DAY)
INTERVALS = {"1s": SECOND, "1m": MINUTE, "3m": 3 * MINUTE, "5m": 5 * MINUTE, "15m": 15 * MINUTE,
             "30m": 30 * MINUTE, "1h": HOUR, "2h": 2 * HOUR, "4h": 4 * HOUR, "6h": 6 * HOUR, "8h": 8 * HOUR,
             "12h": 12 * HOUR, "1d": DAY, "3d": 3 * DAY, "1w": WEEK, "1M": MONTH}
MONDAY_AFTER_EPOCH = 4 * DAY  # 1970-01-05
_ZONE = re.compile(r"^([+-]?)(\d{1,2})(?::(\d{2}))?$")


def interval(name: object) -> int:
    """The interval's length in ms (MONTH for 1M); -1120 for anything else, as Binance."""
    if not isinstance(name, str) or name not in INTERVALS:
        raise ApiError(BAD_INTERVAL, "Invalid interval.")
    return INTERVALS[name]


def time_zone(text: object) -> int:
    """Binance's `timeZone` (hours[:minutes], -12:00 to +14:00; default 0) as an offset in ms."""
    if text is None or text == "":
        return 0
    match = _ZONE.match(str(text).strip())
    if not match:
        raise ApiError(ILLEGAL_PARAM, f"Invalid timeZone: {text}")
    sign = -1 if match.group(1) == "-" else 1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    offset = sign * (hours * HOUR + minutes * MINUTE)
    if minutes >= 60 or not -12 * HOUR <= offset <= 14 * HOUR:
        raise ApiError(ILLEGAL_PARAM, f"Invalid timeZone: {text} (from -12:00 to +14:00)")
    return offset


def bucket(time_ms: int, length: int, zone: int = 0) -> int:
    """The open time (UTC ms) of the candle of `length` in time zone `zone` that `time_ms` falls in."""
    if length == MONTH:
        local = datetime.fromtimestamp((time_ms + zone) / 1000, timezone.utc)
        first = datetime(local.year, local.month, 1, tzinfo=timezone.utc)
        return int(first.timestamp()) * 1000 - zone
    shift = zone - (MONDAY_AFTER_EPOCH if length == WEEK else 0)
    return (time_ms + shift) // length * length - shift


def close_time(open_ms: int, length: int, zone: int = 0) -> int:
    """The last ms of the candle that opens at `open_ms`."""
    return next_open(open_ms, length, zone) - 1


def next_open(open_ms: int, length: int, zone: int = 0) -> int:
    if length == MONTH:
        local = datetime.fromtimestamp((open_ms + zone) / 1000, timezone.utc) + timedelta(days=32)
        return bucket(int(datetime(local.year, local.month, 1, tzinfo=timezone.utc).timestamp()) * 1000 - zone,
                      MONTH, zone)
    return open_ms + length


def base_of(length: int, zone: int) -> int:
    """The coarsest stored resolution whose candles tile candles of `length` in time zone `zone` exactly."""
    for base in reversed(BASES):
        tiles = length == MONTH or length % base == 0
        if tiles and zone % base == 0:
            return base
    return SECOND


__all__ = ["BASES", "DAY", "HOUR", "INTERVALS", "MINUTE", "MONTH", "SECOND", "WEEK", "base_of", "bucket",
           "close_time", "interval", "next_open", "time_zone"]

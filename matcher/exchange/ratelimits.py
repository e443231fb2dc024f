"""Binance's rate limits: request weight per minute and raw requests per 5 minutes (per IP), orders per 10 s and per
day (per account), in fixed windows as Binance counts them. Over a limit:
HTTP 429 with `Retry-After`; an IP that keeps sending while refused is banned with HTTP 418 for 2 minutes, each
further ban twice as long (up to 3 days). Used counts are reported in `X-MBX-USED-WEIGHT-1M` and
`X-MBX-ORDER-COUNT-10S` / `-1D` headers, and the limits in `exchangeInfo.rateLimits`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError

TOO_MANY_REQUESTS = -1003
TOO_MANY_ORDERS = -1015
SECOND, MINUTE, DAY = 1000, 60_000, 86_400_000
IGNORED_REFUSALS_BEFORE_BAN = 20
FIRST_BAN_MS, LONGEST_BAN_MS = 2 * MINUTE, 3 * DAY


@dataclass(frozen=True)
class RateLimits:
    """The limits (0 turns one off). Binance's defaults."""

    request_weight_per_minute: int = 6000
    raw_requests_per_5_minutes: int = 61_000
    orders_per_10_seconds: int = 100
    orders_per_day: int = 200_000

    def info(self) -> list[dict[str, Any]]:
        return [{"rateLimitType": kind, "interval": unit, "intervalNum": number, "limit": limit}
                for kind, unit, number, limit in (
                    ("REQUEST_WEIGHT", "MINUTE", 1, self.request_weight_per_minute),
                    ("ORDERS", "SECOND", 10, self.orders_per_10_seconds),
                    ("ORDERS", "DAY", 1, self.orders_per_day),
                    ("RAW_REQUESTS", "MINUTE", 5, self.raw_requests_per_5_minutes)) if limit]


@dataclass
class _Window:
    length: int
    start: int = -1
    used: int = 0

    def current(self, now: int) -> int:
        start = now // self.length * self.length
        if start != self.start:
            self.start, self.used = start, 0
        return self.used

    def retry_after_s(self, now: int) -> int:
        return max(1, -(-(self.start + self.length - now) // 1000))


@dataclass
class _Client:
    weight: _Window = field(default_factory=lambda: _Window(MINUTE))
    raw: _Window = field(default_factory=lambda: _Window(5 * MINUTE))
    refused: int = 0
    banned_until: int = 0
    bans: int = 0


@dataclass
class _Orders:
    ten_seconds: _Window = field(default_factory=lambda: _Window(10 * SECOND))
    day: _Window = field(default_factory=lambda: _Window(DAY))


class RateLimiter:
    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._clients: dict[str, _Client] = {}
        self._orders: dict[str, _Orders] = {}

    def info(self) -> list[dict[str, Any]]:
        return self.limits.info()

    def admit(self, ip: str, weight: int, now: int) -> dict[str, str]:
        """Count a request of `weight` from `ip`; its headers, or ApiError 429/418 (nothing counted)."""
        client = self._clients.get(ip) or self._clients.setdefault(ip, _Client())  # built only when new
        if client.banned_until > now:
            raise ApiError(TOO_MANY_REQUESTS, f"Way too much request weight used; IP banned until "
                                              f"{client.banned_until}. Please use WebSocket Streams for live updates "
                                              f"to avoid bans.", status=418,
                           headers={"Retry-After": str(max(1, -(-(client.banned_until - now) // 1000)))})
        limits = self.limits
        used, raw = client.weight.current(now), client.raw.current(now)
        for window, limit, count, what in ((client.weight, limits.request_weight_per_minute, used + weight,
                                            f"request weight is {limits.request_weight_per_minute} per 1 minute"),
                                           (client.raw, limits.raw_requests_per_5_minutes, raw + 1,
                                            f"raw requests is {limits.raw_requests_per_5_minutes} per 5 minutes")):
            if limit and count > limit:
                self._refused(client, now)
                raise ApiError(TOO_MANY_REQUESTS, f"Too many requests; current limit of IP({ip}) {what}. Please "
                                                  f"use WebSocket Streams for live updates to avoid bans.",
                               status=429, headers={"Retry-After": str(window.retry_after_s(now)),
                                                    **self._weight_header(client)})
        client.refused = 0
        client.weight.used += weight
        client.raw.used += 1
        return self._weight_header(client)

    def count_order(self, who: str, now: int) -> dict[str, str]:
        """Count a new order of `who` (an account or an IP); its headers, or ApiError 429 (not counted)."""
        orders = self._orders.get(who) or self._orders.setdefault(who, _Orders())  # built only when new
        limits = self.limits
        for window, limit, text in ((orders.ten_seconds, limits.orders_per_10_seconds, "10 SECOND"),
                                    (orders.day, limits.orders_per_day, "1 DAY")):
            if limit and window.current(now) + 1 > limit:
                raise ApiError(TOO_MANY_ORDERS, f"Too many new orders; current limit is {limit} orders per {text}.",
                               status=429, headers={"Retry-After": str(window.retry_after_s(now)),
                                                    **self._order_headers(orders, now)})
        orders.ten_seconds.used += 1
        orders.day.used += 1
        return self._order_headers(orders, now)

    def order_usage(self, who: str, now: int) -> list[dict[str, Any]]:
        """`GET /api/v3/rateLimit/order`: the order limits with what `who` has used of them."""
        orders = self._orders.get(who) or self._orders.setdefault(who, _Orders())  # built only when new
        return [{"rateLimitType": "ORDERS", "interval": unit, "intervalNum": number, "limit": limit,
                 "count": window.current(now)}
                for unit, number, limit, window in (("SECOND", 10, self.limits.orders_per_10_seconds,
                                                     orders.ten_seconds),
                                                    ("DAY", 1, self.limits.orders_per_day, orders.day)) if limit]

    def _refused(self, client: _Client, now: int) -> None:
        client.refused += 1
        if client.refused > IGNORED_REFUSALS_BEFORE_BAN:
            client.banned_until = now + min(FIRST_BAN_MS << client.bans, LONGEST_BAN_MS)
            client.bans += 1
            client.refused = 0

    @staticmethod
    def _weight_header(client: _Client) -> dict[str, str]:
        return {"X-MBX-USED-WEIGHT-1M": str(client.weight.used)}

    @staticmethod
    def _order_headers(orders: _Orders, now: int) -> dict[str, str]:
        return {"X-MBX-ORDER-COUNT-10S": str(orders.ten_seconds.current(now)),
                "X-MBX-ORDER-COUNT-1D": str(orders.day.current(now))}


def request_weight(path: str, method: str, query: Any, markets: int) -> int:
    """Binance's weight of a request (what it costs of REQUEST_WEIGHT)."""
    def symbols() -> int:
        if "symbol" in query:
            return 1
        if "symbols" in query:
            return max(1, str(query["symbols"]).count(","))
        return markets

    if path == "/api/v3/depth":
        asked = int(query.get("limit", 100)) if str(query.get("limit", "100")).isdigit() else 100
        return 5 if asked <= 100 else 25 if asked <= 500 else 50 if asked <= 1000 else 250
    if path in ("/api/v3/ticker/24hr", "/api/v3/ticker/tradingDay"):
        n = symbols()
        return 2 if n <= 20 else 40 if n <= 100 else 80
    if path == "/api/v3/ticker":
        return min(4 * symbols(), 200)
    if path in ("/api/v3/ticker/price", "/api/v3/ticker/bookTicker"):
        return 2 if "symbol" in query else 4
    if path == "/api/v3/openOrders" and method == "GET":
        return 6 if "symbol" in query else 80
    return WEIGHTS.get((method, path), WEIGHTS.get(("*", path), 1))


WEIGHTS = {("*", "/api/v3/exchangeInfo"): 20, ("*", "/api/v3/trades"): 25, ("*", "/api/v3/historicalTrades"): 25,
           ("*", "/api/v3/aggTrades"): 4, ("*", "/api/v3/klines"): 2, ("*", "/api/v3/uiKlines"): 2,
           ("*", "/api/v3/avgPrice"): 2, ("GET", "/api/v3/order"): 4, ("*", "/api/v3/allOrders"): 20,
           ("*", "/api/v3/myTrades"): 20, ("*", "/api/v3/account"): 20, ("*", "/api/v3/rateLimit/order"): 40,
           ("*", "/api/v3/account/commission"): 20, ("GET", "/api/v3/orderList"): 4, ("POST", "/api/v3/orderList/oco"): 1, ("*", "/api/v3/allOrderList"): 20,
           ("*", "/api/v3/openOrderList"): 6, ("*", "/api/v3/myPreventedMatches"): 20,
           ("POST", "/api/v3/userDataStream"): 2, ("PUT", "/api/v3/userDataStream"): 2,
           ("DELETE", "/api/v3/userDataStream"): 2}
__all__ = ["RateLimiter", "RateLimits", "request_weight"]

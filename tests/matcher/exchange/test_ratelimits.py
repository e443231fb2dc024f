"""Binance's rate limits on a fake clock: weight per minute, raw requests, orders per 10 s and per day, 429 with
Retry-After, and 418 for an IP that keeps sending while refused."""

from __future__ import annotations

import pytest

from matcher.exchange.errors import ApiError
from matcher.exchange.ratelimits import RateLimiter, RateLimits, request_weight

T0 = 1_700_000_020_000  # 40 s into a minute


def test_weight_is_counted_per_minute_and_refused_with_retry_after() -> None:
    limiter = RateLimiter(RateLimits(request_weight_per_minute=100))
    assert limiter.admit("1.2.3.4", 60, T0) == {"X-MBX-USED-WEIGHT-1M": "60"}
    assert limiter.admit("5.6.7.8", 60, T0) == {"X-MBX-USED-WEIGHT-1M": "60"}  # per IP
    with pytest.raises(ApiError) as caught:
        limiter.admit("1.2.3.4", 41, T0 + 1000)
    assert (caught.value.status, caught.value.code) == (429, -1003)
    assert caught.value.headers["Retry-After"] == "19" and caught.value.headers["X-MBX-USED-WEIGHT-1M"] == "60"
    assert limiter.admit("1.2.3.4", 40, T0 + 1000) == {"X-MBX-USED-WEIGHT-1M": "100"}  # a refusal costs nothing
    assert limiter.admit("1.2.3.4", 41, T0 + 20_000) == {"X-MBX-USED-WEIGHT-1M": "41"}  # the next minute


def test_an_ip_that_keeps_sending_while_refused_is_banned_with_418_doubling() -> None:
    limiter = RateLimiter(RateLimits(request_weight_per_minute=10))
    limiter.admit("ip", 10, T0)
    for _ in range(21):
        with pytest.raises(ApiError) as caught:
            limiter.admit("ip", 1, T0 + 1)
        assert caught.value.status == 429
    with pytest.raises(ApiError) as caught:
        limiter.admit("ip", 1, T0 + 2)
    assert caught.value.status == 418 and caught.value.headers["Retry-After"] == "120"
    limiter.admit("ip", 1, T0 + 120_001)  # the ban is over
    for _ in range(22):
        try:
            limiter.admit("ip", 10, T0 + 120_002)
        except ApiError:
            pass
    with pytest.raises(ApiError) as caught:
        limiter.admit("ip", 1, T0 + 120_003)
    assert caught.value.status == 418 and caught.value.headers["Retry-After"] == "240"


def test_orders_are_counted_per_10_seconds_and_per_day() -> None:
    limiter = RateLimiter(RateLimits(orders_per_10_seconds=3, orders_per_day=4))
    for n in (1, 2, 3):
        assert limiter.count_order("alice", T0)["X-MBX-ORDER-COUNT-10S"] == str(n)
    with pytest.raises(ApiError) as caught:
        limiter.count_order("alice", T0 + 1)
    assert (caught.value.status, caught.value.code) == (429, -1015) and "10 SECOND" in caught.value.msg
    assert limiter.count_order("alice", T0 + 10_000) == {"X-MBX-ORDER-COUNT-10S": "1", "X-MBX-ORDER-COUNT-1D": "4"}
    with pytest.raises(ApiError) as caught:
        limiter.count_order("alice", T0 + 20_000)
    assert "1 DAY" in caught.value.msg
    assert limiter.count_order("bob", T0)["X-MBX-ORDER-COUNT-1D"] == "1"
    assert [(u["interval"], u["count"]) for u in limiter.order_usage("alice", T0 + 20_000)] == [("SECOND", 0),
                                                                                              ("DAY", 4)]


def test_weights_follow_binance() -> None:
    assert request_weight("/api/v3/depth", "GET", {"limit": "100"}, 2) == 5
    assert request_weight("/api/v3/depth", "GET", {"limit": "5000"}, 2) == 250
    assert request_weight("/api/v3/ticker/24hr", "GET", {}, 2) == 2
    assert request_weight("/api/v3/ticker/24hr", "GET", {}, 500) == 80
    assert request_weight("/api/v3/exchangeInfo", "GET", {}, 2) == 20
    assert request_weight("/api/v3/klines", "GET", {}, 2) == 2
    assert request_weight("/api/v3/ping", "GET", {}, 2) == 1
    assert RateLimits(raw_requests_per_5_minutes=0).info()[-1]["rateLimitType"] == "ORDERS"

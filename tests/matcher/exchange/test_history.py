"""Candles and aggregate trades: every Binance interval in several time zones equals a brute-force recomputation
from the fills; the stored history is rebuilt exactly from the trades table; queries read only what they return."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from matcher.exchange import history, store
from matcher.exchange.core import ExchangeCore
from matcher.exchange.errors import ApiError
from matcher.exchange.intervals import INTERVALS, bucket, close_time, interval, time_zone
from matcher.exchange.markets import Markets, market_from_table
from matcher.model import OrderType, PlaceOrder, Side, TimeInForce

from .test_units_and_markets import TABLE

FEES = "0x" + "fe" * 20
START = 1_700_000_000_000  # 2023-11-14


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> int:
        return self.now


def trading(path: Path, clock: Clock, steps: int, seed: int = 7) -> ExchangeCore:
    """A core where random orders cross at random prices while the clock jumps seconds to days."""
    core = ExchangeCore(path, Markets([market_from_table(TABLE)]), FEES, clock_ms=clock)
    core.deposit("alice", "BRS", 10**30, "tx:a", 1)
    core.deposit("bob", "WBNB", 10**30, "tx:b", 1)
    rng = random.Random(seed)
    for _ in range(steps):
        clock.now += rng.choice([0, 1, 400, 1_500, 59_000, 3_600_000, 86_400_000 * 3])
        for _ in range(rng.randint(1, 3)):
            core.submit(PlaceOrder("alice", "BRSWBNB", Side.SELL, OrderType.LIMIT, qty=rng.randint(1, 50),
                                   price=rng.randint(1900, 2100), tif=TimeInForce.GTC))
        taker = Side.BUY if rng.random() < 0.5 else Side.SELL
        who = "bob" if taker is Side.BUY else "alice"
        if taker is Side.SELL:
            core.submit(PlaceOrder("bob", "BRSWBNB", Side.BUY, OrderType.LIMIT, qty=rng.randint(1, 50),
                                   price=rng.randint(1900, 2100), tif=TimeInForce.GTC))
        core.submit(PlaceOrder(who, "BRSWBNB", taker, OrderType.LIMIT, qty=rng.randint(1, 120),
                               price=2200 if taker is Side.BUY else 1800, tif=TimeInForce.IOC))
    return core


def open_time(time_ms: int, name: str, zone: int) -> int:
    """The candle's open time, computed independently of matcher.exchange.intervals."""
    local = datetime.fromtimestamp((time_ms + zone) / 1000, timezone.utc)
    if name == "1M":
        opened = datetime(local.year, local.month, 1, tzinfo=timezone.utc)
    elif name == "1w":
        opened = datetime(local.year, local.month, local.day, tzinfo=timezone.utc) - timedelta(days=local.weekday())
    else:
        length = INTERVALS[name]
        return (time_ms + zone) // length * length - zone
    return int(opened.timestamp() * 1000) - zone


def brute_force(trades: list[dict[str, Any]], name: str, zone: int) -> list[tuple[Any, ...]]:
    candles: dict[int, list[dict[str, Any]]] = {}
    for trade in trades:
        candles.setdefault(open_time(trade["time_ms"], name, zone), []).append(trade)
    out = []
    for opened, fills in sorted(candles.items()):
        prices = [f["price"] for f in fills]
        buys = [f for f in fills if f["taker_side"] == "BUY"]
        out.append((opened, prices[0], max(prices), min(prices), prices[-1], sum(f["qty"] for f in fills),
                    sum(f["quote"] for f in fills), len(fills), sum(f["qty"] for f in buys),
                    sum(f["quote"] for f in buys), fills[0]["trade_id"], fills[-1]["trade_id"]))
    return out


def as_tuples(candles: list[history.Candle]) -> list[tuple[Any, ...]]:
    return [(c.open_ms, c.open, c.high, c.low, c.close, c.volume, c.quote, c.count, c.taker_volume, c.taker_quote,
             c.first_id, c.last_id) for c in candles]


def dump(core: ExchangeCore) -> tuple[list[Any], list[Any]]:
    return (core.db.execute("SELECT * FROM candles ORDER BY symbol, base, open_ms").fetchall(),
            core.db.execute("SELECT * FROM agg_trades ORDER BY agg_id").fetchall())


@pytest.mark.parametrize("zone_text", ["0", "+08:00", "5:30", "-3", "14:00"])
def test_every_interval_in_every_time_zone_equals_a_recomputation_from_the_fills(tmp_path: Path,
                                                                                  zone_text: str) -> None:
    clock = Clock()
    core = trading(tmp_path / "x.sqlite3", clock, 300)
    trades = store.rows(core.db, "SELECT * FROM trades ORDER BY trade_id")
    assert len(trades) > 300 and trades[-1]["time_ms"] - trades[0]["time_ms"] > 86_400_000 * 60
    zone = time_zone(zone_text)
    for name in INTERVALS:
        expected = brute_force(trades, name, zone)
        length = interval(name)
        everything = history.klines(core.db, "BRSWBNB", length, zone, 0, None, 100_000, clock.now)
        assert as_tuples(everything) == expected, name
        assert as_tuples(history.klines(core.db, "BRSWBNB", length, zone, None, None, 7, clock.now)) == expected[-7:]
        if len(expected) > 6:  # a range starting mid-candle begins at the next candle; the end is inclusive
            first, last = expected[2][0], expected[-3][0]
            ranged = history.klines(core.db, "BRSWBNB", length, zone, first - 1, last, 3, clock.now)
            assert as_tuples(ranged) == expected[2:5], name
            upto = history.klines(core.db, "BRSWBNB", length, zone, None, last, 2, clock.now)
            assert as_tuples(upto) == expected[-4:-2], name
        for candle in everything[:3]:
            assert close_time(candle.open_ms, length, zone) + 1 == open_time(
                close_time(candle.open_ms, length, zone) + 1, name, zone)


def test_history_is_rebuilt_exactly_from_the_fills_and_after_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    core = trading(tmp_path / "x.sqlite3", clock, 120)
    written = dump(core)
    assert written[0] and written[1]
    core.write(core.history.rebuild)
    assert dump(core) == written
    core.write(lambda db: (db.execute("DELETE FROM candles"), db.execute("DELETE FROM agg_trades")))
    core.close()
    again = ExchangeCore(tmp_path / "x.sqlite3", core.markets, FEES, clock_ms=clock)  # a data dir without history
    assert dump(again) == written
    again.close()
    resumed = ExchangeCore(tmp_path / "x.sqlite3", core.markets, FEES, clock_ms=clock)
    clock.now += 5
    resumed.submit(PlaceOrder("alice", "BRSWBNB", Side.SELL, OrderType.LIMIT, qty=30, price=2000,
                              tif=TimeInForce.GTC))
    resumed.submit(PlaceOrder("bob", "BRSWBNB", Side.BUY, OrderType.LIMIT, qty=30, price=2000, tif=TimeInForce.IOC))
    incremental = dump(resumed)
    resumed.write(resumed.history.rebuild)
    assert dump(resumed) == incremental and len(incremental[1]) > len(written[1])


def test_an_aggregate_trade_is_one_taker_orders_fills_at_one_price(tmp_path: Path) -> None:
    clock = Clock()
    core = ExchangeCore(tmp_path / "x.sqlite3", Markets([market_from_table(TABLE)]), FEES, clock_ms=clock)
    core.deposit("alice", "BRS", 10**30, "tx:a", 1)
    core.deposit("bob", "WBNB", 10**30, "tx:b", 1)
    for price in (2000, 2000, 2000, 2001):
        core.submit(PlaceOrder("alice", "BRSWBNB", Side.SELL, OrderType.LIMIT, qty=10, price=price,
                               tif=TimeInForce.GTC))
    clock.now += 1000
    core.submit(PlaceOrder("bob", "BRSWBNB", Side.BUY, OrderType.LIMIT, qty=35, price=2001, tif=TimeInForce.IOC))
    found = history.agg_trades(core.db, "BRSWBNB", None, None, None, 500)
    assert [(a["price"], a["qty"], a["last_id"] - a["first_id"] + 1, a["buyer_maker"]) for a in found] == \
        [(2000, 30, 3, False), (2001, 5, 1, False)]
    assert history.agg_trades(core.db, "BRSWBNB", found[1]["agg_id"], None, None, 500) == found[1:]
    assert history.agg_trades(core.db, "BRSWBNB", None, START + 1000, START + 1000, 1) == found[:1]
    assert history.agg_trades(core.db, "BRSWBNB", None, 0, START, 500) == []


def test_bad_intervals_and_time_zones_are_refused_with_binances_codes() -> None:
    for bad in ("2m", "1y", "", None, "1S"):
        with pytest.raises(ApiError) as caught:
            interval(bad)
        assert caught.value.code == -1120
    for bad in ("+15:00", "-13", "8:60", "abc"):
        with pytest.raises(ApiError) as caught:
            time_zone(bad)
        assert caught.value.code == -1100
    assert time_zone("-1:30") == -5_400_000 and time_zone(None) == 0
    assert bucket(START, INTERVALS["1w"]) == open_time(START, "1w", 0)

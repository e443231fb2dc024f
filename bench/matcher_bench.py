#!/usr/bin/env python3
"""Matching-engine benchmark with exchange-core's command mix, journal off and on.

One market, ~1,000 resting orders; commands: 9% GTC limit, 3% IOC, 6% cancel,
82% move (cancel-replace at a new price); prices are drawn so that about 6% of
commands trade. Prints ops/s and p50/p99/p99.9 latency per command.
"""

from __future__ import annotations

import argparse
import os
import random

import tempfile
import time
from pathlib import Path
from typing import Any

from matcher import Asset, Deposit, Engine, MarketSpec
from matcher.journal import JournaledEngine
from matcher.model import CancelOrder, CancelReplace, OrderType, PlaceOrder, Side, TimeInForce

MARKET = MarketSpec("BRSWBNB", Asset("BRS", "0x" + "b1" * 20, 18), Asset("WBNB", "0x" + "b2" * 20, 18),
                    tick_size=10**14, lot_size=10**16, min_notional=1, maker_fee_bps=10, taker_fee_bps=20)
S = MARKET.symbol


def commands(count: int, resting: int, seed: int) -> list[Any]:
    rng = random.Random(seed)
    accounts = [f"u{i}" for i in range(100)]
    out: list[Any] = []
    for a in accounts:
        out += [Deposit(a, "BRS", 10**40), Deposit(a, "WBNB", 10**40)]
    live: list[tuple[str, int, Side]] = []
    next_id = 1

    def place(side: Side, price: int, tif: TimeInForce = TimeInForce.GTC) -> PlaceOrder:
        nonlocal next_id
        who = rng.choice(accounts)
        if tif is TimeInForce.GTC:
            live.append((who, next_id, side))
        next_id += 1
        return PlaceOrder(who, S, side, OrderType.LIMIT, qty=rng.randint(1, 10), price=price, tif=tif)

    def passive(side: Side) -> int:  # a price on the own side of the spread
        return rng.randint(10_001, 10_100) if side is Side.SELL else rng.randint(9_900, 9_999)

    for _ in range(resting):
        side = rng.choice((Side.BUY, Side.SELL))
        out.append(place(side, passive(side)))
    for _ in range(count):
        roll = rng.random()
        side = rng.choice((Side.BUY, Side.SELL))
        aggressive = rng.random() < 0.06
        price = (10_050 if side is Side.BUY else 9_950) if aggressive else passive(side)
        if roll < 0.09 or not live:
            out.append(place(side, price))
        elif roll < 0.12:
            out.append(place(side, price, TimeInForce.IOC))
        elif roll < 0.18:
            who, order_id, _ = live.pop(rng.randrange(len(live)))
            out.append(CancelOrder(who, S, order_id=order_id))
        else:
            i = rng.randrange(len(live))
            who, order_id, old_side = live[i]
            live[i] = (who, next_id, old_side)
            next_id += 1
            new_price = (10_050 if old_side is Side.BUY else 9_950) if aggressive else passive(old_side)
            out.append(CancelReplace(CancelOrder(who, S, order_id=order_id),
                                     PlaceOrder(who, S, old_side, OrderType.LIMIT, qty=rng.randint(1, 10),
                                                price=new_price)))
    return out


def run(cmds: list[Any], warm: int, submit: Any) -> tuple[float, list[float], int]:
    for c in cmds[:warm]:
        submit(c)
    lat = []
    trades = 0
    clock = time.perf_counter
    t0 = clock()
    for c in cmds[warm:]:
        s = clock()
        result = submit(c)
        lat.append(clock() - s)
        events = result[1].events if isinstance(result, tuple) else result.events
        trades += any(type(e).__name__ == "Trade" for e in events)
    return clock() - t0, lat, trades


def report(label: str, elapsed: float, lat: list[float], trades: int) -> None:
    lat.sort()
    n = len(lat)
    pct = lambda p: lat[min(n - 1, int(n * p))] * 1e6  # noqa: E731
    print(f"{label:<28} {n / elapsed:>10,.0f} ops/s   p50 {pct(0.5):6.1f} us   p99 {pct(0.99):7.1f} us   "
          f"p99.9 {pct(0.999):7.1f} us   trading commands {trades / n:5.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ops", type=int, default=200_000)
    ap.add_argument("--resting", type=int, default=1_000)
    ap.add_argument("--commit-every", type=int, default=256, help="journal group-commit size")
    a = ap.parse_args()
    cmds = commands(a.ops, a.resting, 42)
    warm = 200 + a.resting
    print(f"{a.ops:,} commands after {a.resting:,} resting orders; load avg {os.getloadavg()[0]:.2f}")
    engine = Engine([MARKET])
    report("journal off", *run(cmds, warm, engine.process))
    with tempfile.TemporaryDirectory() as tmp:
        journaled = JournaledEngine.open(Path(tmp) / "j.sqlite3", [MARKET], commit_every=a.commit_every)
        elapsed, lat, trades = run(cmds, warm, journaled.submit)
        journaled.journal.flush()
        report(f"journal on (group {a.commit_every})", elapsed, lat, trades)
        assert journaled.engine.state_hash() == engine.state_hash()



if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Matching-engine benchmark with exchange-core's command mix, journal off and on.

One market, ~1,000 resting orders; commands: 9% GTC limit, 3% IOC, 6% cancel,
82% move (cancel-replace at a new price); prices are drawn so that about 6% of
commands trade. Prints ops/s and p50/p99/p99.9 latency per command.

Throughput and latency are two runs of the same stream on fresh engines, as in
exchange-core: reading the clock twice per command costs about as much as a
command, so the throughput run has nothing but the commands in its loop. The
latency run times each command. The engine runs compiled when the install
compiled it; `BOURSE_PURE_PYTHON=1` runs its Python sources.
"""

from __future__ import annotations

import argparse
import gc
import os
import random

import tempfile
import time
from pathlib import Path
from typing import Any

from matcher import Asset, Deposit, Engine, MarketSpec
from matcher.compiled import is_compiled
from matcher.journal import JournaledEngine
from matcher.model import CancelOrder, CancelReplace, OrderType, PlaceOrder, Side, Status, TimeInForce

MARKET = MarketSpec("BRSWBNB", Asset("BRS", "0x" + "b1" * 20, 18), Asset("WBNB", "0x" + "b2" * 20, 18),
                    tick_size=10**14, lot_size=10**16, min_notional=1, maker_fee_bps=10, taker_fee_bps=20)
S = MARKET.symbol


def commands(count: int, resting: int, seed: int) -> list[Any]:
    """The command stream, generated against a shadow engine so cancels and moves name live orders."""
    rng = random.Random(seed)
    shadow = Engine([MARKET])
    accounts = [f"u{i}" for i in range(100)]
    out: list[Any] = []
    live: dict[int, tuple[str, Side]] = {}
    live_ids: list[int] = []  # with stale entries, skipped lazily

    def emit(command: Any) -> None:
        out.append(command)
        result = shadow.process(command)
        for event in result.events:
            if type(event).__name__ != "OrderUpdate":
                continue
            if event.status in (Status.NEW, Status.PARTIALLY_FILLED) and event.order_id not in live \
                    and event.order_id in shadow.orders:
                live[event.order_id] = (event.account, event.side)
                live_ids.append(event.order_id)
            elif event.order_id not in shadow.orders:
                live.pop(event.order_id, None)

    def pick() -> int | None:
        while live_ids:
            i = rng.randrange(len(live_ids))
            live_ids[i], live_ids[-1] = live_ids[-1], live_ids[i]
            order_id = live_ids.pop()
            if order_id in live:
                return order_id
        return None

    def passive(side: Side) -> int:  # a price on the own side of the spread
        return rng.randint(10_001, 10_100) if side is Side.SELL else rng.randint(9_900, 9_999)

    def aggressive(side: Side) -> int:  # crosses only the opposite best level
        best = shadow.books[S].best(Side.SELL if side is Side.BUY else Side.BUY)
        return best if best is not None else passive(side)

    for a in accounts:
        emit(Deposit(a, "BRS", 10**40))
        emit(Deposit(a, "WBNB", 10**40))
    for _ in range(resting):
        side = rng.choice((Side.BUY, Side.SELL))
        emit(PlaceOrder(rng.choice(accounts), S, side, OrderType.LIMIT, qty=rng.randint(1, 10), price=passive(side)))
    for _ in range(count):
        roll = rng.random()
        side = rng.choice((Side.BUY, Side.SELL))
        taking = rng.random() < 0.06
        price = aggressive(side) if taking else passive(side)
        who = rng.choice(accounts)
        if len(live) < resting and roll >= 0.12 and rng.random() < 0.5:
            roll = 0.0  # top the book back up towards `resting` orders, as exchange-core's generator does
        if roll < 0.09:
            emit(PlaceOrder(who, S, side, OrderType.LIMIT, qty=rng.randint(1, 10), price=price))
        elif roll < 0.12:
            emit(PlaceOrder(who, S, side, OrderType.LIMIT, qty=rng.randint(1, 10), price=price, tif=TimeInForce.IOC))
        else:
            order_id = pick()
            if order_id is None:
                emit(PlaceOrder(who, S, side, OrderType.LIMIT, qty=rng.randint(1, 10), price=price))
                continue
            owner, old_side = live.pop(order_id)
            cancel = CancelOrder(owner, S, order_id=order_id)
            if roll < 0.18:
                emit(cancel)
            else:
                new_price = aggressive(old_side) if taking else passive(old_side)
                emit(CancelReplace(cancel, PlaceOrder(owner, S, old_side, OrderType.LIMIT, qty=rng.randint(1, 10),
                                                      price=new_price)))
    return out


def fresh(journal_dir: str | None, commit_every: int) -> tuple[Any, Engine, Any]:
    """A new engine (or journaled engine) and the call that submits a command to it."""
    if journal_dir is None:
        engine = Engine([MARKET])
        return engine.process, engine, None
    path = Path(tempfile.mkdtemp(dir=journal_dir)) / "j.sqlite3"
    journaled = JournaledEngine.open(path, [MARKET], commit_every=commit_every)
    return journaled.submit, journaled.engine, journaled.journal


def throughput(cmds: list[Any], warm: int, journal_dir: str | None, commit_every: int) -> tuple[float, str]:
    """Commands per second over the whole stream, nothing else in the loop (and a final journal flush)."""
    submit, engine, journal = fresh(journal_dir, commit_every)
    for c in cmds[:warm]:
        submit(c)
    gc.collect()
    gc.freeze()  # setup's objects out of the collector's way, as a service does after recovery
    stream = cmds[warm:]
    t0 = time.perf_counter()
    for c in stream:
        submit(c)
    if journal is not None:
        journal.flush()
    elapsed = time.perf_counter() - t0
    gc.unfreeze()
    return len(stream) / elapsed, engine.state_hash()


def latency(cmds: list[Any], warm: int, journal_dir: str | None,
            commit_every: int) -> tuple[list[float], float, int, int]:
    """Each command timed on its own (a second run: the clock reads cost about as much as a command)."""
    submit, engine, journal = fresh(journal_dir, commit_every)
    for c in cmds[:warm]:
        submit(c)
    gc.collect()
    gc.freeze()
    lat = []
    rejected = 0
    clock = time.perf_counter
    trades_before = engine.next_trade_id
    t0 = clock()
    for c in cmds[warm:]:
        s = clock()
        result = submit(c)
        lat.append(clock() - s)
        if isinstance(result, tuple):
            result = result[1]
        rejected += result.code != 0
    if journal is not None:
        journal.flush()
    timed_ops = len(lat) / (clock() - t0)
    gc.unfreeze()
    return lat, timed_ops, engine.next_trade_id - trades_before, rejected


def report(label: str, ops: float, lat: list[float], timed_ops: float, trades: int, rejected: int) -> None:
    lat.sort()
    n = len(lat)
    pct = lambda p: lat[min(n - 1, int(n * p))] * 1e6  # noqa: E731
    print(f"{label:<24} {ops:>9,.0f} ops/s   p50 {pct(0.5):5.1f} us   p99 {pct(0.99):6.1f} us   "
          f"p99.9 {pct(0.999):6.1f} us   (timed run {timed_ops:,.0f} ops/s)   trades/command {trades / n:4.1%}   "
          f"rejected {rejected / n:4.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ops", type=int, default=200_000)
    ap.add_argument("--resting", type=int, default=1_000)
    ap.add_argument("--commit-every", type=int, default=256, help="journal group-commit size")
    a = ap.parse_args()
    cmds = commands(a.ops, a.resting, 42)
    warm = 200 + a.resting
    build = "compiled with mypyc" if is_compiled() else "Python sources"
    print(f"{a.ops:,} commands after {a.resting:,} resting orders; engine: {build}; load avg {os.getloadavg()[0]:.2f}")
    ops, off_hash = throughput(cmds, warm, None, a.commit_every)
    report("journal off", ops, *latency(cmds, warm, None, a.commit_every))
    with tempfile.TemporaryDirectory() as tmp:
        ops, on_hash = throughput(cmds, warm, tmp, a.commit_every)
        report(f"journal on (group {a.commit_every})", ops, *latency(cmds, warm, tmp, a.commit_every))
    assert on_hash == off_hash, "journaled and plain engines disagree"


if __name__ == "__main__":
    main()

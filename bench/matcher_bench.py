#!/usr/bin/env python3
"""Matching-engine benchmark with exchange-core's command mix, journal off and on.

One market (or --markets N), ~1,000 resting orders each; commands: 9% GTC limit, 3% IOC, 6% cancel,
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
import json
import os
import random
import sys
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


def market_specs(count: int) -> list[MarketSpec]:
    """`count` markets (one market: BRSWBNB, as before; more: T<i>/WBNB, each base token its own asset)."""
    if count == 1:
        return [MARKET]
    quote = MARKET.quote
    return [MarketSpec(f"T{i}WBNB", Asset(f"T{i}", f"0x{i + 1:040x}", 18), quote, tick_size=10**14, lot_size=10**16,
                       min_notional=1, maker_fee_bps=10, taker_fee_bps=20) for i in range(count)]


def commands(count: int, resting: int, seed: int, markets: list[MarketSpec] | None = None) -> list[Any]:
    """The command stream, generated against a shadow engine so cancels and moves name live orders. With several
    markets, each gets `resting` orders and each command goes to a market drawn at random."""
    markets = markets or [MARKET]
    rng = random.Random(seed)
    shadow = Engine(markets)
    symbols = [m.symbol for m in markets]
    accounts = [f"u{i}" for i in range(100)]
    out: list[Any] = []
    live: dict[int, tuple[str, Side, str]] = {}
    live_ids: dict[str, list[int]] = {symbol: [] for symbol in symbols}  # with stale entries, skipped lazily
    live_count = dict.fromkeys(symbols, 0)

    def emit(command: Any) -> None:
        out.append(command)
        result = shadow.process(command)
        for event in result.events:
            if type(event).__name__ != "OrderUpdate":
                continue
            if event.status in (Status.NEW, Status.PARTIALLY_FILLED) and event.order_id not in live \
                    and event.order_id in shadow.orders:
                live[event.order_id] = (event.account, event.side, event.symbol)
                live_ids[event.symbol].append(event.order_id)
                live_count[event.symbol] += 1
            elif event.order_id not in shadow.orders and event.order_id in live:
                live_count[live.pop(event.order_id)[2]] -= 1

    def pick(symbol: str) -> int | None:
        ids = live_ids[symbol]
        while ids:
            i = rng.randrange(len(ids))
            ids[i], ids[-1] = ids[-1], ids[i]
            order_id = ids.pop()
            if order_id in live:
                return order_id
        return None

    def passive(side: Side) -> int:  # a price on the own side of the spread
        return rng.randint(10_001, 10_100) if side is Side.SELL else rng.randint(9_900, 9_999)

    def aggressive(symbol: str, side: Side) -> int:  # crosses only the opposite best level
        best = shadow.books[symbol].best(Side.SELL if side is Side.BUY else Side.BUY)
        return best if best is not None else passive(side)

    for a in accounts:
        for asset in sorted({m.base.symbol for m in markets} | {m.quote.symbol for m in markets}):
            emit(Deposit(a, asset, 10**40))
    for symbol in symbols:
        for _ in range(resting):
            side = rng.choice((Side.BUY, Side.SELL))
            emit(PlaceOrder(rng.choice(accounts), symbol, side, OrderType.LIMIT, qty=rng.randint(1, 10),
                            price=passive(side)))
    for _ in range(count):
        symbol = symbols[rng.randrange(len(symbols))] if len(symbols) > 1 else symbols[0]
        roll = rng.random()
        side = rng.choice((Side.BUY, Side.SELL))
        taking = rng.random() < 0.06
        price = aggressive(symbol, side) if taking else passive(side)
        who = rng.choice(accounts)
        if live_count[symbol] < resting and roll >= 0.12 and rng.random() < 0.5:
            roll = 0.0  # top the book back up towards `resting` orders, as exchange-core's generator does
        if roll < 0.09:
            emit(PlaceOrder(who, symbol, side, OrderType.LIMIT, qty=rng.randint(1, 10), price=price))
        elif roll < 0.12:
            emit(PlaceOrder(who, symbol, side, OrderType.LIMIT, qty=rng.randint(1, 10), price=price,
                            tif=TimeInForce.IOC))
        else:
            order_id = pick(symbol)
            if order_id is None:
                emit(PlaceOrder(who, symbol, side, OrderType.LIMIT, qty=rng.randint(1, 10), price=price))
                continue
            owner, old_side, _ = live[order_id]
            cancel = CancelOrder(owner, symbol, order_id=order_id)
            if roll < 0.18:
                emit(cancel)
            else:
                new_price = aggressive(symbol, old_side) if taking else passive(old_side)
                emit(CancelReplace(cancel, PlaceOrder(owner, symbol, old_side, OrderType.LIMIT,
                                                      qty=rng.randint(1, 10), price=new_price)))
    return out


def fresh(journal_dir: str | None, commit_every: int, markets: list[MarketSpec]) -> tuple[Any, Engine, Any]:
    """A new engine (or journaled engine) and the call that submits a command to it."""
    if journal_dir is None:
        engine = Engine(markets)
        return engine.process, engine, None
    path = Path(tempfile.mkdtemp(dir=journal_dir)) / "j.sqlite3"
    journaled = JournaledEngine.open(path, markets, commit_every=commit_every)
    return journaled.submit, journaled.engine, journaled.journal


def throughput(cmds: list[Any], warm: int, journal_dir: str | None, commit_every: int,
               markets: list[MarketSpec]) -> tuple[float, str]:
    """Commands per second over the whole stream, nothing else in the loop (and a final journal flush)."""
    submit, engine, journal = fresh(journal_dir, commit_every, markets)
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


def latency(cmds: list[Any], warm: int, journal_dir: str | None, commit_every: int,
            markets: list[MarketSpec]) -> tuple[list[float], float, int, int]:
    """Each command timed on its own (a second run: the clock reads cost about as much as a command)."""
    submit, engine, journal = fresh(journal_dir, commit_every, markets)
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


def figures(ops: float, lat: list[float], timed_ops: float, trades: int, rejected: int) -> dict[str, float]:
    lat.sort()
    n = len(lat)
    pct = lambda p: round(lat[min(n - 1, int(n * p))] * 1e6, 2)  # noqa: E731
    return {"ops_per_s": round(ops), "p50_us": pct(0.5), "p99_us": pct(0.99), "p999_us": pct(0.999),
            "timed_run_ops_per_s": round(timed_ops), "trades_per_command": round(trades / n, 4),
            "rejected_per_command": round(rejected / n, 4)}


def line(label: str, f: dict[str, float]) -> str:
    return (f"{label:<24} {f['ops_per_s']:>9,} ops/s   p50 {f['p50_us']:5.1f} us   p99 {f['p99_us']:6.1f} us   "
            f"p99.9 {f['p999_us']:6.1f} us   (timed run {f['timed_run_ops_per_s']:,} ops/s)   trades/command "
            f"{f['trades_per_command']:4.1%}   rejected {f['rejected_per_command']:4.1%}")


def run(ops: int, resting: int, commit_every: int, count: int, say: Any) -> dict[str, Any]:
    """Both runs (journal off and on) on `count` markets, each line given to `say` as it is measured."""
    markets = market_specs(count)
    cmds = commands(ops, resting, 42, markets)
    warm = len(cmds) - ops
    build = "compiled with mypyc" if is_compiled() else "Python sources"
    result: dict[str, Any] = {"commands": ops, "markets": count, "resting_per_market": resting, "engine": build,
                              "load_avg": round(os.getloadavg()[0], 2), "group_commit": commit_every}
    say(f"{ops:,} commands on {count:,} market{'s' if count > 1 else ''} after {resting:,} resting orders each; "
        f"engine: {build}; load avg {result['load_avg']:.2f}")
    ops_off, off_hash = throughput(cmds, warm, None, commit_every, markets)
    result["journal_off"] = figures(ops_off, *latency(cmds, warm, None, commit_every, markets))
    say(line("journal off", result["journal_off"]))
    with tempfile.TemporaryDirectory() as tmp:
        ops_on, on_hash = throughput(cmds, warm, tmp, commit_every, markets)
        result["journal_on"] = figures(ops_on, *latency(cmds, warm, tmp, commit_every, markets))
    say(line(f"journal on (group {commit_every})", result["journal_on"]))
    assert on_hash == off_hash, "journaled and plain engines disagree"
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ops", type=int, default=200_000)
    ap.add_argument("--resting", type=int, default=1_000, help="resting orders per market")
    ap.add_argument("--commit-every", type=int, default=256, help="journal group-commit size")
    ap.add_argument("--markets", type=int, default=1, help="markets the commands spread over (more than one: "
                                                             "also run one market and compare)")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object (progress on stderr)")
    a = ap.parse_args()
    say = (lambda text: print(text, file=sys.stderr, flush=True)) if a.json else print
    runs = [run(a.ops, a.resting, a.commit_every, a.markets, say)]
    if a.markets > 1:
        runs.append(run(a.ops, a.resting, a.commit_every, 1, say))
        ratio = runs[0]["journal_off"]["ops_per_s"] / runs[1]["journal_off"]["ops_per_s"]
        say(f"{a.markets} markets run at {ratio:.1%} of one market's throughput (journal off)")
    if a.json:
        print(json.dumps({"runs": runs}))


if __name__ == "__main__":
    main()

"""Deterministic random order flow, for property tests, crash tests and benchmarks."""

from __future__ import annotations

import random
from typing import Iterator

from .market import MarketSpec
from .model import (AmendOrder, CancelOrder, CancelReplace, Command, Deposit, OrderType, PlaceOrder, Side, Stp,
                    TimeInForce)


def random_flow(market: MarketSpec, seed: int, count: int, accounts: int = 4, mid: int = 1000,
                spread: int = 20) -> Iterator[Command]:
    """`count` commands: deposits, then a mix of limit (some of them icebergs), market, IOC/FOK, post-only and stop
    orders (limit and market stops, some trailing), cancels, amends and cancel-replaces around `mid`, with
    self-trade prevention now and then."""
    rng = random.Random(seed)
    names = [f"acct{i}" for i in range(accounts)]
    for name in names:
        yield Deposit(name, market.base.symbol, 10**9 * market.lot_size)
        yield Deposit(name, market.quote.symbol, market.notional(mid * 4, 10**9))
    open_ids: list[tuple[str, int]] = []
    next_id = 1
    for ts in range(count):
        who = rng.choice(names)
        roll = rng.random()
        side = rng.choice((Side.BUY, Side.SELL))
        price = max(1, mid + rng.randint(-spread, spread))
        qty = rng.randint(1, 20)
        if roll < 0.55:
            kind = rng.random()
            if kind < 0.6:
                iceberg = rng.randint(1, qty - 1) if qty > 1 and rng.random() < 0.15 else 0
                cmd: Command = PlaceOrder(who, market.symbol, side, OrderType.LIMIT, qty=qty, price=price,
                                          tif=TimeInForce.GTC, stp=rng.choice(list(Stp)), ts=ts, iceberg_qty=iceberg)
            elif kind < 0.68:
                stop_kind = rng.choice((OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT, OrderType.STOP_LOSS,
                                        OrderType.TAKE_PROFIT))
                trailing = rng.choice((0, 0, rng.randint(1, 300)))
                stop = 0 if trailing and rng.random() < 0.5 else max(1, mid + rng.randint(-spread, spread))
                protection = 0 if stop_kind is OrderType.STOP_LOSS and side is Side.SELL else price
                cmd = PlaceOrder(who, market.symbol, side, stop_kind, qty=qty, price=protection, stop_price=stop,
                                 trailing_delta=trailing, ts=ts)
            elif kind < 0.8:
                cmd = PlaceOrder(who, market.symbol, side, OrderType.LIMIT, qty=qty, price=price,
                                 tif=rng.choice((TimeInForce.IOC, TimeInForce.FOK)), ts=ts)
            elif kind < 0.9:
                cmd = PlaceOrder(who, market.symbol, side, OrderType.LIMIT_MAKER, qty=qty, price=price, ts=ts)
            else:
                cmd = PlaceOrder(who, market.symbol, side, OrderType.MARKET, qty=qty, ts=ts)
            open_ids.append((who, next_id))
            next_id += 1  # an upper bound: rejected orders take no id, so some cancels miss (as in real flow)
        elif roll < 0.75 and open_ids:
            owner, order_id = open_ids.pop(rng.randrange(len(open_ids)))
            cmd = CancelOrder(owner, market.symbol, order_id=order_id, ts=ts)
        elif roll < 0.85 and open_ids:
            owner, order_id = rng.choice(open_ids)
            cmd = AmendOrder(owner, market.symbol, order_id, rng.randint(1, 10), ts=ts)
        elif open_ids:
            owner, order_id = open_ids.pop(rng.randrange(len(open_ids)))
            cmd = CancelReplace(CancelOrder(owner, market.symbol, order_id=order_id, ts=ts),
                                PlaceOrder(owner, market.symbol, side, OrderType.LIMIT, qty=qty, price=price, ts=ts))
            open_ids.append((owner, next_id))
            next_id += 1
        else:
            cmd = PlaceOrder(who, market.symbol, side, OrderType.LIMIT, qty=qty, price=price, ts=ts)
            open_ids.append((who, next_id))
            next_id += 1
        yield cmd

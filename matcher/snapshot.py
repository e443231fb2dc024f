"""Engine state to and from plain JSON-able data (snapshots)."""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from .book import Order
from .engine import Engine
from .market import MarketSpec
from .model import AddMarket, OrderType, Side, Status, Stp, TimeInForce


def _order_data(order: Order) -> dict[str, Any]:
    data = order.as_dict()
    for key in ("side", "type", "tif", "stp", "status"):
        data[key] = data[key].value
    return data


def _order(data: dict[str, Any]) -> Order:
    data = dict(data)
    data["side"], data["type"] = Side(data["side"]), OrderType(data["type"])
    data["tif"], data["stp"], data["status"] = TimeInForce(data["tif"]), Stp(data["stp"]), Status(data["status"])
    return Order(**data)


def dump(engine: Engine) -> dict[str, Any]:
    return {
        "markets": [list(dataclasses.astuple(AddMarket.of(spec))) for spec in engine.markets.values()],
        "next_order_id": engine.next_order_id,
        "next_trade_id": engine.next_trade_id,
        "free": [[a, s, v] for (a, s), v in sorted(engine.free.items())],
        "locked": [[a, s, v] for (a, s), v in sorted(engine.locked.items())],
        "books": {symbol: [_order_data(o) for o in book.orders()] for symbol, book in engine.books.items()},
        "stops": {symbol: [_order_data(o) for o in stops] for symbol, stops in engine.stops.items()},
        "last_price": engine.last_price,
        "update_ids": engine.update_ids,
        "pays_in_platform_token": sorted(engine.pays_in_platform_token),
        "fee_discount_bps": engine.fee_policy.discount_bps,
        "platform_fee_rates": sorted(engine.fee_policy.rates.items()),
    }


def load(markets: Iterable[MarketSpec], state: dict[str, Any], fee_policy: Any = None) -> Engine:
    engine = Engine(markets, fee_policy=fee_policy)
    for fields in state.get("markets", ()):  # with those opened at run time (AddMarket) before the snapshot
        spec = AddMarket(*fields).spec()
        if spec.symbol not in engine.markets:
            engine.open_market(spec)
    engine.next_order_id, engine.next_trade_id = state["next_order_id"], state["next_trade_id"]
    for account, asset, value in state["free"]:
        engine.ledger.get((account, asset)).free = value
    for account, asset, value in state["locked"]:
        engine.ledger.get((account, asset)).locked = value
    for orders in state["books"].values():
        for data in orders:
            engine.adopt(_order(data), parked=False)
    for orders in state["stops"].values():
        for data in orders:
            engine.adopt(_order(data), parked=True)
    engine.last_price.update(state["last_price"])
    for symbol, update_id in state["update_ids"].items():
        engine.market(symbol).update_id = update_id
    engine.pays_in_platform_token.update(state["pays_in_platform_token"])
    if "fee_discount_bps" in state:  # the fee schedule is state the journal sets (snapshots since it was)
        engine.fee_policy = engine.fee_policy.with_discount(state["fee_discount_bps"])
        for asset, rate in state["platform_fee_rates"]:
            engine.fee_policy = engine.fee_policy.with_rate(asset, rate)
    engine.restored()
    return engine


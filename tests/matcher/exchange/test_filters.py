"""Binance's filters as the exchange enforces them: each rejection is -1013 "Filter failure: <NAME>", checked
before anything changes, with exactly the bounds exchangeInfo lists."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import pytest

from matcher.errors import BadMarketSpec
from matcher.exchange import filters
from matcher.exchange.core import ExchangeCore
from matcher.exchange.errors import ApiError
from matcher.exchange.markets import Markets, market_from_table
from matcher.model import OrderType, PlaceOrder, Side, TimeInForce

from .test_core import FEES, place
from .test_units_and_markets import TABLE

LIMITED = {**TABLE, "max_price": "0.01", "max_qty": "100", "market_max_qty": "50", "max_notional": "0.5",
           "max_num_orders": 3, "max_num_algo_orders": 1, "multiplier_up": "1.5", "multiplier_down": "0.5"}


def order(kind: OrderType, side: Side, qty: int, price: int = 0, stop: int = 0,
          account: str = "alice") -> PlaceOrder:
    return PlaceOrder(account, "BRSWBNB", side, kind, qty=qty, price=price, stop_price=stop,
                      tif=TimeInForce.GTC)


def refused(core: ExchangeCore, command: PlaceOrder, exchange_max: int = 1000) -> str:
    market = core.markets.get("BRSWBNB")
    with pytest.raises(ApiError) as caught:
        filters.check(command, market, average_prices(core), core.clock_ms(),
                      core.engine.last_price.get("BRSWBNB", 0), exchange_max, filters.OpenOrders(core.db))
    assert caught.value.code == -1013
    return caught.value.msg.removeprefix("Filter failure: ")


def accepted(core: ExchangeCore, command: PlaceOrder, exchange_max: int = 1000) -> None:
    filters.check(command, core.markets.get("BRSWBNB"), average_prices(core), core.clock_ms(),
                  core.engine.last_price.get("BRSWBNB", 0), exchange_max, filters.OpenOrders(core.db))


CACHES: WeakKeyDictionary[ExchangeCore, filters.AveragePrices] = WeakKeyDictionary()


def average_prices(core: ExchangeCore) -> Any:
    """The core's average-price cache, one per core as the service keeps it (so the checks here go through it)."""
    return CACHES.setdefault(core, filters.AveragePrices(core.db, lambda: core.changes)).percent_bounds


def test_the_average_price_is_read_again_exactly_when_it_may_have_moved(tmp_path: Path) -> None:
    now = [10**9]
    core = ExchangeCore(tmp_path / "x.sqlite3", Markets([market_from_table(TABLE)]), FEES, clock_ms=lambda: now[0])
    market = core.markets.get("BRSWBNB")
    cache = filters.AveragePrices(core.db, lambda: core.changes)
    statements: list[str] = []
    core.db.set_trace_callback(statements.append)

    def both() -> Fraction:
        """The cached figure, checked against a fresh read of the candles."""
        last = core.engine.last_price.get("BRSWBNB", 0)
        cached = cache.ticks(market, now[0], last)
        assert cached == filters.average_price_ticks(core.db, market, now[0], last)
        return cached

    def reads(step: Any) -> int:
        """The SELECTs `step` makes (after the cache is primed)."""
        statements.clear()
        cache.ticks(market, now[0], core.engine.last_price.get("BRSWBNB", 0))
        step()
        count = sum(statement.startswith("SELECT") for statement in statements)  # reads, not a write's own
        statements.clear()
        return count

    core.deposit("alice", "BRS", 10**22, "tx:a", 1)
    core.deposit("bob", "WBNB", 10**22, "tx:b", 1)
    assert both() == 0  # nothing traded yet
    place(core, "alice", Side.SELL, 100, 2000, 1)
    place(core, "bob", Side.BUY, 10, 2000, 2)
    assert both() == 2000
    statements.clear()
    assert reads(lambda: cache.ticks(market, now[0], 2000)) == 0  # asked again: answered without SQL
    place(core, "alice", Side.SELL, 10, 2100, 3)  # an order that rests: no fill, the average cannot move
    assert reads(lambda: cache.ticks(market, now[0], 2000)) == 0
    place(core, "bob", Side.BUY, 10, 2000, 4)  # a fill in the same minute at the same price
    assert both() == 2000
    place(core, "bob", Side.BUY, 90, 2100, 5)  # the 80 lots left at 2000, then 10 at 2100: the average moves
    assert both() == Fraction(2000 * 100 + 2100 * 10, 110)
    place(core, "alice", Side.SELL, 50, 2100, 6)
    place(core, "bob", Side.BUY, 50, 2100, 7)  # the same last price, but the average moves
    assert both() == Fraction(2000 * 100 + 2100 * 60, 160)
    now[0] += 60_000  # the next minute: still in the window
    assert both() == Fraction(2000 * 100 + 2100 * 60, 160)
    now[0] += 5 * 60_000  # the fills left the window: the last price
    assert both() == 2100
    # a write that says it touches no fill (an API key's nonce, an agent order's row) keeps the figure; any
    # other write (settlement, a reversal) reads again
    assert reads(lambda: (core.write(lambda db: None, touches_fills=False), cache.ticks(market, now[0], 2100))) == 0
    core.write(lambda db: None)
    assert reads(lambda: cache.ticks(market, now[0], 2100)) > 0


def test_every_filter_refuses_at_its_listed_bound_and_not_before(tmp_path: Path) -> None:
    core = ExchangeCore(tmp_path / "x.sqlite3", Markets([market_from_table(LIMITED)]), FEES, clock_ms=lambda: 10**6)
    listed = {f["filterType"]: f for f in core.markets.get("BRSWBNB").info()["filters"]}
    assert listed["PRICE_FILTER"]["maxPrice"] == "0.01000000" and listed["LOT_SIZE"]["maxQty"] == "100.00000000"
    assert listed["MARKET_LOT_SIZE"]["maxQty"] == "50.00000000" and listed["NOTIONAL"]["maxNotional"] == \
        "0.50000000"
    assert listed["MAX_NUM_ORDERS"]["maxNumOrders"] == 3 and listed["MAX_NUM_ALGO_ORDERS"]["maxNumAlgoOrders"] == 1
    # ticks of 0.000001: 10000 ticks = 0.01; lots of 0.01: 10000 lots = 100
    accepted(core, order(OrderType.LIMIT, Side.BUY, 10, 10_000))
    assert refused(core, order(OrderType.LIMIT, Side.BUY, 10, 10_001)) == "PRICE_FILTER"
    assert refused(core, order(OrderType.STOP_LOSS_LIMIT, Side.SELL, 10, 5000, 10_001)) == "PRICE_FILTER"
    assert refused(core, order(OrderType.LIMIT, Side.BUY, 10_001, 10)) == "LOT_SIZE"
    accepted(core, order(OrderType.MARKET, Side.BUY, 5000, 10))
    assert refused(core, order(OrderType.MARKET, Side.BUY, 5001, 10)) == "MARKET_LOT_SIZE"
    accepted(core, order(OrderType.LIMIT, Side.BUY, 5000, 10_000))  # 50 x 0.01 = 0.5: at the maximum
    assert refused(core, order(OrderType.LIMIT, Side.BUY, 5001, 10_000)) == "NOTIONAL"

    core.deposit("alice", "BRS", 10**22, "tx:a", 1)
    core.deposit("bob", "WBNB", 10**22, "tx:b", 1)
    place(core, "alice", Side.SELL, 100, 2000, 1)
    place(core, "bob", Side.BUY, 100, 2000, 1)  # a trade at 2000 ticks: the 5-minute average
    accepted(core, order(OrderType.LIMIT, Side.BUY, 10, 3000))
    assert refused(core, order(OrderType.LIMIT, Side.BUY, 10, 3001)) == "PERCENT_PRICE_BY_SIDE"
    accepted(core, order(OrderType.LIMIT, Side.SELL, 10, 1000))
    assert refused(core, order(OrderType.LIMIT, Side.SELL, 10, 999)) == "PERCENT_PRICE_BY_SIDE"
    accepted(core, order(OrderType.MARKET, Side.BUY, 10, 9000))  # market orders: no percent-price check

    for nonce in (2, 3, 4):
        place(core, "alice", Side.SELL, 10, 2500 + nonce, nonce)
    assert refused(core, order(OrderType.LIMIT, Side.SELL, 10, 2600)) == "MAX_NUM_ORDERS"
    accepted(core, order(OrderType.LIMIT, Side.SELL, 10, 2600, account="bob"))
    assert refused(core, order(OrderType.LIMIT, Side.SELL, 10, 2600, account="bob"), exchange_max=0) == \
        "EXCHANGE_MAX_NUM_ORDERS"


def test_algo_orders_are_counted_on_their_own(tmp_path: Path) -> None:
    core = ExchangeCore(tmp_path / "x.sqlite3", Markets([market_from_table(LIMITED)]), FEES, clock_ms=lambda: 10**6)
    core.db.execute("INSERT INTO orders (order_id, symbol, account, client_order_id, side, type, tif, price, qty, "
                    "quote_qty, stop_price, stp, status, filled, cum_quote, reason, created_ms, updated_ms, nonce, "
                    "expiry, max_fee_bps, vault_price, base_amount, order_hash, signature) VALUES (1, 'BRSWBNB', "
                    "'alice', '', 'SELL', 'STOP_LOSS_LIMIT', 'GTC', '1900', '10', '0', '1900', 'NONE', 'NEW', '0', "
                    "'0', '', 0, 0, '1', 0, 30, '0', '0', '0x', '0x')")
    assert refused(core, order(OrderType.STOP_LOSS_LIMIT, Side.SELL, 10, 1900, 1900)) == "MAX_NUM_ALGO_ORDERS"
    accepted(core, order(OrderType.LIMIT, Side.SELL, 10, 1900))


def test_market_tables_with_bad_limits_are_refused() -> None:
    for bad in ({"max_price": "0"}, {"multiplier_up": "1.000000001"}, {"max_qty": "abc"}):
        with pytest.raises(BadMarketSpec):
            market_from_table({**TABLE, **bad})


def test_open_order_counts_follow_the_engine_through_random_flow(tmp_path: Path) -> None:
    from .test_history import Clock, trading
    counts = filters.OpenOrders(ExchangeCore(tmp_path / "empty.sqlite3", Markets([market_from_table(TABLE)]),
                                             FEES).db)
    resumed = trading(tmp_path / "y.sqlite3", Clock(), 0)  # funded, nothing traded yet
    resumed.listeners.append(counts.listener)
    import random
    rng = random.Random(2)
    for _ in range(400):
        who = rng.choice(["alice", "bob"])
        side = Side.SELL if who == "alice" else Side.BUY
        if rng.random() < 0.2 and resumed.engine.orders:
            order = rng.choice(list(resumed.engine.orders.values()))
            resumed.cancel(order.account, order.symbol, order.order_id)
            continue
        resumed.submit(PlaceOrder(who, "BRSWBNB", side, OrderType.LIMIT, qty=rng.randint(1, 30),
                                  price=rng.randint(1900, 2100), tif=rng.choice([TimeInForce.GTC, TimeInForce.IOC])))
    expected: dict[tuple[str, str], int] = {}
    for order in resumed.engine.orders.values():
        expected[order.account, order.symbol] = expected.get((order.account, order.symbol), 0) + 1
    assert {k: v for k, v in counts.per_market.items() if v} == expected and expected
    assert sum(counts.per_account.values()) == len(resumed.engine.orders)


def test_percent_price_bounds_are_the_fraction_rule_in_whole_ticks() -> None:
    import random
    from fractions import Fraction

    rng = random.Random(11)
    for _ in range(20000):
        reference = Fraction(rng.randrange(1, 10 ** rng.randrange(1, 25)), rng.randrange(1, 10 ** rng.randrange(1, 9)))
        up, down = Fraction(rng.randrange(1, 500), rng.randrange(1, 100)), Fraction(rng.randrange(0, 100),
                                                                                     rng.randrange(1, 500))
        low, high = filters.percent_price_bounds(reference, down, up)
        for price in {int(reference * up) + d for d in (-1, 0, 1)} | {int(reference * down) + d for d in (-1, 0, 1)}:
            allowed = not (Fraction(price) > reference * up or Fraction(price) < reference * down)
            assert allowed == (low <= price <= high), (reference, down, up, price)


def test_the_percent_price_bounds_move_with_the_average(tmp_path: Path) -> None:
    core = ExchangeCore(tmp_path / "x.sqlite3", Markets([market_from_table(LIMITED)]), FEES, clock_ms=lambda: 10**6)
    core.deposit("alice", "BRS", 10**22, "tx:a", 1)
    core.deposit("bob", "WBNB", 10**22, "tx:b", 1)
    place(core, "alice", Side.SELL, 100, 2000, 1)
    place(core, "bob", Side.BUY, 100, 2000, 1)  # average 2000: up to 3000
    accepted(core, order(OrderType.LIMIT, Side.BUY, 10, 3000))
    place(core, "alice", Side.SELL, 100, 1000, 2)
    place(core, "bob", Side.BUY, 100, 1000, 2)  # average (2000 + 1000) / 2 = 1500: up to 2250
    accepted(core, order(OrderType.LIMIT, Side.BUY, 10, 2250))
    assert refused(core, order(OrderType.LIMIT, Side.BUY, 10, 2251)) == "PERCENT_PRICE_BY_SIDE"
    assert refused(core, order(OrderType.LIMIT, Side.BUY, 10, 3000)) == "PERCENT_PRICE_BY_SIDE"
    accepted(core, order(OrderType.LIMIT, Side.SELL, 10, 750))
    assert refused(core, order(OrderType.LIMIT, Side.SELL, 10, 749)) == "PERCENT_PRICE_BY_SIDE"

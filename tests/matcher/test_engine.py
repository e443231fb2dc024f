"""Order types and rules, positive and negative side by side (Binance spot semantics)."""

from __future__ import annotations

from matcher import (AmendOrder, CancelOrder, CancelReplace, Code, ExecType, OrderType, PlaceOrder, Side, Status, Stp,
                     TimeInForce, Withdraw)
from matcher.model import OrderUpdate, Trade

from .conftest import MARKET, Harness

S = "BRSWBNB"


def limit(account: str, side: Side, price: int, qty: int, tif: TimeInForce = TimeInForce.GTC, **kw) -> PlaceOrder:  # type: ignore[no-untyped-def]
    return PlaceOrder(account, S, side, OrderType.LIMIT, qty=qty, price=price, tif=tif, **kw)


def trades(result) -> list[Trade]:  # type: ignore[no-untyped-def]
    return [e for e in result.events if isinstance(e, Trade)]


def updates(result, order_id: int) -> list[OrderUpdate]:  # type: ignore[no-untyped-def]
    return [e for e in result.events if isinstance(e, OrderUpdate) and e.order_id == order_id]


def test_resting_limit_then_crossing_limit_trades_at_the_resting_price(ex: Harness) -> None:
    sell = ex(limit("alice", Side.SELL, 1000, 5))
    assert sell.ok and [u.exec_type for u in updates(sell, sell.order_id)] == [ExecType.NEW]
    buy = ex(limit("bob", Side.BUY, 1100, 3))
    [trade] = trades(buy)
    assert (trade.price, trade.qty, trade.maker, trade.taker) == (1000, 3, "alice", "bob")
    assert trade.quote == MARKET.notional(1000, 3)
    assert updates(buy, buy.order_id)[-1].status is Status.FILLED
    assert updates(buy, sell.order_id)[-1].status is Status.PARTIALLY_FILLED
    # the buyer's price improvement stays free: it locked at 1100 but paid 1000
    assert ex.engine.balance("bob", "WBNB") == (10**21 - MARKET.notional(1000, 3), 0)
    assert ex.engine.balance("bob", "BRS")[0] == 10**21 + MARKET.base_units(3) - MARKET.base_units(3) * 20 // 10_000


def test_price_time_priority(ex: Harness) -> None:
    first = ex(limit("alice", Side.SELL, 1000, 1)).order_id
    second = ex(limit("carol", Side.SELL, 1000, 1)).order_id
    better = ex(limit("carol", Side.SELL, 990, 1)).order_id
    result = ex(limit("bob", Side.BUY, 1000, 3))
    assert [t.maker_order_id for t in trades(result)] == [better, first, second]
    assert [t.price for t in trades(result)] == [990, 1000, 1000]


def test_filters_reject_without_rounding(ex: Harness) -> None:
    assert ex(limit("bob", Side.BUY, 0, 1)).code is Code.PRICE_FILTER
    assert ex(limit("bob", Side.BUY, 10, 0)).code is Code.LOT_SIZE
    assert ex(limit("bob", Side.BUY, 1, 1)).code is Code.MIN_NOTIONAL  # 10**12 < 10**14
    assert ex(PlaceOrder("bob", "NOPE", Side.BUY, OrderType.LIMIT, qty=1, price=1000)).code is Code.UNKNOWN_MARKET
    assert ex(limit("bob", Side.BUY, 1000, 1)).ok


def test_insufficient_balance_is_rejected_and_changes_nothing(ex: Harness) -> None:
    ex.fund("dave", brs=0, wbnb=MARKET.notional(1000, 2))
    before = ex.engine.state_hash()
    assert ex(limit("dave", Side.BUY, 1000, 3)).code is Code.INSUFFICIENT_BALANCE
    assert ex(limit("dave", Side.SELL, 1000, 1)).code is Code.INSUFFICIENT_BALANCE
    assert ex.engine.state_hash() == before
    assert ex(limit("dave", Side.BUY, 1000, 2)).ok
    assert ex.engine.balance("dave", "WBNB") == (0, MARKET.notional(1000, 2))


def test_ioc_takes_what_it_can_and_expires_the_rest(ex: Harness) -> None:
    ex(limit("alice", Side.SELL, 1000, 2))
    result = ex(limit("bob", Side.BUY, 1000, 5, TimeInForce.IOC))
    assert sum(t.qty for t in trades(result)) == 2
    final = updates(result, result.order_id)[-1]
    assert final.status is Status.EXPIRED and final.filled == 2
    assert ex.engine.books[S].best(Side.BUY) is None


def test_fok_fills_in_full_or_not_at_all(ex: Harness) -> None:
    ex(limit("alice", Side.SELL, 1000, 2))
    missed = ex(limit("bob", Side.BUY, 1000, 3, TimeInForce.FOK))
    assert not trades(missed) and updates(missed, missed.order_id)[-1].status is Status.EXPIRED
    ex(limit("carol", Side.SELL, 1000, 1))
    done = ex(limit("bob", Side.BUY, 1000, 3, TimeInForce.FOK))
    assert sum(t.qty for t in trades(done)) == 3 and updates(done, done.order_id)[-1].status is Status.FILLED


def test_limit_maker_is_rejected_when_it_would_take(ex: Harness) -> None:
    ex(limit("alice", Side.SELL, 1000, 2))
    taking = ex(PlaceOrder("bob", S, Side.BUY, OrderType.LIMIT_MAKER, qty=1, price=1000))
    assert taking.code is Code.WOULD_TAKE
    resting = ex(PlaceOrder("bob", S, Side.BUY, OrderType.LIMIT_MAKER, qty=1, price=999))
    assert resting.ok and ex.engine.books[S].best(Side.BUY) == 999


def test_market_orders_by_quantity_and_by_quote_amount(ex: Harness) -> None:
    ex(limit("alice", Side.SELL, 1000, 2))
    ex(limit("alice", Side.SELL, 1010, 2))
    by_qty = ex(PlaceOrder("bob", S, Side.BUY, OrderType.MARKET, qty=3))
    assert [(t.price, t.qty) for t in trades(by_qty)] == [(1000, 2), (1010, 1)]
    assert updates(by_qty, by_qty.order_id)[-1].status is Status.FILLED
    budget = MARKET.notional(1010, 1) * 3 // 2  # enough for one lot, not two
    by_quote = ex(PlaceOrder("carol", S, Side.BUY, OrderType.MARKET, quote_qty=budget))
    assert [(t.price, t.qty) for t in trades(by_quote)] == [(1010, 1)]
    assert ex.engine.balance("carol", "WBNB") == (10**21 - MARKET.notional(1010, 1), 0)
    ex(limit("alice", Side.BUY, 900, 5))
    sell_quote = ex(PlaceOrder("bob", S, Side.SELL, OrderType.MARKET, quote_qty=MARKET.notional(900, 2)))
    assert [(t.price, t.qty) for t in trades(sell_quote)] == [(900, 2)]
    assert ex(PlaceOrder("bob", S, Side.BUY, OrderType.MARKET)).code is Code.INVALID_ORDER
    assert ex(PlaceOrder("bob", S, Side.BUY, OrderType.MARKET, qty=1, price=-1)).code is Code.PRICE_FILTER


def test_market_order_with_a_protection_price_stops_at_it(ex: Harness) -> None:
    ex(limit("alice", Side.SELL, 1000, 2))
    ex(limit("alice", Side.SELL, 1010, 2))
    protected = ex(PlaceOrder("bob", S, Side.BUY, OrderType.MARKET, qty=3, price=1005))
    assert [(t.price, t.qty) for t in trades(protected)] == [(1000, 2)]
    assert updates(protected, protected.order_id)[-1].status is Status.EXPIRED
    assert ex.engine.balance("bob", "WBNB") == (10**21 - MARKET.notional(1000, 2), 0)
    ex(limit("carol", Side.BUY, 990, 3))
    sell = ex(PlaceOrder("bob", S, Side.SELL, OrderType.MARKET, quote_qty=MARKET.notional(990, 3), price=995))
    assert trades(sell) == [] and updates(sell, sell.order_id)[-1].status is Status.EXPIRED


def test_quote_sized_market_order_stops_at_its_quantity_cap(ex: Harness) -> None:
    ex(limit("alice", Side.SELL, 1000, 5))
    capped = ex(PlaceOrder("bob", S, Side.BUY, OrderType.MARKET, qty=2, quote_qty=MARKET.notional(1000, 4)))
    assert [(t.price, t.qty) for t in trades(capped)] == [(1000, 2)]
    assert updates(capped, capped.order_id)[-1].status is Status.FILLED
    assert ex.engine.balance("bob", "WBNB") == (10**21 - MARKET.notional(1000, 2), 0)
    ex(limit("carol", Side.BUY, 990, 5))
    sold = ex(PlaceOrder("bob", S, Side.SELL, OrderType.MARKET, qty=1, quote_qty=MARKET.notional(990, 4)))
    assert [(t.price, t.qty) for t in trades(sold)] == [(990, 1)]


def test_transfer_moves_free_balance_and_refuses_more_than_is_free(ex: Harness) -> None:
    from matcher import Transfer
    assert ex(Transfer("alice", "bob", "BRS", 5)).ok
    assert ex.engine.balance("bob", "BRS") == (10**21 + 5, 0)
    assert ex(Transfer("alice", "bob", "BRS", 10**22)).code is Code.INSUFFICIENT_BALANCE
    assert ex(Transfer("alice", "bob", "BRS", 0)).code is Code.INVALID_ORDER


def test_market_order_into_an_empty_book_expires(ex: Harness) -> None:
    result = ex(PlaceOrder("bob", S, Side.BUY, OrderType.MARKET, qty=1))
    assert result.ok and not trades(result)
    assert updates(result, result.order_id)[-1].status is Status.EXPIRED


def test_cancel_by_id_and_client_id_releases_the_lock(ex: Harness) -> None:
    order = ex(limit("bob", Side.BUY, 1000, 2, client_order_id="mine-1"))
    assert ex.engine.balance("bob", "WBNB")[1] == MARKET.notional(1000, 2)
    assert ex(CancelOrder("alice", S, order_id=order.order_id)).code is Code.UNKNOWN_ORDER  # not hers
    cancelled = ex(CancelOrder("bob", S, client_order_id="mine-1"))
    assert cancelled.ok and updates(cancelled, order.order_id)[-1].status is Status.CANCELED
    assert ex.engine.balance("bob", "WBNB") == (10**21, 0)
    assert ex(CancelOrder("bob", S, order_id=order.order_id)).code is Code.UNKNOWN_ORDER


def test_client_order_ids_are_unique_among_open_orders(ex: Harness) -> None:
    assert ex(limit("bob", Side.BUY, 1000, 1, client_order_id="x")).ok
    assert ex(limit("bob", Side.BUY, 1000, 1, client_order_id="x")).code is Code.DUPLICATE_CLIENT_ORDER_ID
    assert ex(limit("alice", Side.BUY, 1000, 1, client_order_id="x")).ok  # another account may use it
    ex(CancelOrder("bob", S, client_order_id="x"))
    assert ex(limit("bob", Side.BUY, 1000, 1, client_order_id="x")).ok  # free again once closed


def test_amend_down_keeps_priority_and_cancel_replace_loses_it(ex: Harness) -> None:
    first = ex(limit("alice", Side.SELL, 1000, 5)).order_id
    second = ex(limit("carol", Side.SELL, 1000, 5)).order_id
    amended = ex(AmendOrder("alice", S, first, 2))
    assert amended.ok and updates(amended, first)[-1].exec_type is ExecType.REPLACED
    assert ex.engine.balance("alice", "BRS")[1] == MARKET.base_units(2)
    assert ex(AmendOrder("alice", S, first, 7)).code is Code.LOT_SIZE  # only down
    result = ex(limit("bob", Side.BUY, 1000, 1))
    assert trades(result)[0].maker_order_id == first  # still first in the queue
    replaced = ex(CancelReplace(CancelOrder("alice", S, order_id=first), limit("alice", Side.SELL, 1000, 2)))
    assert replaced.ok and replaced.order_id != first
    result = ex(limit("bob", Side.BUY, 1000, 1))
    assert trades(result)[0].maker_order_id == second  # the replacement went to the back


def test_self_trade_prevention_modes(ex: Harness) -> None:
    resting = ex(limit("alice", Side.SELL, 1000, 1)).order_id
    taker = ex(limit("alice", Side.BUY, 1000, 1, stp=Stp.EXPIRE_TAKER))
    assert not trades(taker) and updates(taker, taker.order_id)[-1].status is Status.EXPIRED_IN_MATCH
    maker = ex(limit("alice", Side.BUY, 1000, 1, stp=Stp.EXPIRE_MAKER))
    assert updates(maker, resting)[-1].status is Status.EXPIRED_IN_MATCH
    assert updates(maker, resting)[-1].exec_type is ExecType.TRADE_PREVENTION
    assert ex.engine.books[S].best(Side.BUY) == 1000  # the taker rests
    other = ex(limit("alice", Side.SELL, 1000, 1, stp=Stp.EXPIRE_BOTH)).order_id
    assert other not in ex.engine.orders and ex.engine.books[S].best(Side.BUY) is None
    plain = ex(limit("bob", Side.SELL, 1000, 1)).order_id
    selftrade = ex(limit("bob", Side.BUY, 1000, 1))  # NONE: allowed to trade with itself
    assert trades(selftrade)[0].maker_order_id == plain


def test_stop_limit_orders_fire_on_the_last_trade_price(ex: Harness) -> None:
    stop = ex(PlaceOrder("carol", S, Side.BUY, OrderType.STOP_LOSS_LIMIT, qty=1, price=1100, stop_price=1050))
    assert stop.ok and ex.engine.books[S].best(Side.BUY) is None  # parked
    assert ex(PlaceOrder("carol", S, Side.BUY, OrderType.STOP_LOSS_LIMIT, qty=1, price=1100)).code is Code.PRICE_FILTER
    ex(limit("alice", Side.SELL, 1060, 5))
    fired = ex(limit("bob", Side.BUY, 1060, 1))  # last price 1060 >= stop 1050
    assert any(t.taker_order_id == stop.order_id for t in trades(fired))
    take_profit = ex(PlaceOrder("alice", S, Side.SELL, OrderType.TAKE_PROFIT_LIMIT, qty=1, price=1000,
                                stop_price=1200))
    assert take_profit.order_id in ex.engine.orders  # waits for the price to rise to 1200
    assert ex(CancelOrder("alice", S, order_id=take_profit.order_id)).ok


def test_withdraw_only_free_balance(ex: Harness) -> None:
    ex(limit("bob", Side.BUY, 1000, 10))
    locked = MARKET.notional(1000, 10)
    assert ex.withdraw("bob", "WBNB", 10**21).code is Code.INSUFFICIENT_BALANCE
    assert ex.withdraw("bob", "WBNB", 10**21 - locked).ok
    assert ex(Withdraw("bob", "WBNB", 0)).code is Code.INVALID_ORDER
    assert ex.engine.balance("bob", "WBNB") == (0, locked)


def test_fees_go_to_the_fee_account_in_the_received_asset(ex: Harness) -> None:
    ex(limit("alice", Side.SELL, 1000, 10))
    result = ex(limit("bob", Side.BUY, 1000, 10))
    [trade] = trades(result)
    assert trade.taker_fee == MARKET.base_units(10) * 20 // 10_000  # bob receives base
    assert trade.maker_fee == MARKET.notional(1000, 10) * 10 // 10_000  # alice receives quote
    assert ex.engine.balance("fees", "BRS")[0] == trade.taker_fee
    assert ex.engine.balance("fees", "WBNB")[0] == trade.maker_fee


def test_platform_token_fee_discount_when_opted_in_funded_and_signed_for() -> None:
    from matcher import Deposit, Engine
    from matcher.fees import PRICE_SCALE, FeePolicy
    from matcher.model import SetFeePreference

    policy = FeePolicy(platform_asset="BRS", discount_bps=2_500, rates={"WBNB": 3 * PRICE_SCALE})
    engine = Engine([MARKET], fee_policy=policy)
    for who in ("alice", "bob"):
        engine.process(Deposit(who, "BRS", 10**21))
        engine.process(Deposit(who, "WBNB", 10**21))
    engine.process(SetFeePreference("alice", True))
    signed = 10**18  # alice's order accepts up to 1 BRS per WBNB received (x 1e18): enough
    engine.process(limit("alice", Side.SELL, 1000, 10, max_platform_fee_rate=signed))
    [trade] = trades(engine.process(limit("bob", Side.BUY, 1000, 10)))
    quote_fee = MARKET.notional(1000, 10) * 10 // 10_000  # alice (maker) receives quote
    expected = quote_fee * 3 * 7_500 // 10_000
    assert (trade.maker_fee, trade.maker_fee_asset) == (expected, "BRS")
    assert engine.balance("alice", "WBNB")[0] == 10**21 + MARKET.notional(1000, 10)  # proceeds in full
    assert engine.balance("alice", "BRS")[0] == 10**21 - MARKET.base_units(10) - expected
    assert engine.balance("fees", "BRS")[0] == expected + trade.taker_fee  # bob paid his fee in BRS (received)
    assert trade.taker_fee_asset == "BRS"
    engine.process(SetFeePreference("alice", False))
    engine.process(limit("alice", Side.SELL, 1000, 10, max_platform_fee_rate=signed))
    [plain] = trades(engine.process(limit("bob", Side.BUY, 1000, 10)))
    assert (plain.maker_fee, plain.maker_fee_asset) == (quote_fee, "WBNB")


def test_a_platform_token_fee_above_the_orders_signed_rate_is_paid_in_the_asset_received() -> None:
    from matcher import Deposit, Engine
    from matcher.fees import PRICE_SCALE, FeePolicy
    from matcher.model import SetFeePreference

    engine = Engine([MARKET], fee_policy=FeePolicy(platform_asset="BRS", rates={"WBNB": 3 * PRICE_SCALE}))
    for who in ("alice", "bob"):
        engine.process(Deposit(who, "BRS", 10**21))
        engine.process(Deposit(who, "WBNB", 10**21))
    engine.process(SetFeePreference("alice", True))
    quote_fee = MARKET.notional(1000, 10) * 10 // 10_000
    exact = quote_fee * 3 * PRICE_SCALE // MARKET.notional(1000, 10)  # the rate at which 3 BRS per WBNB fee fits
    for signed, asset in ((0, "WBNB"), (exact - 1, "WBNB"), (exact, "BRS")):
        engine.process(limit("alice", Side.SELL, 1000, 10, max_platform_fee_rate=signed))
        [trade] = trades(engine.process(limit("bob", Side.BUY, 1000, 10)))
        assert trade.maker_fee_asset == asset, signed


def test_the_fee_schedule_is_set_by_journaled_commands() -> None:
    from matcher import Deposit, Engine
    from matcher.fees import PRICE_SCALE, FeePolicy
    from matcher.model import SetFeeDiscount, SetFeePreference, SetPlatformFeeRate

    engine = Engine([MARKET], fee_policy=FeePolicy(platform_asset="BRS"))
    for who in ("alice", "bob"):
        engine.process(Deposit(who, "BRS", 10**21))
        engine.process(Deposit(who, "WBNB", 10**21))
    engine.process(SetFeePreference("alice", True))
    before = engine.state_hash()
    assert engine.process(SetPlatformFeeRate("WBNB", 2 * PRICE_SCALE)).ok
    assert engine.process(SetFeeDiscount(5_000)).ok
    assert engine.state_hash() != before
    assert not engine.process(SetFeeDiscount(10_001)).ok and not engine.process(SetPlatformFeeRate("WBNB", -1)).ok
    engine.process(limit("alice", Side.SELL, 1000, 10, max_platform_fee_rate=PRICE_SCALE))
    [trade] = trades(engine.process(limit("bob", Side.BUY, 1000, 10)))
    quote_fee = MARKET.notional(1000, 10) * 10 // 10_000
    assert (trade.maker_fee, trade.maker_fee_asset) == (quote_fee * 2 * 5_000 // 10_000, "BRS")
    engine.process(SetPlatformFeeRate("WBNB", 0))  # no rate: fees stay in the asset received
    engine.process(limit("alice", Side.SELL, 1000, 10, max_platform_fee_rate=PRICE_SCALE))
    [plain] = trades(engine.process(limit("bob", Side.BUY, 1000, 10)))
    assert plain.maker_fee_asset == "WBNB"


def test_events_read_late_still_say_what_happened_then(ex: Harness) -> None:
    """Events are typed on first access; the values must be those of the moment they happened."""
    placed = ex(limit("alice", Side.SELL, 1000, 5, client_order_id="a-1"))
    ex(limit("bob", Side.BUY, 1000, 2))
    amended = ex(AmendOrder("alice", S, placed.order_id, 4))
    filled = ex(limit("carol", Side.BUY, 1000, 2))
    [new] = updates(placed, placed.order_id)  # read only now, after a fill and an amend
    assert (new.status, new.exec_type, new.qty, new.filled, new.cum_quote) == (Status.NEW, ExecType.NEW, 5, 0, 0)
    assert (new.client_order_id, new.price, new.side) == ("a-1", 1000, Side.SELL)
    [replaced] = updates(amended, placed.order_id)
    assert (replaced.exec_type, replaced.qty, replaced.filled, replaced.status) == (
        ExecType.REPLACED, 4, 2, Status.PARTIALLY_FILLED)
    last = updates(filled, placed.order_id)[-1]
    assert (last.status, last.qty, last.filled, last.last_qty) == (Status.FILLED, 4, 4, 2)
    assert placed.events is placed.events  # typed once


def test_cancel_events_read_late_say_what_the_order_was_when_cancelled(ex: Harness) -> None:
    """A cancel's event is typed from the cancelled order itself, which nothing changes afterwards: read after later
    commands (a fill of the order that replaced it, a cancel of the same id again), it still says CANCELED with the
    quantities of that moment."""
    placed = ex(limit("alice", Side.SELL, 1000, 5))
    ex(limit("bob", Side.BUY, 1000, 2))  # fills 2 of 5
    moved = ex(CancelReplace(CancelOrder("alice", S, placed.order_id), limit("alice", Side.SELL, 1001, 3)))
    cancelled = ex(CancelOrder("alice", S, moved.order_id))
    again = ex(CancelOrder("alice", S, moved.order_id))
    assert again.code is Code.UNKNOWN_ORDER and not again.events
    ex(limit("alice", Side.SELL, 1001, 3))
    ex(limit("carol", Side.BUY, 1001, 3))  # trades at the same price and size as the cancelled order had
    [old] = updates(moved, placed.order_id)
    assert (old.status, old.exec_type, old.qty, old.filled, old.cum_quote, old.last_qty, old.price) == (
        Status.CANCELED, ExecType.CANCELED, 5, 2, 2 * 1000 * MARKET.quote_per_lot_tick, 0, 1000)
    [new] = updates(moved, moved.order_id)
    assert (new.status, new.exec_type, new.qty, new.filled, new.price) == (Status.NEW, ExecType.NEW, 3, 0, 1001)
    [gone] = updates(cancelled, moved.order_id)
    assert (gone.status, gone.exec_type, gone.qty, gone.filled, gone.cum_quote, gone.account, gone.symbol) == (
        Status.CANCELED, ExecType.CANCELED, 3, 0, 0, "alice", S)


def test_a_stop_that_the_last_price_already_reached_is_refused(ex: Harness) -> None:
    ex(limit("alice", Side.SELL, 1000, 1))
    ex(limit("bob", Side.BUY, 1000, 1))  # last price 1000
    before = ex.engine.state_hash()
    refused = ex(PlaceOrder("carol", S, Side.SELL, OrderType.STOP_LOSS_LIMIT, qty=1, price=990, stop_price=1000))
    assert refused.code is Code.WOULD_TRIGGER and ex.engine.state_hash() == before
    assert ex(PlaceOrder("carol", S, Side.SELL, OrderType.STOP_LOSS_LIMIT, qty=1, price=990, stop_price=999)).ok


def test_market_stops_trade_as_market_orders_within_their_protection_and_never_rest(ex: Harness) -> None:
    ex(limit("alice", Side.SELL, 1000, 1))
    ex(limit("bob", Side.BUY, 1000, 1))  # last price 1000
    # a STOP_LOSS sell without protection: sells into whatever bids there are once the price falls to 980
    stop = ex(PlaceOrder("carol", S, Side.SELL, OrderType.STOP_LOSS, qty=5, stop_price=980))
    assert stop.ok and ex.engine.balance("carol", "BRS")[1] == MARKET.base_units(5)
    assert ex(PlaceOrder("carol", S, Side.BUY, OrderType.STOP_LOSS, qty=1, stop_price=1100)).code is Code.PRICE_FILTER
    ex(limit("bob", Side.BUY, 975, 2))
    ex(limit("bob", Side.BUY, 970, 1))
    fired = ex(limit("alice", Side.SELL, 980, 1))  # no bid at 980: it rests...
    assert not trades(fired)
    fired = ex(limit("bob", Side.BUY, 980, 1))  # ...and trades at 980: the stop fires
    stop_trades = [t for t in trades(fired) if t.taker_order_id == stop.order_id]
    assert [(t.price, t.qty) for t in stop_trades] == [(975, 2), (970, 1)]
    assert updates(fired, stop.order_id)[-1].status is Status.EXPIRED  # the 2 lots left do not rest
    assert stop.order_id not in ex.engine.orders and ex.engine.balance("carol", "BRS")[1] == 0
    # a TAKE_PROFIT buy protected at 985 buys when the price falls to 975, up to 985, and releases the rest
    ex(limit("alice", Side.SELL, 1000, 1))
    ex(limit("bob", Side.BUY, 1000, 1))  # last price 1000 again
    ex.fund("dave")
    buy = ex(PlaceOrder("dave", S, Side.BUY, OrderType.TAKE_PROFIT, qty=3, price=985, stop_price=975))
    assert buy.ok and ex.engine.balance("dave", "WBNB")[1] == MARKET.notional(985, 3)
    ex(limit("alice", Side.SELL, 990, 2))
    ex(limit("alice", Side.SELL, 984, 1))
    ex(limit("bob", Side.BUY, 975, 1))
    fired = ex(limit("alice", Side.SELL, 975, 1))
    bought = [t for t in trades(fired) if t.taker_order_id == buy.order_id]
    assert [(t.price, t.qty) for t in bought] == [(984, 1)]  # 990 is beyond its protection price
    assert ex.engine.balance("dave", "WBNB")[1] == 0
    assert ex.engine.balance("dave", "WBNB")[0] == 10**21 - MARKET.notional(984, 1)


def test_trailing_stop_sell_follows_the_highest_price_from_placement(ex: Harness) -> None:
    def trade_at(price: int):  # type: ignore[no-untyped-def]
        ex(limit("alice", Side.SELL, price, 1))
        return ex(limit("bob", Side.BUY, price, 1))

    trade_at(1000)
    ex.fund("dave")
    stop = ex(PlaceOrder("carol", S, Side.SELL, OrderType.STOP_LOSS_LIMIT, qty=1, price=900, trailing_delta=700))
    assert stop.ok
    trade_at(1050)  # the highest: it triggers at 1050 x 0.93 = 976.5 or below
    assert not any(t.taker_order_id == stop.order_id for t in trades(trade_at(977)))
    assert stop.order_id in ex.engine.orders
    ex(limit("dave", Side.BUY, 950, 1))  # something for the triggered stop to sell to
    fired = trade_at(976)
    assert [(t.price, t.qty) for t in trades(fired) if t.taker_order_id == stop.order_id] == [(950, 1)]


def test_trailing_stop_buy_with_a_stop_price_tracks_only_after_it_is_reached(ex: Harness) -> None:
    def trade_at(price: int):  # type: ignore[no-untyped-def]
        ex(limit("alice", Side.SELL, price, 1))
        return ex(limit("bob", Side.BUY, price, 1))

    trade_at(1000)
    stop = ex(PlaceOrder("carol", S, Side.BUY, OrderType.STOP_LOSS_LIMIT, qty=1, price=1200, stop_price=1100,
                         trailing_delta=500))
    trade_at(900)
    trade_at(1000)  # +11 % from 900, but it is not tracking yet: the stop price 1100 was never reached
    assert stop.order_id in ex.engine.orders
    trade_at(1100)  # starts tracking at 1100
    trade_at(1050)  # the lowest since: triggers at 1050 x 1.05 = 1102.5 or above
    trade_at(1102)
    assert stop.order_id in ex.engine.orders
    ex(limit("alice", Side.SELL, 1150, 1))
    fired = trade_at(1103)
    assert [(t.price, t.qty) for t in trades(fired) if t.taker_order_id == stop.order_id] == [(1150, 1)]
    assert ex(PlaceOrder("carol", S, Side.BUY, OrderType.LIMIT, qty=1, price=1000, trailing_delta=5)).code \
        is Code.INVALID_ORDER


def test_an_iceberg_shows_one_slice_and_each_new_slice_queues_behind(ex: Harness) -> None:
    ice = ex(limit("alice", Side.SELL, 1000, 10, iceberg_qty=3))
    assert ice.ok and ex.engine.depth(S)["asks"] == [(1000, 3)]
    other = ex(limit("carol", Side.SELL, 1000, 2))
    assert ex.engine.depth(S)["asks"] == [(1000, 5)]
    result = ex(limit("bob", Side.BUY, 1000, 4))
    # the iceberg's slice (3), then carol's order (the new slice queued behind it) for the last lot
    assert [(t.maker_order_id, t.qty) for t in trades(result)] == [(ice.order_id, 3), (other.order_id, 1)]
    assert ex.engine.depth(S)["asks"] == [(1000, 1 + 3)]
    result = ex(limit("bob", Side.BUY, 1000, 5))
    assert [(t.maker_order_id, t.qty) for t in trades(result)] == [(other.order_id, 1), (ice.order_id, 3),
                                                                   (ice.order_id, 1)]
    assert updates(result, ice.order_id)[-1].status is Status.PARTIALLY_FILLED
    assert ex.engine.depth(S)["asks"] == [(1000, 2)]  # 3 lots left, 2 of them still shown from the current slice
    assert ex(AmendOrder("alice", S, ice.order_id, 8)).ok  # 1 left: it shows 1
    assert ex.engine.depth(S)["asks"] == [(1000, 1)]
    for bad in (dict(iceberg_qty=10), dict(iceberg_qty=3, tif=TimeInForce.IOC)):
        assert ex(limit("alice", Side.SELL, 1000, 10, **bad)).code is Code.INVALID_ORDER
    assert ex(PlaceOrder("alice", S, Side.SELL, OrderType.MARKET, qty=4, iceberg_qty=2)).code is not Code.OK


def test_an_iceberg_taker_takes_its_whole_quantity_then_rests_a_slice(ex: Harness) -> None:
    ex(limit("alice", Side.SELL, 1000, 2))
    ice = ex(limit("bob", Side.BUY, 1000, 9, iceberg_qty=4))
    assert [t.qty for t in trades(ice)] == [2]
    assert ex.engine.depth(S)["bids"] == [(1000, 4)]
    assert ex.engine.orders[ice.order_id].locked == MARKET.notional(1000, 7)


def test_an_orders_value_is_the_exact_product_at_and_around_the_native_64_bit_bound() -> None:
    """`order_value` (and `base_units`) multiply natively when the product stays below 2**62 and as Python ints
    otherwise: the same number either way, including just below and at the bound, for a quote per lot and tick (a lot
    size) of 1, a usual one, and one at and beyond the bound itself."""
    from matcher.book import Book
    from matcher.market import Asset, MarketSpec
    from matcher.compiled import is_compiled
    from matcher.state import COMPILED, NATIVE_LIMIT, Market, base_units, order_value

    assert COMPILED == is_compiled()  # the native paths are taken in a compiled build (and only there)

    for tick_size, lot_size, base_decimals in ((1, 1, 0), (10**14, 10**16, 18), (2**62, 1, 0), (2**70, 3, 0),
                                                (1, 2**62, 0), (1, 2**64 + 1, 0)):
        spec = MarketSpec("XQ", Asset("X", "0x" + "c1" * 20, base_decimals), Asset("Q", "0x" + "c2" * 20, 18),
                          tick_size=tick_size, lot_size=lot_size, min_notional=1, maker_fee_bps=0, taker_fee_bps=0)
        m = Market(spec, Book())
        per = m.per_lot_tick
        bound = NATIVE_LIMIT // per
        for ticks_lots in {0, 1, 2, 9_999, bound - 2, bound - 1, bound, bound + 1, 2 * bound + 7, 10**30}:
            for price, qty in ((ticks_lots, 1), (1, ticks_lots)):
                if price >= 0 and qty >= 0:
                    assert order_value(m, price, qty) == price * qty * per, (tick_size, price, qty)
        assert order_value(m, -3, 5) == -15 * per
        bound = NATIVE_LIMIT // m.lot_size
        for qty in {0, 1, 2, 460, bound - 1, bound, bound + 1, 10**30}:
            assert base_units(m, qty) == qty * m.lot_size, (lot_size, qty)


def test_a_fee_is_the_exact_rounded_down_share_at_and_around_the_native_64_bit_bound() -> None:
    from matcher.state import NATIVE_LIMIT, fee_of

    for bps in (0, 1, 7, 20, 9_999, 10_000, 10_001, 2**40):
        bound = NATIVE_LIMIT // (bps + 1)
        for amount in {0, 1, 9_999, 10_000, 10**17, bound - 1, bound, bound + 1, 10**40}:
            assert fee_of(amount, bps) == amount * bps // 10_000, (amount, bps)
    assert fee_of(-10_001, 20) == -10_001 * 20 // 10_000 and fee_of(10_001, -3) == 10_001 * -3 // 10_000


def test_a_cancel_replace_can_lock_the_funds_its_cancel_releases(ex: Harness) -> None:
    from matcher.model import BalanceUpdate

    ex.fund("dave", brs=0, wbnb=MARKET.notional(1000, 2))
    first = ex(limit("dave", Side.BUY, 1000, 2)).order_id
    assert ex.engine.balance("dave", "WBNB") == (0, MARKET.notional(1000, 2))
    moved = ex(CancelReplace(CancelOrder("dave", S, order_id=first), limit("dave", Side.BUY, 999, 2)))
    assert moved.ok and ex.engine.balance("dave", "WBNB") == (MARKET.notional(1, 2), MARKET.notional(999, 2))
    assert [(e.free, e.locked) for e in moved.events if isinstance(e, BalanceUpdate)] == [
        (MARKET.notional(1, 2), MARKET.notional(999, 2))]
    # more than free plus what the cancel releases: refused, and the cancelled order's funds are free again
    refused = ex(CancelReplace(CancelOrder("dave", S, order_id=moved.order_id), limit("dave", Side.BUY, 1000, 3)))
    assert refused.code is Code.INSUFFICIENT_BALANCE and moved.order_id not in ex.engine.orders
    assert ex.engine.balance("dave", "WBNB") == (MARKET.notional(1000, 2), 0)
    assert [(e.free, e.locked) for e in refused.events if isinstance(e, BalanceUpdate)] == [
        (MARKET.notional(1000, 2), 0)]
    # refused before locking anything (an unknown market, a bad price): the funds are released all the same
    for bad in (PlaceOrder("dave", "NOPE", Side.BUY, OrderType.LIMIT, qty=1, price=1000),
                limit("dave", Side.BUY, 0, 1)):
        resting = ex(limit("dave", Side.BUY, 1000, 2)).order_id
        assert not ex(CancelReplace(CancelOrder("dave", S, order_id=resting), bad)).ok
        assert resting not in ex.engine.orders and ex.engine.balance("dave", "WBNB") == (MARKET.notional(1000, 2), 0)
    # into another balance (the other side): released, then locked there
    ex.fund("dave", brs=MARKET.base_units(5), wbnb=0)
    resting = ex(limit("dave", Side.BUY, 1000, 2)).order_id
    switched = ex(CancelReplace(CancelOrder("dave", S, order_id=resting), limit("dave", Side.SELL, 1200, 5)))
    assert switched.ok and ex.engine.balance("dave", "WBNB") == (MARKET.notional(1000, 2), 0)
    assert ex.engine.balance("dave", "BRS") == (0, MARKET.base_units(5))


def test_a_cancel_replace_ends_where_its_cancel_then_its_place_end() -> None:
    """On random flow with tight balances, three markets, platform-token fees and replacements that change side,
    market or account balance, or are refused: one engine takes each CancelReplace, another its cancel and (if that
    succeeded) its place as two commands; both reach the same state after every command, with the same codes."""
    import random

    from matcher import Asset, Deposit, Engine, MarketSpec
    from matcher.fees import PRICE_SCALE, FeePolicy
    from matcher.model import SetFeePreference

    from .conftest import BRS, WBNB

    eth = Asset("ETH", "0x" + "e1" * 20, 18)
    markets = [MARKET] + [MarketSpec(f"ETH{quote.symbol}", eth, quote, tick_size=10**14, lot_size=10**16,
                                     min_notional=10**14, maker_fee_bps=10, taker_fee_bps=20) for quote in (BRS, WBNB)]
    policy = FeePolicy(platform_asset="BRS", discount_bps=2_500, rates={"WBNB": 3 * PRICE_SCALE, "ETH": PRICE_SCALE})
    for seed in range(30):
        rng = random.Random(seed)
        joined, split = Engine(markets, fee_policy=policy), Engine(markets, fee_policy=policy)
        accounts = ["a", "b", "c"]
        setup = [Deposit(a, asset, rng.randint(1, 6) * MARKET.notional(1000, 3))
                 for a in accounts for asset in ("BRS", "WBNB", "ETH")]
        setup += [SetFeePreference("a", True), SetFeePreference("b", True)]
        for command in setup:
            joined.process(command)
            split.process(command)
        issued = 0
        for _ in range(300):
            who = rng.choice(accounts)
            market = rng.choice(markets)
            side = rng.choice((Side.BUY, Side.SELL))
            place = PlaceOrder(who, market.symbol, side, OrderType.LIMIT, qty=rng.randint(1, 12),
                               price=rng.choice((rng.randint(990, 1010), rng.randint(990, 1010), 0)),
                               tif=rng.choice((TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC)),
                               max_platform_fee_rate=rng.choice((0, 10**18)))
            if not issued or rng.random() < 0.3:
                results = joined.process(place), split.process(place)
                assert (results[0].code, results[0].order_id) == (results[1].code, results[1].order_id)
                issued = max(issued, results[0].order_id)
            else:
                order_id = rng.randint(1, issued)
                owner = who if rng.random() < 0.1 else getattr(joined.orders.get(order_id), "account", who)
                symbol = getattr(joined.orders.get(order_id), "symbol", market.symbol)
                cancel = CancelOrder(owner, symbol, order_id=order_id)
                place = PlaceOrder(owner, place.symbol if rng.random() < 0.9 else "NOPE", place.side, place.type,
                                   qty=place.qty, price=place.price, tif=place.tif,
                                   max_platform_fee_rate=place.max_platform_fee_rate)
                result = joined.process(CancelReplace(cancel, place))
                cancelled = split.process(cancel)
                placed = split.process(place) if cancelled.ok else cancelled
                assert (result.code, result.order_id) == (placed.code, placed.order_id)
                issued = max(issued, result.order_id)
            assert _state(joined) == _state(split)


def _state(engine) -> tuple:  # type: ignore[no-untyped-def]
    """Balances, open orders in book order and counters: state_hash but the depth update ids (two commands publish
    depth twice)."""
    books = [(o.order_id, o.side, o.price, o.qty, o.filled, o.locked, o.status) for symbol in sorted(engine.books)
             for o in engine.books[symbol].orders()]
    return engine.free, engine.locked, books, sorted(engine.orders), engine.next_trade_id, engine.last_price


def test_a_cancel_replace_releases_its_funds_before_the_new_order_trades() -> None:
    """The cancelled order's platform tokens are free again when the replacement (in another balance) trades: its
    fee can be paid with them, as after a cancel and then a place."""
    from matcher import Asset, Deposit, Engine, MarketSpec
    from matcher.fees import PRICE_SCALE, FeePolicy
    from matcher.model import SetFeePreference

    from .conftest import WBNB

    eth = MarketSpec("ETHWBNB", Asset("ETH", "0x" + "e1" * 20, 18), WBNB, tick_size=10**14, lot_size=10**16,
                     min_notional=10**14, maker_fee_bps=10, taker_fee_bps=20)
    engine = Engine([MARKET, eth], fee_policy=FeePolicy(platform_asset="BRS", rates={"WBNB": PRICE_SCALE}))
    for command in (Deposit("alice", "BRS", MARKET.base_units(1)), Deposit("alice", "ETH", eth.base_units(5)),
                    Deposit("bob", "WBNB", 10**21), SetFeePreference("alice", True)):
        assert engine.process(command).ok
    parked = engine.process(limit("alice", Side.SELL, 5000, 1)).order_id  # all her BRS, locked
    assert engine.process(PlaceOrder("bob", "ETHWBNB", Side.BUY, OrderType.LIMIT, qty=5, price=1000)).ok
    replaced = engine.process(CancelReplace(CancelOrder("alice", S, order_id=parked), PlaceOrder(
        "alice", "ETHWBNB", Side.SELL, OrderType.LIMIT, qty=5, price=1000, max_platform_fee_rate=PRICE_SCALE)))
    [trade] = trades(replaced)
    assert trade.taker_fee_asset == "BRS" and 0 < trade.taker_fee < MARKET.base_units(1)
    assert engine.balance("alice", "BRS") == (MARKET.base_units(1) - trade.taker_fee, 0)

"""Market stops (STOP_LOSS / TAKE_PROFIT), trailing stops and icebergs through the Binance API with API keys, and
through ccxt: placed, shown, triggered, filtered as Binance does, and settled on chain like any other fill."""

from __future__ import annotations

from typing import Any

import pytest

from matcher.client import ExchangeClient
from bourse.stack import Stack

from .conftest import fund, settled, wait_until
from .test_api_keys import BinanceSigned, ccxt_binance

SYMBOL = "BRSWBNB"


@pytest.fixture(scope="module")
def keys(stack: Stack, clients: dict[str, ExchangeClient]) -> dict[str, Any]:
    fund(clients["alice"], {"BRS": "1000"})
    fund(clients["bob"], {"WBNB": "10"})
    made = {name: clients[name].create_api_key(label=name) for name in ("alice", "bob")}
    signed = {name: BinanceSigned(stack.exchange_url, k["apiKey"], k["secretKey"]) for name, k in made.items()}
    alice, bob = signed["alice"], signed["bob"]
    assert alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="10", price="0.002")[0] == 200
    assert bob.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="10")[1][
        "status"] == "FILLED"  # the last price is 0.002
    return signed | {"made": made}


def order(key: BinanceSigned, **params: Any) -> tuple[int, Any]:
    return key.call("POST", "/api/v3/order", symbol=SYMBOL, **params)


def test_exchange_info_lists_the_order_types_and_their_filters(stack: Stack) -> None:
    info = ExchangeClient(stack.exchange_url).info["symbols"][0]
    assert {"STOP_LOSS", "TAKE_PROFIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"} <= set(info["orderTypes"])
    assert info["icebergAllowed"] and info["allowTrailingStop"]
    filters = {f["filterType"]: f for f in info["filters"]}
    assert filters["ICEBERG_PARTS"]["limit"] == 10
    assert filters["TRAILING_DELTA"] == {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10,
                                         "maxTrailingAboveDelta": 2000, "minTrailingBelowDelta": 10,
                                         "maxTrailingBelowDelta": 2000}


def test_an_iceberg_shows_its_slice_in_the_book_and_obeys_iceberg_parts(stack: Stack,
                                                                        keys: dict[str, Any]) -> None:
    alice = keys["alice"]
    status, placed = order(alice, side="SELL", type="LIMIT", timeInForce="GTC", quantity="30", price="0.0031",
                           icebergQty="10")
    assert status == 200 and placed["icebergQty"] == "10.00000000", placed
    depth = ExchangeClient(stack.exchange_url).depth(SYMBOL)
    assert ["0.00310000", "10.00000000"] in depth["asks"]  # 10 of its 30 are shown
    assert alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"])[1]["origQty"] == \
        "30.00000000"
    status, body = order(alice, side="SELL", type="LIMIT", timeInForce="GTC", quantity="200", price="0.0031",
                         icebergQty="10")
    assert (status, body) == (400, {"code": -1013, "msg": "Filter failure: ICEBERG_PARTS"})
    assert order(alice, side="SELL", type="LIMIT", timeInForce="IOC", quantity="30", price="0.0031",
                 icebergQty="10")[1]["code"] == -1013  # an iceberg must be GTC
    assert order(alice, side="SELL", type="MARKET", quantity="30", icebergQty="10")[0] == 400
    assert alice.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"])[1]["status"] == \
        "CANCELED"


def test_a_stop_loss_becomes_a_market_order_when_triggered_and_settles(stack: Stack,
                                                                       clients: dict[str, ExchangeClient],
                                                                       keys: dict[str, Any]) -> None:
    alice, bob = keys["alice"], keys["bob"]
    refused = order(alice, side="SELL", type="STOP_LOSS", quantity="5", stopPrice="0.0021")[1]
    assert refused["code"] == -2010 and refused["msg"].startswith("Order would trigger immediately.")  # at 0.002
    assert order(alice, side="SELL", type="STOP_LOSS", quantity="5", stopPrice="0.0019",
                 price="0.0018")[1]["code"] == -1106  # a market stop takes no price
    status, ack = order(alice, side="SELL", type="STOP_LOSS", quantity="5", stopPrice="0.0019")
    assert status == 200 and "status" not in ack, ack  # stop orders answer ACK unless asked, as on Binance
    alice.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=ack["orderId"])
    status, stop = order(alice, side="SELL", type="STOP_LOSS", quantity="5", stopPrice="0.0019",
                         newOrderRespType="RESULT")
    assert status == 200 and stop["status"] == "NEW" and stop["type"] == "STOP_LOSS", stop
    assert order(bob, side="BUY", type="LIMIT", timeInForce="GTC", quantity="20", price="0.0018")[0] == 200
    assert order(bob, side="BUY", type="LIMIT", timeInForce="GTC", quantity="1", price="0.0019")[0] == 200
    order(alice, side="SELL", type="LIMIT", timeInForce="GTC", quantity="1", price="0.0019")  # trades at 0.0019
    fired = alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=stop["orderId"])[1]
    assert (fired["status"], fired["type"], fired["executedQty"]) == ("FILLED", "STOP_LOSS", "5.00000000"), fired
    trades = [t for t in alice.call("GET", "/api/v3/myTrades", symbol=SYMBOL)[1] if t["orderId"] == stop["orderId"]]
    assert [(t["price"], t["qty"]) for t in trades] == [("0.00180000", "5.00000000")]
    wait_until(lambda: settled(clients["alice"], SYMBOL), what="settlement of the stop's fill")
    assert {t["settlement"] for t in alice.call("GET", "/api/v3/myTrades", symbol=SYMBOL)[1]} == {"CONFIRMED"}


def test_a_market_stop_buy_locks_its_protection_and_trailing_stops_follow_the_filter(
        keys: dict[str, Any]) -> None:
    bob = keys["bob"]

    def locked_wbnb() -> str:
        balances = {b["asset"]: b for b in bob.call("GET", "/api/v3/account")[1]["balances"]}
        return balances["WBNB"]["locked"]

    before = locked_wbnb()
    status, stop = order(bob, side="BUY", type="TAKE_PROFIT", quantity="5", stopPrice="0.0017",
                         newOrderRespType="RESULT")
    assert status == 200 and stop["stopPrice"] == "0.00170000", stop
    # protected at the stop price x PERCENT_PRICE_BY_SIDE's bidMultiplierUp (5): 5 x 0.0085 is locked
    assert float(locked_wbnb()) - float(before) == pytest.approx(5 * 0.0085)
    assert bob.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=stop["orderId"])[1]["status"] == "CANCELED"
    assert locked_wbnb() == before
    assert order(bob, side="BUY", type="STOP_LOSS_LIMIT", timeInForce="GTC", quantity="5", price="0.003",
                 trailingDelta="5")[1] == {"code": -1013, "msg": "Filter failure: TRAILING_DELTA"}
    status, trailing = order(bob, side="BUY", type="STOP_LOSS_LIMIT", timeInForce="GTC", quantity="5",
                             price="0.003", trailingDelta="250", newOrderRespType="RESULT")
    assert status == 200 and trailing["trailingDelta"] == 250 and trailing["status"] == "NEW", trailing
    assert order(bob, side="BUY", type="LIMIT", timeInForce="GTC", quantity="5", price="0.001",
                 trailingDelta="250")[0] == 400  # trailingDelta is for stop orders only
    assert bob.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=trailing["orderId"])[0] == 200


def test_ccxt_places_market_stop_and_iceberg_orders(stack: Stack, keys: dict[str, Any]) -> None:
    seller = ccxt_binance(stack, keys["made"]["alice"])
    stop = seller.create_order("BRS/WBNB", "STOP_LOSS", "sell", 3, None, {"stopPrice": 0.0012})
    assert stop["status"] == "open" and stop["info"]["type"] == "STOP_LOSS"
    assert seller.fetch_order(stop["id"], "BRS/WBNB")["triggerPrice"] == 0.0012
    assert seller.cancel_order(stop["id"], "BRS/WBNB")["status"] == "canceled"
    iceberg = seller.create_order("BRS/WBNB", "limit", "sell", 20, 0.004, {"icebergQty": 5})
    assert iceberg["info"]["icebergQty"] == "5.00000000"
    assert seller.cancel_order(iceberg["id"], "BRS/WBNB")["status"] == "canceled"


def test_an_oco_whose_stop_leg_triggers_cancels_its_limit_leg(keys: dict[str, Any]) -> None:
    alice, bob = keys["alice"], keys["bob"]
    for who in (alice, bob):
        who.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)  # an empty book around the stop
    status, oco = alice.call("POST", "/api/v3/orderList/oco", symbol=SYMBOL, side="SELL", quantity="4",
                             aboveType="LIMIT_MAKER", abovePrice="0.009", belowType="STOP_LOSS_LIMIT",
                             belowPrice="0.0010", belowStopPrice="0.0016", belowTimeInForce="GTC")
    assert status == 200, oco
    above, below = (r["orderId"] for r in oco["orderReports"])
    # a trade at 0.0016 triggers the stop leg; its limit 0.0010 finds no bid at or above it, so it rests unfilled
    for who, side in ((bob, "BUY"), (alice, "SELL")):
        assert order(who, side=side, type="LIMIT", timeInForce="GTC", quantity="1", price="0.0016")[0] == 200
    assert alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=below)[1]["executedQty"] == "0.00000000"
    wait_until(lambda: alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=above)[1]["status"] == "CANCELED",
               what="the limit leg to be cancelled when the stop leg triggered")
    assert alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=below)[1]["status"] in ("NEW", "FILLED",
                                                                                             "PARTIALLY_FILLED")
    alice.call("DELETE", "/api/v3/orderList", symbol=SYMBOL, orderListId=oco["orderListId"])


def test_the_answer_to_each_kind_of_order_is_what_the_exchange_then_shows_for_it(keys: dict[str, Any]) -> None:
    """POST /api/v3/order answers from the order's row as the command left it (the row it inserted when the order
    only rests or waits, read back when it traded or expired): field for field what GET /api/v3/order shows next."""
    alice, bob = keys["alice"], keys["bob"]
    cases = [
        (alice, {"side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "2", "price": "0.0045",
                 "newClientOrderId": "answer-1"}),
        (alice, {"side": "SELL", "type": "LIMIT_MAKER", "quantity": "1", "price": "0.0046"}),
        (alice, {"side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "quantity": "30", "price": "0.0047",
                 "icebergQty": "10"}),
        (alice, {"side": "SELL", "type": "STOP_LOSS_LIMIT", "timeInForce": "GTC", "quantity": "1",
                 "price": "0.0011", "stopPrice": "0.0012"}),
        (alice, {"side": "SELL", "type": "STOP_LOSS", "quantity": "1", "trailingDelta": "150"}),
        (bob, {"side": "BUY", "type": "LIMIT", "timeInForce": "IOC", "quantity": "500", "price": "0.0045"}),
        (bob, {"side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1", "price": "0.0046"}),
    ]
    for key, params in cases:
        status, placed = order(key, newOrderRespType="RESULT", **params)
        assert status == 200, (params, placed)
        status, shown = key.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"])
        assert status == 200
        common = set(placed) & set(shown)
        assert len(common) >= 20, common
        assert {k: placed[k] for k in common} == {k: shown[k] for k in common}, params
    assert placed["status"] == "FILLED"  # the last one traded: its answer was read back

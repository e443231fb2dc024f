"""Backpressure: past `max_unsettled_fills` fills waiting for the chain, new orders are refused with Binance's -1008
(HTTP 503) - never an unbounded queue - while cancels still pass; the backlog and its bound are in an endpoint and
the banner; orders are taken again once settlement catches up. ccxt sees the refusal as Binance's."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.client import ExchangeApiError, ExchangeClient
from bourse.stack import Stack

from .conftest import KEYS, fund, settled, wait_until
from .test_api_keys import ccxt_binance

SYMBOL = "BRSWBNB"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # a batch waits for 100 fills or an hour: the fills this test makes stay unsettled until it lets them go
    running = Stack(Path(tmp_path_factory.mktemp("busy")), batch_interval=3600, max_unsettled_fills=2).start()
    yield running
    running.stop()


def status(stack: Stack) -> dict[str, object]:
    with urllib.request.urlopen(stack.exchange_url + "/bourse/v1/settlement", timeout=10) as response:
        return json.loads(response.read())


def test_new_orders_wait_while_the_settlement_backlog_is_full(stack: Stack) -> None:
    alice, bob = (ExchangeClient(stack.exchange_url, KEYS[n], stack.rpc_url) for n in ("alice", "bob"))
    fund(alice, {"BRS": "100"})
    fund(bob, {"WBNB": "1"})
    assert "0 unsettled fills; new orders refused (-1008) at 2" in stack.banner()
    resting = alice.order(SYMBOL, "SELL", price="0.002", quantity="30", time_in_force="GTC")
    for _ in range(2):
        bob.order(SYMBOL, "BUY", price="0.002", quantity="10", time_in_force="IOC")
    assert status(stack) == {"unsettledFills": 2, "pendingFills": 2, "submittedFills": 0, "maxUnsettledFills": 2,
                             "acceptingOrders": False, "batchSize": 100, "batchInterval": 3600}
    balances = bob.balances()
    with pytest.raises(ExchangeApiError) as refused:
        bob.order(SYMBOL, "BUY", price="0.002", quantity="10", time_in_force="IOC")
    assert (refused.value.code, refused.value.status) == (-1008, 503)
    assert "overloaded" in str(refused.value)
    assert bob.balances() == balances and len(bob.my_trades(SYMBOL)) == 2  # nothing changed
    assert alice.cancel(SYMBOL, order_id=resting["orderId"])["status"] == "CANCELED"  # cancels still pass

    stack.exchange.service.settler.batch_interval = 0  # settlement catches up
    wait_until(lambda: settled(bob, SYMBOL), what="the backlog settled")
    assert status(stack)["unsettledFills"] == 0 and status(stack)["acceptingOrders"] is True
    assert alice.order(SYMBOL, "SELL", price="0.002", quantity="10", time_in_force="GTC")["status"] == "NEW"


def test_ccxt_sees_binance_s_refusal_and_places_again_after(stack: Stack) -> None:
    ccxt = pytest.importorskip("ccxt")
    alice, bob = (ExchangeClient(stack.exchange_url, KEYS[n], stack.rpc_url) for n in ("alice", "bob"))
    trader = ccxt_binance(stack, alice.create_api_key(label="ccxt under backpressure"))
    stack.exchange.service.settler.batch_interval = 3600
    for _ in range(2):
        alice.order(SYMBOL, "SELL", price="0.002", quantity="10", time_in_force="GTC")
        bob.order(SYMBOL, "BUY", price="0.002", quantity="10", time_in_force="IOC")
    assert status(stack)["acceptingOrders"] is False
    with pytest.raises(ccxt.BaseError) as refused:  # ccxt maps Binance's -1008 to its own exception class
        trader.create_order("BRS/WBNB", "limit", "sell", 10, 0.003)
    assert "-1008" in str(refused.value)
    stack.exchange.service.settler.batch_interval = 0
    wait_until(lambda: status(stack)["unsettledFills"] == 0, what="the backlog settled")
    assert trader.create_order("BRS/WBNB", "limit", "sell", 10, 0.003)["status"] == "open"

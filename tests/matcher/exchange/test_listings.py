"""Listing votes that list markets: a round on the listing-vote contract closes, its Listed event opens a TOKEN/BRS
market with filters from the token's decimals - in exchangeInfo and its streams before the next block - which two
users trade and settle at once; a deposit made before the listing is credited; the market survives a restart."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest
from web3 import Web3

from contracts.deploy import at
from contracts.predeploy import address_of
from matcher.client import ExchangeClient
from matcher.errors import BadMarketSpec
from matcher.exchange.listings import ListingPolicy, listed_spec
from matcher.exchange.markets import Market
from matcher.market import Asset
from bourse.stack import Stack
from tests.platform import deploy_token, run_round, send

from .conftest import KEYS, fund, settled, wait_until

E18 = 10**18
BRS = Asset("BRS", address_of("PlatformToken"), 18)


def test_a_listed_market_takes_its_numbers_from_the_token_decimals() -> None:
    policy = ListingPolicy(BRS)
    for decimals, lot in ((18, "0.01000000"), (6, "0.01000000"), (0, "1.00000000")):
        market = Market(listed_spec("NEW", "0x" + "c3" * 20, decimals, policy))
        assert market.symbol == "NEWBRS" and market.spec.base.decimals == decimals
        assert market.qty_text(1) == lot and market.price_text(1) == "0.00000001"
        assert market.quote_text(market.spec.min_notional) == "0.01000000"
    six = Asset("USD6", "0x" + "c4" * 20, 6)  # a 6-decimal quote: ticks as fine as its decimals allow
    spec = listed_spec("NEW", "0x" + "c3" * 20, 18, ListingPolicy(six))
    assert spec.tick_size == 10**2 and spec.quote_per_lot_tick == 1
    for symbol in ("", "new token", "WAYTOOLONGSYMBOL", "NEW/BRS"):
        with pytest.raises(BadMarketSpec):
            listed_spec(symbol, "0x" + "c3" * 20, 18, policy)
    with pytest.raises(BadMarketSpec):
        listed_spec("NEW", "0x" + "c3" * 20, 77, policy)


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_a_voted_in_token_is_listed_traded_and_settled(stack: Stack) -> None:
    w3 = Web3(Web3.HTTPProvider(stack.rpc_url))
    owner, alice, bob = w3.eth.accounts[0], w3.eth.accounts[1], w3.eth.accounts[2]
    new = deploy_token(w3, "New", 6, 10**6 * 10**6)  # lower-case symbol: the market is NEWBRS
    other = deploy_token(w3, "OTHER", 18, 10**24)
    send(w3, new.functions.transfer(alice, 1_000 * 10**6), owner)
    vault = address_of("SettlementVault")
    send(w3, new.functions.approve(vault, 400 * 10**6), alice)  # deposited before the listing: held, then credited
    send(w3, at(w3, "SettlementVault", vault).functions.deposit(new.address, 400 * 10**6), alice)

    receipt = run_round(w3, [new.address, other.address], {alice: (new.address, 30 * E18),
                                                           bob: (other.address, 20 * E18)})
    wait_until(lambda: "NEWBRS" in stack.exchange.service.markets.by_symbol, what="the listed market")
    assert w3.eth.block_number == receipt["blockNumber"]  # listed before any later block
    info = next(s for s in get(stack.exchange_url + "/api/v3/exchangeInfo")["symbols"] if s["symbol"] == "NEWBRS")
    assert (info["baseAsset"], info["quoteAsset"], info["baseAssetPrecision"]) == ("NEW", "BRS", 6)
    filters = {f["filterType"]: f for f in info["filters"]}
    assert filters["LOT_SIZE"]["stepSize"] == "0.01000000" and filters["PRICE_FILTER"]["tickSize"] == "0.00000001"
    assert not any(s["symbol"].startswith("OTHER") for s in get(stack.exchange_url + "/api/v3/exchangeInfo")["symbols"])
    [listing] = get(stack.exchange_url + "/bourse/v1/listings")
    assert (listing["symbol"], listing["status"], listing["token"], listing["block"]) == \
        ("NEWBRS", "LISTED", new.address, receipt["blockNumber"])

    maker, taker = (ExchangeClient(stack.exchange_url, KEYS[n], stack.rpc_url) for n in ("alice", "bob"))
    wait_until(lambda: maker.balances().get("NEW", (0, 0))[0] == 400 * 10**6, what="the early deposit credited")
    fund(taker, {"BRS": "100"})

    async def watch() -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        async def read() -> None:
            async for message in maker.stream("newbrs@trade", "newbrs@depth", "!miniTicker@arr"):
                seen.append(message)
                if any(m["stream"] == "newbrs@trade" for m in seen) and any(
                        m["stream"] == "!miniTicker@arr" and any(t["s"] == "NEWBRS" for t in m["data"]) for m in seen):
                    return
        task = asyncio.create_task(read())
        await asyncio.sleep(0.5)
        await asyncio.to_thread(maker.order, "NEWBRS", "SELL", price="0.5", quantity="100", time_in_force="GTC")
        await asyncio.to_thread(taker.order, "NEWBRS", "BUY", price="0.5", quantity="40", time_in_force="GTC")
        await asyncio.wait_for(task, 30)
        return seen

    seen = asyncio.run(watch())
    trade = next(m["data"] for m in seen if m["stream"] == "newbrs@trade")
    assert (trade["s"], trade["p"], trade["q"]) == ("NEWBRS", "0.50000000", "40.00000000")
    assert any(m["stream"] == "newbrs@depth" for m in seen)
    wait_until(lambda: settled(taker, "NEWBRS") and settled(maker, "NEWBRS"), what="settlement")
    assert [t["settlement"] for t in taker.my_trades("NEWBRS")] == ["CONFIRMED"]
    vault_c = at(w3, "SettlementVault", vault)
    assert vault_c.functions.balanceOf(bob, new.address).call() == 40 * 10**6 - 40 * 10**6 * 20 // 10_000
    assert taker.balances()["NEW"][0] == vault_c.functions.balanceOf(bob, new.address).call()


def test_the_listing_survives_a_restart_and_a_second_listing_of_the_token_is_refused(stack: Stack) -> None:
    from matcher.demo import demo_markets
    from matcher.exchange.service import ExchangeServer
    w3 = Web3(Web3.HTTPProvider(stack.rpc_url))
    server = stack.exchange
    new = server.service.markets.by_token[next(s["token"] for s in get(stack.exchange_url + "/bourse/v1/listings"))]
    book = server.service.core.engine.depth("NEWBRS")
    server.stop()
    config = server.config
    config.markets = demo_markets(stack.demo["USDT"], extra_tokens=stack.demo["tokens"])  # as configured: no NEWBRS
    stack.exchange = ExchangeServer(config).start()
    assert "NEWBRS" in config.markets.by_symbol and stack.exchange.service.core.engine.depth("NEWBRS") == book
    assert any(s["symbol"] == "NEWBRS" for s in get(stack.exchange_url + "/api/v3/exchangeInfo")["symbols"])

    run_round(w3, [new.token], {w3.eth.accounts[3]: (new.token, E18)})
    wait_until(lambda: len(get(stack.exchange_url + "/bourse/v1/listings")) == 2, what="the second listing")
    second = get(stack.exchange_url + "/bourse/v1/listings")[1]
    assert second["status"] == "REFUSED" and "listed already" in second["reason"]
    names = [s["symbol"] for s in get(stack.exchange_url + "/api/v3/exchangeInfo")["symbols"]]
    assert names.count("NEWBRS") == 1

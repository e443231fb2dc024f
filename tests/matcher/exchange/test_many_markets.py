"""`bourse up --markets N`: N demo tokens, a D<i>/BRS market for each with a demo maker's bid and ask, all in
exchangeInfo and the all-market streams, tradable and settled like the standard markets. CI runs 12 markets; the
500-market figures come from bench/matcher_bench.py --markets 500."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from matcher.client import ExchangeClient
from bourse.stack import Stack

from .conftest import KEYS, fund, settled, wait_until

EXTRA = 12


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(Path(tmp_path_factory.mktemp("many")), batch_interval=0.2, extra_markets=EXTRA).start()
    yield running
    running.stop()


def get(stack: Stack, path: str) -> Any:
    with urllib.request.urlopen(stack.exchange_url + path) as response:
        return json.loads(response.read())


def test_every_demo_market_is_listed_quoted_and_streamed(many: Stack) -> None:
    symbols = [s["symbol"] for s in get(many, "/api/v3/exchangeInfo")["symbols"]]
    assert symbols == ["BRSWBNB", "WBNBUSDT", *[f"D{i}BRS" for i in range(1, EXTRA + 1)]]
    for i in (1, EXTRA):
        ticker = get(many, f"/api/v3/ticker/bookTicker?symbol=D{i}BRS")
        assert (ticker["bidPrice"], ticker["askPrice"]) == ("0.99000000", "1.01000000")
    assert "and 6 more demo markets" in many.banner()

    async def first_array() -> list[Any]:
        import websockets
        async with websockets.connect(many.exchange_url.replace("http", "ws") + "/ws") as ws:
            await ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["!miniTicker@arr"], "id": 1}))
            await ws.recv()  # the reply
            buyer = ExchangeClient(many.exchange_url, KEYS["bob"], many.rpc_url)
            await asyncio.to_thread(fund, buyer, {"BRS": "50"})
            await asyncio.to_thread(buyer.order, f"D{EXTRA}BRS", "BUY", price="1.01", quantity="3",
                                    time_in_force="IOC")
            return json.loads(await asyncio.wait_for(ws.recv(), 10))  # type: ignore[no-any-return]

    tickers = asyncio.run(first_array())
    assert f"D{EXTRA}BRS" in {t["s"] for t in tickers}


def test_a_demo_market_trades_and_settles(many: Stack) -> None:
    buyer = ExchangeClient(many.exchange_url, KEYS["carol"], many.rpc_url)
    fund(buyer, {"BRS": "20"})
    placed = buyer.order("D3BRS", "BUY", price="1.01", quantity="5", time_in_force="IOC")
    assert placed["status"] == "FILLED"
    wait_until(lambda: settled(buyer, "D3BRS"), what="settlement on a demo market")
    assert {t["settlement"] for t in buyer.my_trades("D3BRS")} == {"CONFIRMED"}
    assert buyer.balances()["D3"][0] > 0

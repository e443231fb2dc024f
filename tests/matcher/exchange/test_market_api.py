"""Market data over HTTP and WebSocket as Binance serves it, checked with our own reads and with ccxt's binance
class pointed at the exchange: random trading, then every view of it agrees."""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from matcher.client import ExchangeClient
from bourse.stack import Stack

from .conftest import fund, wait_until
from .test_end_to_end import StreamRecorder

SYMBOL = "BRSWBNB"
STREAMS = ("brswbnb@depth@100ms", "brswbnb@depth@1000ms", "brswbnb@aggTrade", "brswbnb@kline_1m",
           "brswbnb@depth5@100ms", "brswbnb@miniTicker", "!ticker@arr", "brswbnb@avgPrice", "brswbnb@ticker_1h")


def http(url: str, method: str = "GET", body: bytes | None = None,
         content_type: str = "application/x-www-form-urlencoded") -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(url, body, {"Content-Type": content_type}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


@pytest.fixture(scope="module")
def traded(stack: Stack, clients: dict[str, ExchangeClient]) -> dict[str, Any]:
    """Random limit orders from two users (many cross); the streams recorded from before the first."""
    alice, bob = clients["alice"], clients["bob"]
    fund(alice, {"BRS": "2000"})
    fund(bob, {"WBNB": "20"})
    recorder = StreamRecorder(alice, *STREAMS)
    snapshot = alice.depth(SYMBOL, 1000)  # taken after subscribing, as Binance's depth-cache recipe says
    rng = random.Random(5)
    for i in range(80):
        who, side = (alice, "SELL") if rng.random() < 0.5 else (bob, "BUY")
        price = f"0.00{rng.randint(190, 210)}"
        who.order(SYMBOL, side, "LIMIT", quantity=str(rng.randint(1, 20)), price=price, time_in_force="GTC")
        if i % 10 == 9:  # eight bursts, each in a 100 ms push of its own however fast the orders go in
            time.sleep(0.25)
    final_depth = alice.depth(SYMBOL, 1000)
    aggs = alice.request("GET", "/api/v3/aggTrades", {"symbol": SYMBOL, "limit": 1000})
    assert len(aggs) > 10
    wait_until(lambda: any(m["stream"] == "!ticker@arr" for m in recorder.messages) and
               recorder.of("brswbnb@depth@1000ms") and recorder.of("brswbnb@depth@1000ms")[-1]["u"] ==
               final_depth["lastUpdateId"] and len(recorder.of("brswbnb@aggTrade")) >= len(aggs),
               what="the streams to catch up")
    time.sleep(1.2)  # one more one-second push
    recorder.stop()
    return {"snapshot": snapshot, "depth": final_depth, "aggs": aggs, "recorder": recorder}


def rebuild(snapshot: dict[str, Any], diffs: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Binance's depth-cache recipe: drop diffs the snapshot has, check continuity, apply the rest."""
    book = {"b": {p: q for p, q in snapshot["bids"]}, "a": {p: q for p, q in snapshot["asks"]}}
    last = snapshot["lastUpdateId"]
    for diff in diffs:
        if diff["u"] <= last:
            continue
        assert diff["U"] <= last + 1 <= diff["u"], "a gap in the diff stream"
        for side in ("b", "a"):
            for price, qty in diff[side]:
                if qty == "0.00000000":
                    book[side].pop(price, None)
                else:
                    book[side][price] = qty
        last = diff["u"]
    return book


def test_coalesced_depth_streams_rebuild_the_rest_book(traded: dict[str, Any]) -> None:
    recorder, final = traded["recorder"], traded["depth"]
    expected = {"b": dict(final["bids"]), "a": dict(final["asks"])}
    for stream in ("brswbnb@depth@100ms", "brswbnb@depth@1000ms"):
        diffs = recorder.of(stream)
        assert diffs and all(d["e"] == "depthUpdate" and d["s"] == SYMBOL for d in diffs)
        for earlier, later in zip(diffs, diffs[1:]):
            assert later["U"] == earlier["u"] + 1  # continuous
        assert rebuild(traded["snapshot"], diffs) == expected, stream
    assert len(recorder.of("brswbnb@depth@1000ms")) < len(recorder.of("brswbnb@depth@100ms"))
    top = recorder.of("brswbnb@depth5@100ms")[-1]
    assert top == {"lastUpdateId": final["lastUpdateId"], "bids": final["bids"][:5], "asks": final["asks"][:5]}


def test_aggregate_trades_stream_as_rest_lists_them(traded: dict[str, Any]) -> None:
    streamed = traded["recorder"].of("brswbnb@aggTrade")
    assert [{k: v for k, v in s.items() if k not in ("e", "E", "s")} for s in streamed] == traded["aggs"]
    ids = [a["a"] for a in traded["aggs"]]
    assert ids == sorted(ids) and all(a["l"] >= a["f"] for a in traded["aggs"])


def test_klines_tickers_and_average_price_agree_with_the_trades(clients: dict[str, ExchangeClient],
                                                                traded: dict[str, Any]) -> None:
    client = clients["alice"]
    trades = client.request("GET", "/api/v3/historicalTrades", {"symbol": SYMBOL, "fromId": 0, "limit": 1000})
    assert len(trades) == sum(a["l"] - a["f"] + 1 for a in traded["aggs"])
    candles = client.request("GET", "/api/v3/klines", {"symbol": SYMBOL, "interval": "1M"})
    assert len(candles) == 1 and candles[0][8] == len(trades)
    assert candles[0][1] == trades[0]["price"] and candles[0][4] == trades[-1]["price"]
    assert candles[0][2] == max((t["price"] for t in trades), key=lambda p: float(p))
    assert client.request("GET", "/api/v3/uiKlines", {"symbol": SYMBOL, "interval": "1M"}) == candles
    minute = client.request("GET", "/api/v3/klines", {"symbol": SYMBOL, "interval": "1m", "limit": 1})[0]
    streamed = traded["recorder"].of("brswbnb@kline_1m")[-1]["k"]
    assert (streamed["t"], streamed["o"], streamed["c"], streamed["n"]) == (minute[0], minute[1], minute[4],
                                                                            minute[8])
    price = client.request("GET", "/api/v3/ticker/price", {"symbol": SYMBOL})
    assert price == {"symbol": SYMBOL, "price": trades[-1]["price"]}
    both = client.request("GET", "/api/v3/ticker/price", {"symbols": '["BRSWBNB","WBNBUSDT"]'})
    assert [p["symbol"] for p in both] == ["BRSWBNB", "WBNBUSDT"]
    day = client.request("GET", "/api/v3/ticker/24hr", {"symbol": SYMBOL})
    assert day["count"] == len(trades) and day["lastPrice"] == trades[-1]["price"]
    assert day["firstId"] == trades[0]["id"] and day["lastId"] == trades[-1]["id"]
    rolling = client.request("GET", "/api/v3/ticker", {"symbol": SYMBOL, "windowSize": "1h"})
    trading_day = client.request("GET", "/api/v3/ticker/tradingDay", {"symbol": SYMBOL, "type": "MINI"})
    assert rolling["count"] == trading_day["count"] == len(trades) or time.gmtime().tm_hour == 0
    assert "priceChange" not in trading_day
    average = client.request("GET", "/api/v3/avgPrice", {"symbol": SYMBOL})
    quote = sum(int(t["quoteQty"].replace(".", "")) for t in trades)
    qty = sum(int(t["qty"].replace(".", "")) for t in trades)
    weighted = quote * 10**8 // qty  # 8 decimals, truncated as Binance writes a derived price
    assert average["mins"] == 5 and average["price"] == f"{weighted // 10**8}.{weighted % 10**8:08d}"
    streamed_avg = traded["recorder"].of("brswbnb@avgPrice")[-1]
    assert streamed_avg["w"] == average["price"] and streamed_avg["i"] == "5m"
    mini = traded["recorder"].of("brswbnb@miniTicker")[-1]
    assert mini["c"] == trades[-1]["price"] and mini["e"] == "24hrMiniTicker"
    arrays = [m["data"] for m in traded["recorder"].messages if m["stream"] == "!ticker@arr"]
    assert arrays and all(t["s"] == SYMBOL for batch in arrays for t in batch)  # only what traded
    assert traded["recorder"].of("brswbnb@ticker_1h")[-1]["e"] == "1hTicker"


def test_a_kline_subscriber_joining_between_trades_hears_the_open_candle(stack: Stack, clients: dict[str, ExchangeClient],
                                                                         traded: dict[str, Any]) -> None:
    """As Binance's kline streams update every 2 s: no trade needs to come after the subscription."""
    import asyncio
    import json as json_module

    import websockets

    async def first() -> dict[str, Any]:
        url = stack.exchange_url.replace("http", "ws") + "/ws/brswbnb@kline_1M"  # the month's candle: open now
        async with websockets.connect(url) as connection:
            return json_module.loads(await asyncio.wait_for(connection.recv(), 30))

    asyncio.run(first())  # an earlier subscriber heard the candle already ...
    event = asyncio.run(first())  # ... and the next one hears it too, with no trade in between
    month = clients["alice"].request("GET", "/api/v3/klines", {"symbol": SYMBOL, "interval": "1M"})[-1]
    assert event["e"] == "kline" and event["k"]["i"] == "1M" and event["k"]["x"] is False
    assert (event["k"]["t"], event["k"]["o"], event["k"]["n"]) == (month[0], month[1], month[8])


def test_binance_parameters_errors_and_headers(stack: Stack) -> None:
    base = stack.exchange_url
    status, headers, body = http(f"{base}/api/v3/klines?symbol={SYMBOL}&interval=2m")
    assert (status, body["code"]) == (400, -1120)
    status, headers, body = http(f"{base}/api/v3/klines?symbol={SYMBOL}&interval=1h&timeZone=+15:00")
    assert (status, body["code"]) == (400, -1100)
    status, headers, body = http(f"{base}/api/v3/ticker/price?symbol={SYMBOL}&symbols=[\"{SYMBOL}\"]")
    assert body["code"] == -1128
    status, headers, body = http(f"{base}/api/v3/exchangeInfo?symbol={SYMBOL}")
    assert [s["symbol"] for s in body["symbols"]] == [SYMBOL] and int(headers["X-MBX-USED-WEIGHT-1M"]) >= 20
    assert {r["rateLimitType"] for r in body["rateLimits"]} == {"REQUEST_WEIGHT", "ORDERS", "RAW_REQUESTS"}
    assert body["exchangeFilters"] == [{"filterType": "EXCHANGE_MAX_NUM_ORDERS", "maxNumOrders": 1000}]
    status, headers, body = http(f"{base}/api/v3/exchangeInfo?permissions=MARGIN")
    assert body["symbols"] == []
    status, headers, body = http(f"{base}/api/v3/ticker/price", method="PUT")
    assert status == 405 and headers["Allow"] == "GET,HEAD"
    status, headers, body = http(f"{base}/sapi/v1/system/status")
    assert body == {"status": 0, "msg": "normal"}
    status, headers, body = http(f"{base}/api/v3/order", "POST", b"symbol=BRSWBNB&side=BUY&type=LIMIT")
    assert status == 400 and body["code"] == -1102 and "X-MBX-USED-WEIGHT-1M" in headers  # the form was read


def test_ccxt_reads_the_market_through_its_binance_class(stack: Stack, traded: dict[str, Any]) -> None:
    ccxt = pytest.importorskip("ccxt")
    exchange = ccxt.binance({"options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False}})
    exchange.urls["api"] = {kind: stack.exchange_url + ("/sapi/v1" if kind.startswith("sapi") else "/api/v3")
                            for kind in exchange.urls["api"]}
    markets = exchange.load_markets()
    assert {"BRS/WBNB", "WBNB/USDT"} <= set(markets)
    assert markets["BRS/WBNB"]["limits"]["amount"]["max"] == 9_000_000_000
    book = exchange.fetch_order_book("BRS/WBNB")
    assert book["nonce"] == traded["depth"]["lastUpdateId"] and len(book["bids"]) == len(traded["depth"]["bids"])
    trades = exchange.fetch_trades("BRS/WBNB", limit=1000)
    assert sorted(int(t["id"]) for t in trades) == [a["a"] for a in traded["aggs"]]
    candles = exchange.fetch_ohlcv("BRS/WBNB", "1m")
    assert candles and sum(c[5] for c in candles) == pytest.approx(sum(t["amount"] for t in trades))
    ticker = exchange.fetch_ticker("BRS/WBNB")
    assert ticker["last"] == trades[-1]["price"]
    assert set(exchange.fetch_tickers()) == {"BRS/WBNB", "WBNB/USDT"}
    assert exchange.fetch_last_prices()["BRS/WBNB"]["price"] == trades[-1]["price"]


def test_openapi_lists_every_route_the_exchange_serves(stack: Stack) -> None:
    _, _, spec = http(f"{stack.exchange_url}/openapi.json")
    served = {(r.method.lower(), r.resource.canonical) for r in stack.exchange.service.app.router.routes()
              if r.resource is not None and r.resource.canonical.startswith(("/api/", "/sapi/", "/admin/", "/bourse/"))
              and r.method != "HEAD"}
    listed = {(method, path) for path, operations in spec["paths"].items() for method in operations}
    assert served == listed
    symbol = next(p for p in spec["paths"]["/api/v3/klines"]["get"]["parameters"] if p["name"] == "symbol")
    assert symbol["schema"]["enum"] == ["BRSWBNB", "WBNBUSDT"]

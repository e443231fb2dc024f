"""Two users on `bourse node` over real HTTP and WebSocket: deposit, trade several order types, batches settle,
the vault's balances equal the ledger, users withdraw."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from click.testing import CliRunner

from bourse.cli import main
from matcher.client import ExchangeApiError, ExchangeClient
from matcher.exchange.reconcile import fetch_ledger, reconcile
from bourse.stack import Stack
from wallet.rpc import Rpc
from wallet.treasury import balance_of

from .conftest import fund, settled, wait_until

E18 = 10**18


class StreamRecorder:
    """Collects combined-stream messages on a background thread."""

    def __init__(self, client: ExchangeClient, *streams: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run(client, streams)), daemon=True)
        self._thread.start()
        assert self.ready.wait(10)

    async def _run(self, client: ExchangeClient, streams: tuple[str, ...]) -> None:
        import websockets
        url = client.url.replace("http://", "ws://") + "/stream?streams=" + "/".join(streams)
        async with websockets.connect(url) as connection:
            self.ready.set()
            while not self._stop.is_set():
                try:
                    self.messages.append(json.loads(await asyncio.wait_for(connection.recv(), 0.2)))
                except asyncio.TimeoutError:
                    continue

    def of(self, stream: str) -> list[dict[str, Any]]:
        return [m["data"] for m in self.messages if m["stream"] == stream]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


def test_two_users_trade_every_order_type_and_the_chain_agrees(stack: Stack, clients: dict[str, ExchangeClient],
                                                              tmp_path: Any) -> None:
    alice, bob = clients["alice"], clients["bob"]
    bob_stream = bob.listen_key()  # a user stream only through its listenKey
    streams = StreamRecorder(alice, "brswbnb@depth", "brswbnb@trade", "brswbnb@bookTicker", bob_stream)
    fund(alice, {"BRS": "1000", "WBNB": "1"})
    fund(bob, {"WBNB": "10", "BRS": "100"})
    symbol = "BRSWBNB"

    rest = alice.order(symbol, "SELL", "LIMIT", quantity="100", price="0.002", time_in_force="GTC")
    assert rest["status"] == "NEW" and rest["orderHash"].startswith("0x")
    ioc = bob.order(symbol, "BUY", "LIMIT", quantity="10", price="0.002", time_in_force="IOC")
    assert ioc["status"] == "FILLED" and ioc["fills"][0]["price"] == "0.00200000"
    fok = bob.order(symbol, "BUY", "LIMIT", quantity="500", price="0.002", time_in_force="FOK")
    assert fok["status"] == "EXPIRED" and not fok["fills"]
    market = bob.order(symbol, "BUY", "MARKET", quantity="20")
    assert market["status"] == "FILLED" and market["executedQty"] == "20.00000000"
    by_quote = bob.order(symbol, "BUY", "MARKET", quantity="50", quote_order_qty="0.02")
    assert by_quote["status"] == "FILLED" and by_quote["executedQty"] == "10.00000000"
    maker = bob.order(symbol, "BUY", "LIMIT_MAKER", quantity="10", price="0.0019")
    assert maker["status"] == "NEW"
    try:
        bob.order(symbol, "BUY", "LIMIT_MAKER", quantity="1", price="0.002")
        raise AssertionError("a post-only order that would take was accepted")
    except ExchangeApiError as exc:
        assert exc.code == -2010 and "take" in exc.msg
    stop = alice.order(symbol, "SELL", "STOP_LOSS_LIMIT", quantity="5", price="0.0019", stop_price="0.0019",
                       time_in_force="GTC")
    assert stop["status"] == "NEW"
    hit = alice.order(symbol, "SELL", "LIMIT", quantity="10", price="0.0019", time_in_force="IOC")
    assert hit["status"] == "FILLED"
    triggered = alice.get_order(symbol, order_id=stop["orderId"])
    assert triggered["status"] == "NEW" and ["0.00190000", "5.00000000"] in alice.depth(symbol)["asks"]
    canceled = alice.cancel(symbol, order_id=stop["orderId"])
    assert canceled["status"] == "CANCELED"
    assert [o["orderId"] for o in alice.cancel_open_orders(symbol)] == [rest["orderId"]]
    assert alice.open_orders(symbol) == []

    wait_until(lambda: settled(bob, symbol) and settled(alice, symbol), what="settlement")
    trades = bob.my_trades(symbol)
    assert len(trades) == 4 and {t["settlement"] for t in trades} == {"CONFIRMED"}
    assert all(t["txHash"] for t in trades)
    assert_reconciled(stack)

    rpc = Rpc(stack.rpc_url)
    brs = bob.market(symbol)["baseToken"]
    held = balance_of(rpc, brs, bob.address)
    bob.withdraw("BRS", "30")
    wait_until(lambda: bob.withdrawals()[-1]["state"] == "CONFIRMED", what="withdrawal")
    assert balance_of(rpc, brs, bob.address) == held + 30 * E18
    assert_reconciled(stack)

    streams.stop()
    depth = streams.of("brswbnb@depth")
    assert depth and all(later["U"] == earlier["u"] + 1 for earlier, later in zip(depth, depth[1:]))
    assert len(streams.of("brswbnb@trade")) == len(alice.trades(symbol)) == 4 and streams.of("brswbnb@bookTicker")
    reports = [m for m in streams.of(bob_stream) if m["e"] == "executionReport"]
    assert any(r["i"] == market["orderId"] and r["X"] == "FILLED" and r["x"] == "TRADE" for r in reports)
    assert any(m["e"] == "outboundAccountPosition" for m in streams.of(bob_stream))

    result = CliRunner().invoke(main, ["reconcile", "--exchange", stack.exchange_url, "--rpc-url", stack.rpc_url,
                                       "--admin-token-file", str(stack.admin_token_file)])
    assert result.exit_code == 0 and "agree" in result.output, result.output
    por = CliRunner().invoke(main, ["por", "build", "--from-exchange", stack.exchange_url, "--out",
                                    str(tmp_path / "por"), "--json"], env={"BOURSE_ADMIN_TOKEN": stack.admin_token})
    assert por.exit_code == 0, por.output
    root = json.loads(por.output)
    ledger = fetch_ledger(stack.exchange_url, stack.admin_token)
    for asset, total in root["totals"].items():
        assert int(total) == sum(int(b["total"]) for b in ledger["balances"]
                                 if b["asset"] == asset and b["account"] != ledger["feeAccount"])


def assert_reconciled(stack: Stack) -> None:
    differences = reconcile(fetch_ledger(stack.exchange_url, stack.admin_token), Rpc(stack.rpc_url))
    assert differences == [], [d.line() for d in differences]


def test_the_vault_balance_of_each_user_equals_the_ledger_once_settled(stack: Stack,
                                                                       clients: dict[str, ExchangeClient]) -> None:
    from matcher.exchange.vault import VaultClient
    vault = VaultClient(Rpc(stack.rpc_url), stack.vault)
    for client in clients.values():
        wait_until(lambda c=client: settled(c, "BRSWBNB"), what="settlement")
        for asset, (free, locked) in client.balances().items():
            token = stack.markets.assets[asset].token
            assert vault.balance_of(client.address, token) == free + locked, (client.address, asset)


def test_public_endpoints_answer_in_binance_shapes(stack: Stack, clients: dict[str, ExchangeClient]) -> None:
    client = clients["alice"]
    assert client.ping() == {}
    info = client.info
    brs = next(s for s in info["symbols"] if s["symbol"] == "BRSWBNB")
    assert {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "NOTIONAL", "PERCENT_PRICE_BY_SIDE", "MAX_NUM_ORDERS",
            "MAX_NUM_ALGO_ORDERS"} <= {f["filterType"] for f in brs["filters"]}
    assert brs["filters"][0]["tickSize"] == "0.00000100" and brs["filters"][1]["stepSize"] == "0.01000000"
    assert isinstance(client.depth("BRSWBNB")["lastUpdateId"], int)
    ticker = client.ticker_24hr("BRSWBNB")
    assert {"lastPrice", "volume", "quoteVolume", "priceChangePercent", "count"} <= ticker.keys()
    assert set(client.book_ticker("WBNBUSDT")) == {"symbol", "bidPrice", "bidQty", "askPrice", "askQty"}
    spec = client.request("GET", "/openapi.json")
    assert spec["openapi"].startswith("3.") and "/api/v3/order" in spec["paths"]


def test_live_subscribe_list_and_unsubscribe_over_one_socket(stack: Stack) -> None:
    import websockets

    async def talk() -> list[dict[str, Any]]:
        url = stack.exchange_url.replace("http://", "ws://") + "/ws"
        replies = []
        async with websockets.connect(url) as connection:
            for message in ({"method": "SUBSCRIBE", "params": ["brswbnb@trade", "BRSWBNB@depth"], "id": 1},
                            {"method": "LIST_SUBSCRIPTIONS", "id": 2},
                            {"method": "UNSUBSCRIBE", "params": ["brswbnb@trade"], "id": 3},
                            {"method": "LIST_SUBSCRIPTIONS", "id": 4},
                            {"method": "SUBSCRIBE", "params": ["dogeusdt@trade"], "id": 5},
                            {"method": "FLY", "id": 6},
                            {"method": "GET_PROPERTY", "params": ["combined"], "id": 7},
                            {"method": "SET_PROPERTY", "params": ["combined", True], "id": 8},
                            {"method": "GET_PROPERTY", "params": ["combined"], "id": 9},
                            {"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 10},
                            {"method": "GET_PROPERTY", "params": ["speed"], "id": 11}):
                await connection.send(json.dumps(message))
                replies.append(json.loads(await connection.recv()))
            await connection.send("not json")
            replies.append(json.loads(await connection.recv()))
        return replies

    replies = asyncio.run(talk())
    assert replies[0] == {"result": None, "id": 1}
    assert replies[1] == {"result": ["brswbnb@depth", "brswbnb@trade"], "id": 2}
    assert replies[3] == {"result": ["brswbnb@depth"], "id": 4}
    assert replies[4]["error"]["code"] == 2 and replies[5]["error"]["code"] == 2
    assert replies[6:11] == [{"result": False, "id": 7}, {"result": None, "id": 8}, {"result": True, "id": 9},
                             {"error": {"code": 1, "msg": "Invalid value type: expected Boolean"}, "id": 10},
                             {"error": {"code": 0, "msg": "Unknown property"}, "id": 11}]
    assert replies[11]["error"]["code"] == 3  # not JSON


def test_an_unknown_stream_is_refused_before_the_upgrade(stack: Stack) -> None:
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlopen(stack.exchange_url + "/ws/dogeusdt@trade", timeout=10)
        raise AssertionError("accepted an unknown stream")
    except urllib.error.HTTPError as exc:
        assert exc.code == 400 and json.loads(exc.read())["code"] == -1102


def test_the_exchange_runs_on_uvloop_where_it_is_installed(stack: Stack) -> None:
    """The exchange's event loop is uvloop's (a dependency except on Windows), as under `bourse up`: ~15 us less
    per request than asyncio's own (the closing note of issue 17 has the figures)."""
    import importlib.util

    from matcher.exchange.service import new_event_loop
    if importlib.util.find_spec("uvloop") is None:
        pytest.skip("uvloop is not installed here")
    assert type(stack.exchange._loop).__module__.startswith("uvloop")
    loop = new_event_loop()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()

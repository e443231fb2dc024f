"""API keys as Binance clients use them, without custody: each key trades through an agent its maker approved on
the vault; requests are signed Binance's way (HMAC-SHA256 or Ed25519); every private endpoint refuses without
proof; a stranger cannot read or touch another account; a revoked agent stops trading at once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from matcher.client import ExchangeClient
from bourse.stack import Stack

from .conftest import fund, send_call, settled, wait_until

SYMBOL = "BRSWBNB"


class BinanceSigned:
    """A minimal Binance-style client: X-MBX-APIKEY, timestamp, HMAC-SHA256 (or Ed25519) over query + body."""

    def __init__(self, url: str, api_key: str, secret: str | None = None, ed25519: Any = None) -> None:
        self.url, self.api_key, self.secret, self.ed25519 = url, api_key, secret, ed25519

    def sign(self, payload: str) -> str:
        if self.ed25519 is not None:
            return base64.b64encode(self.ed25519.sign(payload.encode())).decode()
        assert self.secret is not None
        return hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()

    def call(self, method: str, path: str, timestamp: int | None = None, signature: str | None = None,
             **params: Any) -> tuple[int, Any]:
        params["timestamp"] = timestamp if timestamp is not None else int(time.time() * 1000)
        query = urllib.parse.urlencode(params)
        query += "&signature=" + urllib.parse.quote(signature if signature is not None else self.sign(query))
        body = query.encode() if method in ("POST", "PUT") else None
        url = self.url + path + ("" if body else "?" + query)
        request = urllib.request.Request(url, body, {"X-MBX-APIKEY": self.api_key,
                                                     "Content-Type": "application/x-www-form-urlencoded"},
                                         method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                self.headers = dict(response.headers)
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def keys(stack: Stack, clients: dict[str, ExchangeClient]) -> dict[str, Any]:
    alice, bob = clients["alice"], clients["bob"]
    fund(alice, {"BRS": "1000"})
    fund(bob, {"WBNB": "10"})
    made = {name: clients[name].create_api_key(label=name) for name in ("alice", "bob")}
    return {name: BinanceSigned(stack.exchange_url, k["apiKey"], k["secretKey"]) for name, k in made.items()} | \
        {"made": made}


def test_two_api_key_users_trade_and_the_fill_settles_on_chain(clients: dict[str, ExchangeClient],
                                                               keys: dict[str, Any]) -> None:
    alice, bob = keys["alice"], keys["bob"]
    status, placed = alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT",
                                timeInForce="GTC", quantity="100", price="0.002", newClientOrderId="a-1")
    assert status == 200 and placed["status"] == "NEW" and placed["clientOrderId"] == "a-1", placed
    assert placed["signedOrder"]["maker"] == clients["alice"].address  # the maker's order, signed by its agent
    assert alice.headers["X-MBX-ORDER-COUNT-10S"] == "1" and alice.headers["X-MBX-ORDER-COUNT-1D"] == "1"
    status, ack = bob.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="30",
                           newOrderRespType="ACK")
    assert status == 200 and set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    status, order = bob.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=ack["orderId"])
    assert order["status"] == "FILLED" and order["executedQty"] == "30.00000000"
    status, result = bob.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET",
                              quoteOrderQty="0.02", newOrderRespType="RESULT")
    assert result["status"] == "FILLED" and result["executedQty"] == "10.00000000" and "fills" not in result
    wait_until(lambda: settled(clients["bob"], SYMBOL), what="settlement of the API-key trades")
    trades = bob.call("GET", "/api/v3/myTrades", symbol=SYMBOL)[1]
    assert len(trades) == 2 and {t["settlement"] for t in trades} == {"CONFIRMED"}
    assert bob.call("GET", "/api/v3/myTrades", symbol=SYMBOL, orderId=ack["orderId"])[1] == trades[:1]
    balances = {b["asset"]: b for b in bob.call("GET", "/api/v3/account")[1]["balances"]}
    assert balances["BRS"]["free"].startswith("39.")  # 40 bought, less the taker fee in BRS
    status, open_orders = alice.call("GET", "/api/v3/openOrders", symbol=SYMBOL)
    assert [o["orderId"] for o in open_orders] == [placed["orderId"]] and open_orders[0]["executedQty"] == \
        "40.00000000"
    assert alice.call("POST", "/api/v3/order/test", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="1", price="0.002") == (200, {})
    assert alice.call("GET", "/api/v3/openOrders", symbol=SYMBOL)[1] == open_orders  # the test placed nothing


def test_a_stranger_cannot_read_cancel_or_trade_for_another_account(clients: dict[str, ExchangeClient],
                                                                    keys: dict[str, Any]) -> None:
    alice, bob = keys["alice"], keys["bob"]
    placed = alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                        quantity="5", price="0.003")[1]
    assert bob.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"])[1]["code"] == -2013
    assert bob.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"])[1]["code"] == -2011
    assert placed["orderId"] not in [o["orderId"] for o in bob.call("GET", "/api/v3/openOrders")[1]]
    assert alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"])[1]["status"] == "NEW"
    forged = BinanceSigned(alice.url, alice.api_key, bob.secret)  # alice's key, signed with bob's secret
    assert forged.call("GET", "/api/v3/account")[1]["code"] == -1022
    cancelled = alice.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"])[1]
    assert cancelled["status"] == "CANCELED"


def test_binance_authentication_errors(stack: Stack, keys: dict[str, Any]) -> None:
    alice = keys["alice"]
    now = int(time.time() * 1000)
    assert alice.call("GET", "/api/v3/account", timestamp=now - 10_000)[1]["code"] == -1021  # outside recvWindow
    assert alice.call("GET", "/api/v3/account", timestamp=now - 10_000, recvWindow=20_000)[0] == 200
    assert alice.call("GET", "/api/v3/account", timestamp=now + 5_000)[1]["code"] == -1021  # ahead of the server
    assert alice.call("GET", "/api/v3/account", recvWindow=70_000)[1]["code"] == -1131
    assert alice.call("GET", "/api/v3/account", signature="00" * 32)[1]["code"] == -1022
    status, body = BinanceSigned(stack.exchange_url, "x" * 64, "s").call("GET", "/api/v3/account")
    assert (status, body["code"]) == (401, -2015)
    status, body = BinanceSigned(stack.exchange_url, "bad key", "s").call("GET", "/api/v3/account")
    assert (status, body["code"]) == (401, -2014)


def test_every_private_endpoint_refuses_without_proof(stack: Stack, clients: dict[str, ExchangeClient]) -> None:
    alice = clients["alice"].address
    for method, path in (("GET", "/api/v3/order"), ("GET", "/api/v3/openOrders"), ("GET", "/api/v3/allOrders"),
                         ("GET", "/api/v3/myTrades"), ("GET", "/api/v3/account"), ("GET", "/api/v3/withdrawals"),
                         ("GET", "/api/v3/account/commission"), ("GET", "/api/v3/rateLimit/order"),
                         ("GET", "/api/v3/myPreventedMatches"), ("POST", "/api/v3/userDataStream"),
                         ("GET", "/bourse/v1/apiKey"), ("DELETE", "/bourse/v1/apiKey")):
        url = f"{stack.exchange_url}{path}?symbol={SYMBOL}&address={alice}&orderId=1"
        request = urllib.request.Request(url, b"" if method == "POST" else None, method=method)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=30)
        assert caught.value.code == 401 and json.loads(caught.value.read())["code"] == -2014, path
    for method, path in (("POST", "/api/v3/order"), ("DELETE", "/api/v3/order"), ("DELETE", "/api/v3/openOrders"),
                         ("POST", "/api/v3/withdraw"), ("POST", "/api/v3/order/test")):
        body = urllib.parse.urlencode({"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "quantity": "1",
                                       "price": "0.002", "address": alice, "orderId": 1, "asset": "BRS",
                                       "amount": "1", "nonce": 1, "expiry": 2**40, "maxFeeBps": 30,
                                       "timestamp": int(time.time() * 1000)}).encode()
        request = urllib.request.Request(stack.exchange_url + path, body, method=method)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=30)
        assert caught.value.code in (400, 401) and json.loads(caught.value.read())["code"] in (-1102, -1104, -2014)


def test_read_only_keys_ed25519_keys_and_key_management(stack: Stack, clients: dict[str, ExchangeClient],
                                                        keys: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    carol = clients["carol"]
    fund(carol, {"BRS": "100"})
    reader = carol.create_api_key(permissions="USER_DATA", label="reader")
    assert "secretKey" in reader
    signed = BinanceSigned(stack.exchange_url, reader["apiKey"], reader["secretKey"])
    assert signed.call("GET", "/api/v3/account")[0] == 200
    status, body = signed.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT",
                               timeInForce="GTC", quantity="1", price="0.002")
    assert (status, body["code"]) == (401, -2015)
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    made = carol.create_api_key(key_type="ED25519", public_key=pem, label="ed")
    assert "secretKey" not in made
    ed = BinanceSigned(stack.exchange_url, made["apiKey"], ed25519=private)
    status, placed = ed.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                             quantity="1", price="0.004")
    assert status == 200 and placed["status"] == "NEW", placed
    listed = carol.signed_read("GET", "/bourse/v1/apiKey")
    assert [(k["label"], k["keyType"], k["permissions"]) for k in listed] == [
        ("reader", "HMAC_SHA256", ["USER_DATA"]), ("ed", "ED25519", ["TRADE"])]
    carol.signed_read("DELETE", "/bourse/v1/apiKey", {"apiKey": reader["apiKey"]})
    assert signed.call("GET", "/api/v3/account")[1]["code"] == -2015
    status, body = keys["alice"].call("POST", "/api/v3/withdraw", asset="BRS", amount="1")
    assert (status, body["code"]) == (401, -2015)  # withdrawals never through an API key


def test_revoking_the_agent_on_chain_stops_the_key_and_cancels_its_orders(stack: Stack,
                                                                          clients: dict[str, ExchangeClient],
                                                                          keys: dict[str, Any]) -> None:
    dave = clients["dave"]
    fund(dave, {"BRS": "100"})
    made = dave.create_api_key(label="to revoke")
    key = BinanceSigned(stack.exchange_url, made["apiKey"], made["secretKey"])
    placed = key.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                      quantity="2", price="0.005")[1]
    assert placed["status"] == "NEW"
    send_call(stack.rpc_url, "0x" + dave.key.hex(), stack.vault, "revokeAgent(address)", ["address"],  # type: ignore[union-attr]
              [made["agent"]])
    wait_until(lambda: dave.get_order(SYMBOL, order_id=placed["orderId"])["status"] == "CANCELED",
               what="the revoked agent's order to leave the book")
    assert dave.get_order(SYMBOL, order_id=placed["orderId"])["reason"] == "agent revoked on chain"
    status, body = key.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                            quantity="2", price="0.005")
    assert (status, body["code"]) == (401, -2015)


def ccxt_binance(stack: Stack, made: dict[str, Any] | None = None, pro: bool = False) -> Any:
    """ccxt's own binance class (or ccxt.pro's), its URLs pointed at the exchange; nothing else changed."""
    ccxt = pytest.importorskip("ccxt.pro" if pro else "ccxt")
    config: dict[str, Any] = {"options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False,
                                          "fetchMargins": False}}
    if made is not None:
        config.update(apiKey=made["apiKey"], secret=made["secretKey"])
    exchange = ccxt.binance(config)
    exchange.urls["api"] = {kind: (stack.exchange_url + ("/sapi/v1" if kind.startswith("sapi") else "/api/v3"))
                            if isinstance(url, str) else url for kind, url in exchange.urls["api"].items()}
    if pro:
        exchange.urls["api"]["ws"] = {kind: stack.exchange_url.replace("http", "ws") + "/ws"
                                      for kind in exchange.urls["api"]["ws"]}
    return exchange


def test_ccxt_trades_with_api_keys_and_the_ledger_reconciles(stack: Stack, clients: dict[str, ExchangeClient],
                                                             keys: dict[str, Any]) -> None:
    seller = ccxt_binance(stack, keys["made"]["alice"])
    buyer = ccxt_binance(stack, keys["made"]["bob"])
    brs_before = buyer.fetch_balance()["BRS"]["free"]
    limit = seller.create_order("BRS/WBNB", "limit", "sell", 20, 0.0019)  # the best ask
    assert limit["status"] == "open" and seller.fetch_order(limit["id"], "BRS/WBNB")["remaining"] == 20
    market = buyer.create_order("BRS/WBNB", "market", "buy", 5)
    assert market["status"] == "closed" and market["filled"] == 5
    stop = seller.create_order("BRS/WBNB", "STOP_LOSS_LIMIT", "sell", 5, 0.0015, {"stopPrice": 0.0016})
    assert stop["status"] == "open"
    assert {o["id"] for o in seller.fetch_open_orders("BRS/WBNB")} >= {limit["id"], stop["id"]}
    assert seller.cancel_order(stop["id"], "BRS/WBNB")["status"] == "canceled"
    assert seller.fetch_order(limit["id"], "BRS/WBNB")["filled"] == 5
    assert any(t["order"] == market["id"] for t in buyer.fetch_my_trades("BRS/WBNB"))
    assert buyer.fetch_balance()["BRS"]["free"] > brs_before
    wait_until(lambda: settled(clients["bob"], SYMBOL), what="settlement of ccxt's trade")
    import subprocess
    import sys
    run = subprocess.run([sys.executable, "-m", "bourse.cli", "reconcile", "--exchange", stack.exchange_url,
                          "--rpc-url", stack.rpc_url, "--admin-token-file", str(stack.admin_token_file)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "agree" in run.stdout, run.stdout + run.stderr


def test_ccxt_pro_watches_the_book_trades_and_candles(stack: Stack, clients: dict[str, ExchangeClient],
                                                      keys: dict[str, Any]) -> None:
    import asyncio
    import threading
    alice, bob = keys["alice"], keys["bob"]
    alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
               quantity="7", price="0.0021")

    def trade_soon() -> None:
        time.sleep(1.0)
        bob.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="IOC",
                 quantity="2", price="0.0021")

    async def watch() -> tuple[Any, Any, Any]:
        exchange = ccxt_binance(stack, pro=True)
        try:
            await exchange.load_markets()
            live = await asyncio.wait_for(exchange.watch_order_book("BRS/WBNB"), 20)
            book = {"nonce": live["nonce"], "asks": [list(level) for level in live["asks"]]}  # it keeps changing
            rest.append(clients["alice"].depth(SYMBOL, 1000))  # the same moment, over REST
            threading.Thread(target=trade_soon, daemon=True).start()
            trades = await asyncio.wait_for(exchange.watch_trades("BRS/WBNB"), 20)
            candles = await asyncio.wait_for(exchange.watch_ohlcv("BRS/WBNB", "1m"), 20)
            return book, trades, candles
        finally:
            await exchange.close()

    rest: list[dict[str, Any]] = []
    best_ask = float(clients["alice"].depth(SYMBOL, 5)["asks"][0][0])
    book, trades, candles = asyncio.run(watch())
    depth = rest[0]
    assert book["nonce"] == depth["lastUpdateId"]
    assert book["asks"] == [[float(p), float(q)] for p, q in depth["asks"]]
    assert trades and trades[-1]["price"] == best_ask and trades[-1]["amount"] == 2.0
    assert candles and candles[-1][4] == best_ask


def test_amend_keep_priority_lowers_the_quantity_and_keeps_the_place(keys: dict[str, Any]) -> None:
    alice = keys["alice"]
    first = alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                       quantity="10", price="0.0090")[1]
    second = alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                        quantity="4", price="0.0090")[1]
    status, amended = alice.call("PUT", "/api/v3/order/amend/keepPriority", symbol=SYMBOL,
                                 orderId=first["orderId"], newQty="6")
    assert status == 200 and amended["amendedOrder"]["origQty"] == "6.00000000", amended
    assert amended["amendedOrder"]["orderId"] == first["orderId"]
    status, body = alice.call("PUT", "/api/v3/order/amend/keepPriority", symbol=SYMBOL, orderId=first["orderId"],
                              newQty="7")
    assert (status, body["code"]) == (400, -2038)
    bob = keys["bob"]
    asks = alice.call("GET", "/api/v3/depth", symbol=SYMBOL, limit=1000)[1]["asks"]
    cheaper = sum(int(q.replace(".", "")) for p, q in asks if float(p) < 0.009) // 10**8
    bob.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="IOC",
             quantity=str(cheaper + 7), price="0.0090")
    # the amended order kept its place ahead of the second one: it filled its new 6, the second got the 7th
    assert alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=first["orderId"])[1]["status"] == "FILLED"
    assert alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=second["orderId"])[1]["executedQty"] == \
        "1.00000000"


def test_order_lists_oco_and_oto_follow_their_legs(keys: dict[str, Any]) -> None:
    alice, bob = keys["alice"], keys["bob"]
    status, oco = alice.call("POST", "/api/v3/orderList/oco", symbol=SYMBOL, side="SELL", quantity="4",
                             aboveType="LIMIT_MAKER", abovePrice="0.0095", belowType="STOP_LOSS_LIMIT",
                             belowPrice="0.0011", belowStopPrice="0.0012", listClientOrderId="my-oco")
    assert status == 200 and oco["contingencyType"] == "OCO" and oco["listOrderStatus"] == "EXECUTING", oco
    above, below = (r["orderId"] for r in oco["orderReports"])
    assert {r["orderListId"] for r in oco["orderReports"]} == {oco["orderListId"]}
    asks = alice.call("GET", "/api/v3/depth", symbol=SYMBOL, limit=1000)[1]["asks"]
    cheaper = sum(int(q.replace(".", "")) for p, q in asks if float(p) < 0.0095) // 10**8
    bob.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="IOC",
             quantity=str(cheaper + 1), price="0.0095")
    wait_until(lambda: alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=below)[1]["status"] == "CANCELED",
               what="the stop leg to be cancelled when the other leg filled")
    listed = alice.call("GET", "/api/v3/orderList", orderListId=oco["orderListId"])[1]
    assert listed["listOrderStatus"] == "EXECUTING"  # the take-profit leg still works its remaining 3
    done = alice.call("DELETE", "/api/v3/orderList", symbol=SYMBOL, listClientOrderId="my-oco")[1]
    assert done["listOrderStatus"] == "ALL_DONE" and {r["status"] for r in done["orderReports"]} == {"CANCELED"}
    assert alice.call("GET", "/api/v3/openOrderList")[1] == []

    status, oto = bob.call("POST", "/api/v3/orderList/oto", symbol=SYMBOL, workingType="LIMIT", workingSide="BUY",
                           workingPrice="0.0011", workingQuantity="2", pendingType="LIMIT_MAKER",
                           pendingSide="SELL", pendingPrice="0.0099", pendingQuantity="2")
    assert status == 200 and len(oto["orderReports"]) == 1, oto  # the pending order waits for the working one
    alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="IOC", quantity="2",
               price="0.0011")
    wait_until(lambda: len(bob.call("GET", "/api/v3/orderList", orderListId=oto["orderListId"])[1]["orders"]) == 2,
               what="the pending order to be placed once the working order filled")
    pending = bob.call("GET", "/api/v3/orderList", orderListId=oto["orderListId"])[1]["orderReports"][1]
    assert (pending["side"], pending["type"], pending["status"], pending["price"]) == ("SELL", "LIMIT_MAKER", "NEW",
                                                                                     "0.00990000")
    assert [o["orderListId"] for o in bob.call("GET", "/api/v3/allOrderList")[1]] == [oto["orderListId"]]


def test_a_key_whose_agent_approval_the_operator_submits(stack: Stack, clients: dict[str, ExchangeClient]) -> None:
    carol = clients["carol"]
    fund(carol, {"BRS": "50"})
    made = carol.create_api_key(label="signed approval", by_signature=True)  # carol sends no transaction
    assert made["agentState"] == "PENDING"
    key = BinanceSigned(stack.exchange_url, made["apiKey"], made["secretKey"])

    def placed() -> bool:
        status, body = key.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT",
                                timeInForce="GTC", quantity="1", price="0.0080")
        return status == 200

    wait_until(placed, what="the operator to submit carol's AgentApproval and the exchange to see it")
    from matcher.exchange.vault import VaultClient
    from wallet.rpc import Rpc
    vault = VaultClient(Rpc(stack.rpc_url), stack.vault)
    assert vault.agent_expiry(carol.address, made["agent"]) == made["agentExpiry"]
    assert vault.agent_nonce(carol.address) == 1


def test_the_api_key_cli_creates_lists_and_deletes_keys_with_a_keystore_account(stack: Stack, tmp_path: Any) -> None:
    import subprocess
    import sys

    from tests.tools import ROOT

    from .conftest import KEYS
    keystore, password = tmp_path / "ks", tmp_path / "pw"
    password.write_text("correct horse\n")
    base = [sys.executable, "-m", "bourse.cli"]
    common = ["--keystore", str(keystore), "--password-file", str(password)]
    imported = subprocess.run([*base, "wallet", "import", "dave", "--private-key", "--light", *common],
                              input=KEYS["dave"] + "\n", capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert imported.returncode == 0, imported.stderr
    created = subprocess.run([*base, "api-key", "create", "dave", "--exchange", stack.exchange_url, "--rpc-url",
                              stack.rpc_url, "--label", "from the cli", "--json", *common],
                             capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert created.returncode == 0, created.stderr
    made = json.loads(created.stdout)
    assert len(made["apiKey"]) == 64 and len(made["secretKey"]) == 64 and made["agentState"] == "APPROVED"
    key = BinanceSigned(stack.exchange_url, made["apiKey"], made["secretKey"])
    assert key.call("GET", "/api/v3/account")[0] == 200
    listed = subprocess.run([*base, "api-key", "list", "dave", "--exchange", stack.exchange_url, *common],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert listed.returncode == 0 and made["apiKey"] in listed.stdout and "from the cli" in listed.stdout
    assert made["secretKey"] not in listed.stdout  # a secret is shown once, at creation
    deleted = subprocess.run([*base, "api-key", "delete", "dave", made["apiKey"], "--exchange", stack.exchange_url,
                              *common], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert deleted.returncode == 0, deleted.stderr
    assert key.call("GET", "/api/v3/account")[1]["code"] == -2015


def test_a_read_signature_is_bound_to_its_method_and_path(stack: Stack, clients: dict[str, ExchangeClient]) -> None:
    from matcher.exchange.signed import exchange_message, message_digest, sign_digest
    carol = clients["carol"]
    timestamp = carol.server_time()
    signed_get = sign_digest(message_digest(exchange_message("Read", {
        "account": carol.address, "method": "GET", "path": "/bourse/v1/apiKey", "timestamp": timestamp},
        carol.domain)), carol.key)  # type: ignore[arg-type]
    query = urllib.parse.urlencode({"address": carol.address, "timestamp": timestamp, "signature": signed_get,
                                    "apiKey": "K" * 64})
    for method, path in (("DELETE", "/bourse/v1/apiKey"), ("GET", "/api/v3/account")):
        request = urllib.request.Request(f"{stack.exchange_url}{path}?{query}", method=method)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=30)
        assert json.loads(caught.value.read())["code"] == -1022, (method, path)
    with urllib.request.urlopen(f"{stack.exchange_url}/bourse/v1/apiKey?{query}", timeout=30) as response:
        assert response.status == 200  # the request it was made for

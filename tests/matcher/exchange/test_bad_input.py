"""Bad input gets its coded error and changes nothing: malformed JSON, wrong types, bad signatures, replayed
orders, unknown markets, filter failures. A bounded hypothesis fuzzer throws random bodies at every write
endpoint (HYPOTHESIS_PROFILE=thorough runs it much longer)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matcher.client import ExchangeApiError, ExchangeClient
from bourse.stack import Stack

from .conftest import KEYS, fund

OTHER_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"  # dev account 5


def raw(stack: Stack, method: str, path: str, body: bytes | None) -> tuple[int, Any]:
    request = urllib.request.Request(stack.exchange_url + path, body, {"Content-Type": "application/json"},
                                     method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def state(stack: Stack) -> tuple[str, int, int]:
    """The engine's state hash, and how many orders and withdrawals exist: none may change on a rejection."""
    def read(service: Any) -> tuple[str, int, int]:
        db = service.core.db
        return (service.core.engine.state_hash(), db.execute("SELECT COUNT(*) FROM orders").fetchone()[0],
                db.execute("SELECT COUNT(*) FROM withdrawals").fetchone()[0])
    return stack.exchange.call(read)


@pytest.fixture(scope="module")
def trader(stack: Stack) -> ExchangeClient:
    client = ExchangeClient(stack.exchange_url, KEYS["dave"], stack.rpc_url)
    fund(client, {"BRS": "50"})
    return client


def rejected(stack: Stack, call: Any, code: int) -> None:
    before = state(stack)
    with pytest.raises(ExchangeApiError) as info:
        call()
    assert info.value.code == code, info.value.msg
    assert info.value.status == 400
    assert state(stack) == before


def test_malformed_json_and_non_object_bodies_are_refused(stack: Stack) -> None:
    before = state(stack)
    for body in (b"{not json", b"[1, 2]", b'"text"'):
        status, reply = raw(stack, "POST", "/api/v3/order", body)
        assert status == 400 and reply["code"] == -1102, reply
    assert state(stack) == before


def test_unknown_paths_and_methods_answer_in_the_error_shape(stack: Stack) -> None:
    status, reply = raw(stack, "GET", "/api/v3/nope", None)
    assert status == 404 and set(reply) == {"code", "msg"}
    status, reply = raw(stack, "PUT", "/api/v3/order", b"{}")
    assert status == 405 and set(reply) == {"code", "msg"}


def test_wrong_types_missing_and_unknown_fields(stack: Stack, trader: ExchangeClient) -> None:
    good = trader.order_body("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.005")
    cases = [({**good, "nonce": "abc"}, -1100), ({**good, "quantity": True}, -1102),
             ({k: v for k, v in good.items() if k != "signature"}, -1102), ({**good, "side": "HOLD"}, -1117),
             ({**good, "type": "ICEBERG"}, -1116), ({**good, "timeInForce": "DAY"}, -1115),
             ({**good, "leverage": 10}, -1104), ({**good, "address": "bob"}, -1102),
             ({**good, "quantity": "1.0000000000000000001"}, -1111)]
    for body, code in cases:
        rejected(stack, lambda b=body: trader.request("POST", "/api/v3/order", body=b), code)


def test_signatures_that_do_not_belong_to_the_maker_are_refused(stack: Stack, trader: ExchangeClient) -> None:
    good = trader.order_body("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.005")
    other = ExchangeClient(stack.exchange_url, OTHER_KEY).order_body("BRSWBNB", "SELL", "LIMIT", quantity="1",
                                                                     price="0.005")
    sig = bytes.fromhex(good["signature"][2:])
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = sig[:32] + (n - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big") + bytes([sig[64] ^ 1])
    for signature in (other["signature"], "0x" + high_s.hex(), "0x1234", "0x" + "zz" * 65):
        rejected(stack, lambda s=signature: trader.request("POST", "/api/v3/order", body={**good, "signature": s}),
                 -1022)
    tampered = {**good, "price": "0.006"}  # the signature covers the price
    rejected(stack, lambda: trader.request("POST", "/api/v3/order", body=tampered), -1022)


def test_a_replayed_order_is_refused_the_second_time(stack: Stack, trader: ExchangeClient) -> None:
    body = trader.order_body("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.009")
    placed = trader.request("POST", "/api/v3/order", body=body)
    assert placed["status"] == "NEW"
    rejected(stack, lambda: trader.request("POST", "/api/v3/order", body=body), -3001)
    trader.cancel("BRSWBNB", order_id=placed["orderId"])
    rejected(stack, lambda: trader.request("POST", "/api/v3/order", body=body), -3001)


def test_unknown_markets_filters_expiry_fees_and_balance(stack: Stack, trader: ExchangeClient) -> None:
    rejected(stack, lambda: trader.request("POST", "/api/v3/order", body={
        **trader.order_body("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.005"), "symbol": "DOGEUSDT"}), -1121)
    rejected(stack, lambda: trader.order("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.0050001"), -1013)
    rejected(stack, lambda: trader.order("BRSWBNB", "SELL", "LIMIT", quantity="1.005", price="0.005"), -1013)
    rejected(stack, lambda: trader.order("BRSWBNB", "SELL", "LIMIT", quantity="0.01", price="0.000001"), -1013)
    rejected(stack, lambda: trader.order("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.005",
                                         expiry=int(time.time()) + 5), -1021)
    rejected(stack, lambda: trader.order("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.005", max_fee_bps=1),
             -1013)
    rejected(stack, lambda: trader.order("BRSWBNB", "SELL", "LIMIT", quantity="5000", price="0.005"), -2010)


def test_a_signed_field_beyond_the_vaults_settlement_format_is_refused(stack: Stack, trader: ExchangeClient) -> None:
    """The vault takes an order's expiry in 48 bits, maxFeeBps in 16, maxPlatformFeeRate in 128 and its nonce below
    2**240: an order signed beyond them could never settle, so it is refused when placed, however well signed."""
    for field, value in (("expiry", 2**48), ("max_fee_bps", 2**16), ("max_platform_fee_rate", 2**128),
                         ("nonce", 2**240)):
        rejected(stack, lambda f=field, v=value: trader.order("BRSWBNB", "SELL", "LIMIT", quantity="1",
                                                                price="0.005", **{f: v}), -1100)
    placed = trader.order("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.009", expiry=2**48 - 1,
                          max_fee_bps=2**16 - 1, max_platform_fee_rate=2**128 - 1, nonce=2**240 - 1)  # the largest
    assert placed["status"] == "NEW"
    trader.cancel("BRSWBNB", order_id=placed["orderId"])


def test_duplicate_client_order_id_and_unknown_orders(stack: Stack, trader: ExchangeClient) -> None:
    first = trader.order("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.007", client_order_id="mine-1")
    rejected(stack, lambda: trader.order("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.007",
                                         client_order_id="mine-1"), -2012)
    rejected(stack, lambda: trader.cancel("BRSWBNB", order_id=999_999), -2011)
    rejected(stack, lambda: trader.get_order("BRSWBNB", order_id=999_999), -2013)
    trader.cancel("BRSWBNB", client_order_id="mine-1")
    assert trader.get_order("BRSWBNB", order_id=first["orderId"])["status"] == "CANCELED"


def test_cancels_and_withdrawals_need_the_owners_signature(stack: Stack, trader: ExchangeClient) -> None:
    placed = trader.order("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.008")
    intruder = ExchangeClient(stack.exchange_url, OTHER_KEY)
    body = {"symbol": "BRSWBNB", "orderId": placed["orderId"], "address": trader.address,
            "timestamp": intruder.server_time()}
    from matcher.exchange.signed import exchange_message, message_digest, sign_digest
    forged = sign_digest(message_digest(exchange_message("Cancel", {"maker": trader.address, "symbol": "BRSWBNB",
                                                                    "orderId": placed["orderId"], "clientOrderId": "",
                                                                    "timestamp": body["timestamp"]},
                                                         intruder.domain)), bytes.fromhex(OTHER_KEY[2:]))
    rejected(stack, lambda: intruder.request("DELETE", "/api/v3/order", body={**body, "signature": forged}), -1022)
    stale = {**body, "timestamp": body["timestamp"] - 600_000, "signature": forged}
    rejected(stack, lambda: intruder.request("DELETE", "/api/v3/order", body=stale), -1021)
    rejected(stack, lambda: trader.withdraw("BRS", "100000"), -2010)
    trader.withdraw("BRS", "1", nonce=77)
    rejected(stack, lambda: trader.withdraw("BRS", "1", nonce=77), -3001)
    trader.cancel("BRSWBNB", order_id=placed["orderId"])


FIELDS = ["symbol", "side", "type", "timeInForce", "quantity", "price", "quoteOrderQty", "stopPrice",
          "newClientOrderId", "selfTradePreventionMode", "address", "nonce", "expiry", "maxFeeBps", "signature",
          "orderId", "origClientOrderId", "timestamp", "asset", "amount", "extra", "cancelOrderId",
          "cancelOrigClientOrderId", "cancelReplaceMode"]
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2**300, 2**300) | st.text(max_size=80)
                           | st.sampled_from(["BRSWBNB", "BUY", "SELL", "LIMIT", "MARKET", "GTC", "1", "0.002",
                                              "ALLOW_FAILURE", "STOP_ON_FAILURE",
                                              "0x" + "ab" * 20, "0x" + "cd" * 65, "-1", "1e5", "NaN"]),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=5)


@given(body=st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=12),
       endpoint=st.sampled_from([("POST", "/api/v3/order"), ("DELETE", "/api/v3/order"),
                                 ("DELETE", "/api/v3/openOrders"), ("POST", "/api/v3/withdraw"),
                                 ("POST", "/api/v3/order/cancelReplace")]))
def test_fuzzed_bodies_get_a_coded_400_and_change_nothing(stack: Stack, body: dict[str, Any],
                                                         endpoint: tuple[str, str]) -> None:
    before = state(stack)
    status, reply = raw(stack, endpoint[0], endpoint[1], json.dumps(body).encode())
    assert status == 400, (status, reply)
    assert set(reply) == {"code", "msg"} and isinstance(reply["code"], int) and reply["code"] < 0
    assert state(stack) == before


def test_cancel_replace_moves_an_order_and_fails_cleanly(stack: Stack, trader: ExchangeClient) -> None:
    old = trader.order("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.011")
    moved = trader.cancel_replace("BRSWBNB", "SELL", "LIMIT", cancel_order_id=old["orderId"], quantity="2",
                                  price="0.012")
    assert moved["cancelResult"] == "SUCCESS" and moved["cancelResponse"]["status"] == "CANCELED"
    new_id = moved["newOrderResponse"]["orderId"]
    assert trader.get_order("BRSWBNB", order_id=new_id)["price"] == "0.01200000"
    rejected(stack, lambda: trader.cancel_replace("BRSWBNB", "SELL", "LIMIT", cancel_order_id=old["orderId"],
                                                  quantity="1", price="0.013"), -2022)
    before = state(stack)
    with pytest.raises(ExchangeApiError) as info:  # the cancel lands, the new order is refused: -2021, as Binance
        trader.cancel_replace("BRSWBNB", "SELL", "LIMIT", cancel_order_id=new_id, quantity="9000", price="0.013")
    assert info.value.code == -2021 and "insufficient balance" in info.value.msg and info.value.status == 409
    assert info.value.data["cancelResult"] == "SUCCESS" and info.value.data["newOrderResult"] == "FAILURE"
    assert info.value.data["cancelResponse"]["status"] == "CANCELED"
    assert info.value.data["newOrderResponse"]["code"] == -2010
    assert state(stack) != before and trader.get_order("BRSWBNB", order_id=new_id)["status"] == "CANCELED"


def test_cancel_replace_modes_report_each_part_as_binance(stack: Stack, trader: ExchangeClient) -> None:
    # STOP_ON_FAILURE (the default): an unknown order to cancel stops everything; the new order is not attempted
    with pytest.raises(ExchangeApiError) as stop:
        trader.cancel_replace("BRSWBNB", "SELL", "LIMIT", cancel_order_id=10**9, quantity="1", price="0.02")
    assert (stop.value.status, stop.value.code) == (400, -2022)
    assert stop.value.data == {"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                               "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
                               "newOrderResponse": None}
    # ALLOW_FAILURE: the new order goes in anyway, and the reply says which part failed (HTTP 409, -2021)
    before = state(stack)
    with pytest.raises(ExchangeApiError) as allow:
        trader.cancel_replace("BRSWBNB", "SELL", "LIMIT", cancel_order_id=10**9, quantity="1", price="0.02",
                              mode="ALLOW_FAILURE")
    assert (allow.value.status, allow.value.code) == (409, -2021)
    data = allow.value.data
    assert (data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "SUCCESS")
    placed = data["newOrderResponse"]
    assert placed["status"] == "NEW" and trader.get_order("BRSWBNB", order_id=placed["orderId"])["price"] == "0.02000000"
    assert state(stack) != before
    # ALLOW_FAILURE with both parts failing changes nothing: 400, -2022
    rejected(stack, lambda: trader.cancel_replace("BRSWBNB", "SELL", "LIMIT", cancel_order_id=10**9,
                                                  quantity="90000", price="0.02", mode="ALLOW_FAILURE"), -2022)
    # and both parts succeeding is a plain 200
    moved = trader.cancel_replace("BRSWBNB", "SELL", "LIMIT", cancel_order_id=placed["orderId"], quantity="1",
                                  price="0.021", mode="ALLOW_FAILURE")
    assert (moved["cancelResult"], moved["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert moved["cancelResponse"]["orderId"] == placed["orderId"]
    rejected(stack, lambda: trader.request("POST", "/api/v3/order/cancelReplace", body={
        **trader.order_body("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.02"), "cancelOrderId": 1,
        "cancelReplaceMode": "SOMETIMES"}), -1100)


def test_the_admin_ledger_answers_only_to_the_operators_token(stack: Stack) -> None:
    def get(headers: dict[str, str]) -> tuple[int, Any]:
        request = urllib.request.Request(stack.exchange_url + "/admin/ledger", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": stack.admin_token},
                    {"Authorization": "Bearer "}):
        status, body = get(headers)
        assert status == 401 and body["code"] == -2015, headers
    status, body = get({"Authorization": f"Bearer {stack.admin_token}"})
    assert status == 200 and "balances" in body
    assert stack.admin_token_file.stat().st_mode & 0o777 == 0o600


def test_order_entry_answers_alike_through_the_front_door_and_through_aiohttp(stack: Stack,
                                                                              trader: ExchangeClient) -> None:
    """REST requests are answered by the front door (matcher/exchange/front.py) on a connection that began with
    them, by aiohttp on one it was handed: the same statuses, bodies and Binance headers."""
    import socket as sockets

    from .test_front import read_answer

    def connect() -> sockets.socket:
        host, port = stack.exchange_url.removeprefix("http://").split(":")
        return sockets.create_connection((host, int(port)), timeout=30)

    def ask(sock: sockets.socket, method: str, body: bytes,
            path: str = "/api/v3/order") -> tuple[int, dict[str, str], Any]:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        status, headers, payload = read_answer(sock, bytearray())
        assert ("aiohttp" in headers.get("server", "")) is (sock is handed)  # who answered: aiohttp says so
        return status, headers, json.loads(payload)

    lean, handed = connect(), connect()
    handed.sendall(b"GET /trade/ HTTP/1.1\r\nHost: x\r\n\r\n")  # a page: aiohttp serves this connection
    assert read_answer(handed, bytearray())[0] == 200
    good = trader.order_body("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.009")
    forged = {**good, "signature": ExchangeClient(stack.exchange_url, OTHER_KEY, stack.rpc_url).order_body(
        "BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.009")["signature"]}
    before = state(stack)
    recovered = stack.exchange.service.curve.batches
    for method, body in (("POST", b"{not json"), ("POST", json.dumps(forged).encode()),
                         ("POST", json.dumps({**good, "symbol": "NOPE"}).encode()), ("DELETE", b"{}"),
                         ("DELETE", json.dumps({"symbol": "BRSWBNB", "orderId": 1}).encode())):
        a, b = ask(lean, method, body), ask(handed, method, body)
        assert a[0] == b[0] == 400 and a[2] == b[2], (a, b)
        assert a[1]["content-type"] == b[1]["content-type"] == "application/json; charset=utf-8"
        assert a[1]["x-mbx-used-weight-1m"] and b[1]["x-mbx-used-weight-1m"]
    assert state(stack) == before
    placed = [ask(sock, "POST", json.dumps(trader.order_body("BRSWBNB", "SELL", "LIMIT", quantity="1",
                                                                  price="0.009")).encode())
              for sock in (lean, handed)]
    assert [p[0] for p in placed] == [200, 200] and [p[2]["status"] for p in placed] == ["NEW", "NEW"]
    assert set(placed[0][2]) == set(placed[1][2])
    assert {h for h in placed[0][1] if h.startswith("x-mbx")} == {h for h in placed[1][1] if h.startswith("x-mbx")}
    for path in ("/api/v3/depth?symbol=BRSWBNB&limit=5", "/api/v3/ticker/bookTicker?symbol=BRSWBNB",
                 "/api/v3/klines?symbol=BRSWBNB&interval=1m&limit=3", "/api/v3/ticker/price?symbol=NOPE"):
        a, b = ask(lean, "GET", b"", path), ask(handed, "GET", b"", path)
        assert a[0] == b[0] and a[2] == b[2], (path, a, b)
        assert a[1]["x-mbx-used-weight-1m"] and b[1]["x-mbx-used-weight-1m"]
    assert stack.exchange.service.curve.batches >= recovered + 4  # signers recovered by the worker process
    for p in placed:
        trader.cancel("BRSWBNB", p[2]["orderId"])
    lean.close()
    handed.close()

"""Batches after the first are sent without a simulation, sized from the gas per fill the vault used; one that
reverts anyway (here: out of gas) loses nothing - its fills go back to PENDING, the next attempt is simulated
and estimated, and they settle."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from bourse.stack import Stack
from matcher.client import ExchangeClient
from matcher.exchange.settler import FRESH_WORD_GAS
from wallet.rpc import Rpc

from .conftest import KEYS, fund, settled, wait_until


def traders(stack: Stack, brs: str) -> tuple[ExchangeClient, ExchangeClient]:
    """Alice with `brs` BRS to sell, Bob with 1 WBNB to buy with, both in the vault."""
    alice = ExchangeClient(stack.exchange_url, KEYS["alice"], stack.rpc_url)
    bob = ExchangeClient(stack.exchange_url, KEYS["bob"], stack.rpc_url)
    fund(alice, {"BRS": brs})
    fund(bob, {"WBNB": "1"})
    return alice, bob


def settle_a_first_batch(alice: ExchangeClient, bob: ExchangeClient, settler: Any) -> None:
    """Two fills (a full batch of 2): the first batch of a run is simulated; once it settles, the gas per fill is
    known and later batches may overlap."""
    for _ in range(2):
        alice.order("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.002", time_in_force="GTC")
        bob.order("BRSWBNB", "BUY", "LIMIT", quantity="1", price="0.002", time_in_force="IOC")
    wait_until(lambda: settled(bob, "BRSWBNB") and settler.gas_per_fill > 0, what="the first batch")


def trade_two_batches(alice: ExchangeClient, bob: ExchangeClient) -> None:
    """Four one-lot asks, all taken by one buy: four fills, two batches of 2."""
    for price in ("0.002", "0.0021", "0.0022", "0.0023"):
        alice.order("BRSWBNB", "SELL", "LIMIT", quantity="1", price=price, time_in_force="GTC")
    bob.order("BRSWBNB", "BUY", "LIMIT", quantity="4", price="0.0023", time_in_force="IOC")


def trade_once(alice: ExchangeClient, bob: ExchangeClient) -> dict[str, Any]:
    """Alice rests an ask, Bob takes it; the fill once settled (CONFIRMED or FAILED)."""
    alice.order("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.002", time_in_force="GTC")
    bob.order("BRSWBNB", "BUY", "LIMIT", quantity="1", price="0.002", time_in_force="IOC")
    wait_until(lambda: settled(bob, "BRSWBNB"), timeout=60, what="settlement")
    return bob.my_trades("BRSWBNB")[-1]


def test_unsimulated_batches_and_an_out_of_gas_batch_that_settles_on_the_retry(tmp_path: Path) -> None:
    stack = Stack(tmp_path / "up", batch_interval=0.1).start()
    try:
        rpc = Rpc(stack.rpc_url)
        alice, bob = traders(stack, "10")
        settler = stack.exchange.service.settler  # type: ignore[union-attr]

        first = trade_once(alice, bob)  # simulated and estimated: nothing learnt yet
        assert first["settlement"] == "CONFIRMED"
        estimated = int(rpc.call("eth_getTransactionByHash", first["txHash"])["gas"], 16)
        used = int(rpc.receipt(first["txHash"])["gasUsed"], 16)
        assert settler.gas_per_fill == used and not settler.simulate_next

        second = trade_once(alice, bob)  # unsimulated: the limit comes from the gas per fill
        assert second["settlement"] == "CONFIRMED"
        sent = int(rpc.call("eth_getTransactionByHash", second["txHash"])["gas"], 16)
        assert sent == 50_000 + used * 3 // 2 + 2 * FRESH_WORD_GAS != estimated  # alice's and bob's nonce words

        stack.exchange.call(lambda service: setattr(service.settler, "gas_per_fill", 1_000))  # far too little
        head = int(rpc.call("eth_blockNumber"), 16)
        third = trade_once(alice, bob)
        assert third["settlement"] == "CONFIRMED"
        reverted = [r for r in (rpc.receipt(tx["hash"]) for n in range(head + 1, int(rpc.call("eth_blockNumber"), 16)
                                                                       + 1)
                                for tx in rpc.call("eth_getBlockByNumber", hex(n), True)["transactions"])
                    if int(r["status"], 16) == 0]
        too_little = 50_000 + 1_500 + 2 * FRESH_WORD_GAS
        assert len(reverted) == 1 and int(reverted[0]["gasUsed"], 16) == too_little  # out of gas, then retried
        assert third["txHash"] != reverted[0]["transactionHash"]
        assert int(rpc.call("eth_getTransactionByHash", third["txHash"])["gas"], 16) != too_little  # estimated again
        assert [t["settlement"] for t in bob.my_trades("BRSWBNB")] == ["CONFIRMED"] * 3
    finally:
        stack.stop()


def test_a_batch_is_signed_behind_the_one_in_flight_with_the_next_nonce(tmp_path: Path) -> None:
    """With mining held back, the first full batch waits in the node's pool; the second is signed with the
    next nonce and stored behind it, asking the node nothing, and goes out once the first has its receipt."""
    from eth_account import Account

    from matcher.exchange import store
    stack = Stack(tmp_path / "up", batch_interval=30, batch_size=2).start()
    try:
        rpc = Rpc(stack.rpc_url)
        alice, bob = traders(stack, "100")
        settler = stack.exchange.service.settler  # type: ignore[union-attr]
        settle_a_first_batch(alice, bob, settler)

        asked: dict[int | None, list[str]] = {}  # the node methods each batch's signing called, by its nonce
        signing = threading.local()
        real_call, real_sign = settler.vault.rpc.call, settler._sign_batch
        rpc.call("evm_setAutomine", False)
        try:
            def recording(method: str, *params: Any) -> Any:
                if getattr(signing, "nonce", False) is not False:
                    asked[signing.nonce].append(method)
                return real_call(method, *params)

            def sign_batch(data: bytes, gas: int | None, nonce: int | None) -> Any:
                signing.nonce = nonce
                asked[nonce] = []
                try:
                    return real_sign(data, gas, nonce)
                finally:
                    signing.nonce = False
            settler.vault.rpc.call, settler._sign_batch = recording, sign_batch
            trade_two_batches(alice, bob)
            batches: list[dict[str, Any]] = []

            def two_signed() -> bool:
                batches[:] = stack.exchange.call(lambda service: store.rows(  # type: ignore[union-attr]
                    service.core.db, "SELECT * FROM batches WHERE state = 'SIGNED' ORDER BY batch_id"))
                return len(batches) == 2
            wait_until(two_signed, what="a second batch signed behind the first")
            first, second = (_nonce(b["raw"]) for b in batches)
            assert second == first + 1
            assert {Account.recover_transaction(b["raw"]) for b in batches} == {settler.operator}
            assert len(rpc.call("eth_getBlockByNumber", "pending", False)["transactions"]) == 1  # only the first sent
            assert sorted(asked[None]) == ["eth_getBlockByNumber", "eth_getTransactionCount",
                                           "eth_maxPriorityFeePerGas"]
            assert asked.keys() == {None, second} and asked[second] == []  # it took the next nonce, asked nothing
        finally:
            settler.vault.rpc.call, settler._sign_batch = real_call, real_sign
            rpc.call("evm_setAutomine", True)
        rpc.call("evm_mine")  # the first batch; then the second is sent and mined at once
        wait_until(lambda: len(bob.my_trades("BRSWBNB")) == 6 and settled(bob, "BRSWBNB"), what="both batches")
        trades = bob.my_trades("BRSWBNB")
        assert [t["settlement"] for t in trades] == ["CONFIRMED"] * 6
        ahead, behind = (str(b["batch_id"]) for b in batches)
        assert [t["batchId"] for t in trades[2:]] == [ahead, ahead, behind, behind]
    finally:
        stack.stop()


def _nonce(raw: str) -> int:
    from eth_account.typed_transactions import TypedTransaction
    from hexbytes import HexBytes
    return int(TypedTransaction.from_bytes(HexBytes(raw)).as_dict()["nonce"])


def test_a_batch_that_cannot_be_sent_holds_back_the_one_behind_it_until_the_next_pass(tmp_path: Path) -> None:
    """The first send fails (the node unreachable for a moment): the batch signed behind it is not sent out of
    nonce order; the next pass sends both, in order, and every fill settles."""
    from wallet.errors import RpcError

    stack = Stack(tmp_path / "up", batch_interval=30, batch_size=2).start()
    try:
        alice, bob = traders(stack, "100")
        settler = stack.exchange.service.settler  # type: ignore[union-attr]
        settle_a_first_batch(alice, bob, settler)

        real_send, refused, sends = settler.vault.rpc.send_raw, [], []

        def send_raw(raw: bytes) -> str:
            sends.append(raw)
            if not refused:
                refused.append(raw)
                raise RpcError("eth_sendRawTransaction", "cannot reach the node: connection refused")
            return real_send(raw)
        settler.vault.rpc.send_raw = send_raw
        try:
            trade_two_batches(alice, bob)
            wait_until(lambda: len(bob.my_trades("BRSWBNB")) == 6 and settled(bob, "BRSWBNB"), timeout=60,
                       what="both batches, sent again by the next pass")
        finally:
            settler.vault.rpc.send_raw = real_send
        trades = bob.my_trades("BRSWBNB")
        assert refused and [t["settlement"] for t in trades] == ["CONFIRMED"] * 6
        first, second = int(trades[2]["batchId"]), int(trades[4]["batchId"])
        assert second == first + 1 and trades[3]["batchId"] == trades[2]["batchId"]
        rpc = Rpc(stack.rpc_url)
        nonces = [int(rpc.call("eth_getTransactionByHash", trades[i]["txHash"])["nonce"], 16) for i in (2, 4)]
        assert nonces[1] == nonces[0] + 1
        raws = [bytes.fromhex(rpc.call("eth_getRawTransactionByHash", trades[i]["txHash"])[2:]) for i in (2, 4)]
        assert sends == [raws[0], raws[0], raws[1]]  # refused, then again; the one behind only after it
    finally:
        stack.stop()

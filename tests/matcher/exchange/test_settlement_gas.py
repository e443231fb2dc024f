"""Batches after the first are sent without a simulation, sized from the gas per fill the vault used; one that
reverts anyway (here: out of gas) loses nothing - its fills go back to PENDING, the next attempt is simulated
and estimated, and they settle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bourse.stack import Stack
from matcher.client import ExchangeClient
from wallet.rpc import Rpc

from .conftest import KEYS, fund, settled, wait_until


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
        alice = ExchangeClient(stack.exchange_url, KEYS["alice"], stack.rpc_url)
        bob = ExchangeClient(stack.exchange_url, KEYS["bob"], stack.rpc_url)
        fund(alice, {"BRS": "10"})
        fund(bob, {"WBNB": "1"})
        settler = stack.exchange.service.settler  # type: ignore[union-attr]

        first = trade_once(alice, bob)  # simulated and estimated: nothing learnt yet
        assert first["settlement"] == "CONFIRMED"
        estimated = int(rpc.call("eth_getTransactionByHash", first["txHash"])["gas"], 16)
        used = int(rpc.receipt(first["txHash"])["gasUsed"], 16)
        assert settler.gas_per_fill == used and not settler.simulate_next

        second = trade_once(alice, bob)  # unsimulated: the limit comes from the gas per fill
        assert second["settlement"] == "CONFIRMED"
        sent = int(rpc.call("eth_getTransactionByHash", second["txHash"])["gas"], 16)
        assert sent == 50_000 + used * 3 // 2 != estimated

        stack.exchange.call(lambda service: setattr(service.settler, "gas_per_fill", 1_000))  # far too little
        head = int(rpc.call("eth_blockNumber"), 16)
        third = trade_once(alice, bob)
        assert third["settlement"] == "CONFIRMED"
        reverted = [r for r in (rpc.receipt(tx["hash"]) for n in range(head + 1, int(rpc.call("eth_blockNumber"), 16)
                                                                       + 1)
                                for tx in rpc.call("eth_getBlockByNumber", hex(n), True)["transactions"])
                    if int(r["status"], 16) == 0]
        assert len(reverted) == 1 and int(reverted[0]["gasUsed"], 16) == 51_500  # out of gas, then retried
        assert third["txHash"] != reverted[0]["transactionHash"]
        assert int(rpc.call("eth_getTransactionByHash", third["txHash"])["gas"], 16) != 51_500  # estimated again
        assert [t["settlement"] for t in bob.my_trades("BRSWBNB")] == ["CONFIRMED"] * 3
    finally:
        stack.stop()

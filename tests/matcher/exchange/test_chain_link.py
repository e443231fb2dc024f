"""What the chain does that the exchange must follow: escape-hatch requests, on-chain cancels, fills the vault
skips, and batches that revert (bisected to the bad fill)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.settlement import Order
from matcher.client import ExchangeApiError, ExchangeClient
from matcher.exchange.reconcile import fetch_ledger, reconcile
from matcher.exchange.vault import ORDER_TUPLE as ORDER_TYPE
from bourse.stack import Stack
from wallet.rpc import Rpc

from .conftest import KEYS, fund, send_call, settled, wait_until



@pytest.fixture
def slow_stack(tmp_path: Path) -> Iterator[Stack]:
    """Batches only when a test says so (batch interval of an hour)."""
    running = Stack(tmp_path / "stack", batch_interval=3600).start()
    yield running
    running.stop()


def _client(stack: Stack, name: str) -> ExchangeClient:
    return ExchangeClient(stack.exchange_url, KEYS[name], stack.rpc_url)


def _settle_now(stack: Stack) -> None:
    stack.exchange.call(lambda service: setattr(service.settler, "batch_interval", 0.0))


def _reconciled(stack: Stack) -> None:
    differences = reconcile(fetch_ledger(stack.exchange_url, stack.admin_token), Rpc(stack.rpc_url))
    assert differences == [], [d.line() for d in differences]


def _signed_order(client: ExchangeClient, row: dict[str, Any]) -> tuple[Any, ...]:
    """The order as the maker signed it (the API returns it), for the vault's cancelOrder."""
    signed = row["signedOrder"]
    return Order(signed["maker"], signed["baseToken"], signed["quoteToken"], signed["isBuy"], int(signed["baseAmount"]),
                 int(signed["price"]), signed["expiry"], int(signed["nonce"]), signed["maxFeeBps"],
                 int(signed["maxPlatformFeeRate"])).as_tuple()


def test_escape_hatch_request_takes_the_funds_out_of_the_ledger_and_cancels_orders(stack: Stack) -> None:
    carol = _client(stack, "carol")
    fund(carol, {"BRS": "100"})
    resting = carol.order("BRSWBNB", "SELL", "LIMIT", quantity="50", price="0.003", time_in_force="GTC")
    vault, brs = stack.vault, carol.market("BRSWBNB")["baseToken"]
    send_call(stack.rpc_url, KEYS["carol"], vault, "requestWithdrawal(address,uint256)", ["address", "uint256"],
              [brs, 80 * 10**18])
    wait_until(lambda: carol.balances()["BRS"] == (20 * 10**18, 0), what="escape hatch debit")
    order = carol.get_order("BRSWBNB", order_id=resting["orderId"])
    assert order["status"] == "CANCELED" and "escape" in order["reason"]
    _reconciled(stack)


def test_an_order_cancelled_on_chain_leaves_the_book(stack: Stack) -> None:
    dave = _client(stack, "dave")
    fund(dave, {"BRS": "10"})
    placed = dave.order("BRSWBNB", "SELL", "LIMIT", quantity="5", price="0.004", time_in_force="GTC")
    send_call(stack.rpc_url, KEYS["dave"], stack.vault, f"cancelOrder({ORDER_TYPE})", [ORDER_TYPE],
              [_signed_order(dave, placed)])
    wait_until(lambda: dave.get_order("BRSWBNB", order_id=placed["orderId"])["status"] == "CANCELED",
               what="on-chain cancel")
    assert dave.get_order("BRSWBNB", order_id=placed["orderId"])["reason"] == "cancelled on chain"
    assert dave.balances()["BRS"] == (10 * 10**18, 0)


def test_a_nonce_floor_raised_on_chain_cancels_below_it_and_refuses_new_orders_below_it(stack: Stack) -> None:
    dave = _client(stack, "dave")
    fund(dave, {"BRS": "10"})
    floor = 10**15 + 10
    resting = dave.order("BRSWBNB", "SELL", "LIMIT", quantity="5", price="0.004", time_in_force="GTC",
                         nonce=floor - 5)
    send_call(stack.rpc_url, KEYS["dave"], stack.vault, "cancelAllBelow(uint256)", ["uint256"], [floor])
    wait_until(lambda: dave.get_order("BRSWBNB", order_id=resting["orderId"])["status"] == "CANCELED",
               what="nonce floor")
    assert dave.get_order("BRSWBNB", order_id=resting["orderId"])["reason"] == "cancelled on chain (nonce floor)"
    with pytest.raises(ExchangeApiError) as refused:
        dave.order("BRSWBNB", "SELL", "LIMIT", quantity="5", price="0.004", time_in_force="GTC", nonce=floor - 1)
    assert refused.value.code == -3001 and "floor" in refused.value.msg
    placed = dave.order("BRSWBNB", "SELL", "LIMIT", quantity="5", price="0.004", time_in_force="GTC", nonce=floor)
    assert placed["status"] == "NEW"
    dave.cancel("BRSWBNB", order_id=placed["orderId"])
    _reconciled(stack)


def test_a_fill_the_vault_skips_is_reversed_in_the_ledger(slow_stack: Stack) -> None:
    alice, bob = _client(slow_stack, "alice"), _client(slow_stack, "bob")
    fund(alice, {"BRS": "100"})
    fund(bob, {"WBNB": "1"})
    sell = alice.order("BRSWBNB", "SELL", "LIMIT", quantity="50", price="0.002", time_in_force="GTC")
    bob.order("BRSWBNB", "BUY", "LIMIT", quantity="10", price="0.002", time_in_force="IOC")
    before = {"alice": alice.balances(), "bob": bob.balances()}
    assert before["bob"]["BRS"][0] > 0  # the ledger already shows the trade
    # alice cancels her (still resting) order on chain before the batch lands: the vault will skip the fill
    send_call(slow_stack.rpc_url, KEYS["alice"], slow_stack.vault, f"cancelOrder({ORDER_TYPE})", [ORDER_TYPE],
              [_signed_order(alice, sell)])
    wait_until(lambda: alice.get_order("BRSWBNB", order_id=sell["orderId"])["status"] == "CANCELED",
               what="on-chain cancel")
    _settle_now(slow_stack)
    wait_until(lambda: settled(bob, "BRSWBNB"), what="settlement")
    trade = bob.my_trades("BRSWBNB")[0]
    assert trade["settlement"] == "FAILED" and trade["settlementReason"] == "skipped by the vault: cancelled on chain"
    assert bob.balances()["BRS"] == (0, 0) and bob.balances()["WBNB"] == (10**18, 0)
    assert alice.balances()["BRS"] == (100 * 10**18, 0)
    _reconciled(slow_stack)


def test_a_batch_with_a_bad_fill_is_bisected_and_the_rest_settles(slow_stack: Stack) -> None:
    alice, bob, carol = (_client(slow_stack, n) for n in ("alice", "bob", "carol"))
    fund(alice, {"BRS": "100"})
    fund(bob, {"WBNB": "1"})
    fund(carol, {"WBNB": "1"})
    alice.order("BRSWBNB", "SELL", "LIMIT", quantity="60", price="0.002", time_in_force="GTC")
    bob.order("BRSWBNB", "BUY", "LIMIT", quantity="10", price="0.002", time_in_force="IOC")
    bad = carol.order("BRSWBNB", "BUY", "LIMIT", quantity="10", price="0.002", time_in_force="IOC")
    bob.order("BRSWBNB", "BUY", "LIMIT", quantity="10", price="0.002", time_in_force="IOC")
    # corrupt what carol "signed" (a valid-looking signature by someone else): only the vault can tell
    forged = bob.order_body("BRSWBNB", "BUY", "LIMIT", quantity="10", price="0.002")["signature"]
    slow_stack.exchange.call(lambda service: service.core.write(lambda db: db.execute(
        "UPDATE orders SET signature = ? WHERE order_id = ?", (forged, bad["orderId"]))))
    _settle_now(slow_stack)
    wait_until(lambda: settled(bob, "BRSWBNB") and settled(carol, "BRSWBNB"), what="settlement")
    assert [t["settlement"] for t in bob.my_trades("BRSWBNB")] == ["CONFIRMED", "CONFIRMED"]
    failed = carol.my_trades("BRSWBNB")[0]
    assert failed["settlement"] == "FAILED" and "invalid signature" in failed["settlementReason"]
    assert carol.balances()["WBNB"] == (10**18, 0) and carol.balances().get("BRS", (0, 0)) == (0, 0)
    maker = alice.open_orders("BRSWBNB")
    assert maker == []  # the maker order of the bad fill was expired with the reason
    expired = alice.all_orders("BRSWBNB")[0]
    assert expired["status"] == "EXPIRED" and "settlement failed" in expired["reason"]
    _reconciled(slow_stack)


def test_the_follower_survives_a_node_restart(slow_stack: Stack) -> None:
    from chain.server import ServerThread
    eve = _client(slow_stack, "dave")
    fund(eve, {"BRS": "1"})
    port = int(slow_stack.rpc_url.rsplit(":", 1)[1])
    slow_stack.node_server.stop()  # the exchange's polls now fail; it keeps retrying
    import time
    time.sleep(1.5)
    slow_stack.node_server = ServerThread(slow_stack.node, "127.0.0.1", port).start()
    fund(eve, {"BRS": "2"})
    assert eve.balances()["BRS"] == (3 * 10**18, 0)
    _reconciled(slow_stack)


def test_reconcile_reports_a_ledger_entry_the_chain_does_not_have(slow_stack: Stack) -> None:
    from click.testing import CliRunner

    from bourse.cli import main
    from matcher.model import Deposit
    ghost = "0x000000000000000000000000000000000000dEaD"
    slow_stack.exchange.call(lambda service: service.core.submit(Deposit(ghost, "BRS", 12345)))
    differences = reconcile(fetch_ledger(slow_stack.exchange_url, slow_stack.admin_token), Rpc(slow_stack.rpc_url))
    assert [(d.account, d.asset, d.ledger, d.chain) for d in differences] == [(ghost, "BRS", 12345, 0)]
    result = CliRunner().invoke(main, ["reconcile", "--exchange", slow_stack.exchange_url, "--rpc-url",
                                       slow_stack.rpc_url, "--admin-token-file", str(slow_stack.admin_token_file)])
    assert result.exit_code == 1 and "ledger expects 12345 wei on chain, vault holds 0 (-12345)" in result.output


def test_a_settled_batch_is_found_by_its_log_when_its_hash_is_unknown(stack: Stack) -> None:
    """The crash path where the stored hash has no receipt but the vault's lastBatchId passed the batch."""
    alice, bob = _client(stack, "alice"), _client(stack, "bob")
    fund(alice, {"BRS": "5"})
    fund(bob, {"WBNB": "0.1"})
    alice.order("BRSWBNB", "SELL", "LIMIT", quantity="1", price="0.002", time_in_force="GTC")
    bob.order("BRSWBNB", "BUY", "LIMIT", quantity="1", price="0.002", time_in_force="IOC")
    wait_until(lambda: settled(bob, "BRSWBNB"), what="settlement")
    trade = bob.my_trades("BRSWBNB")[-1]
    receipt = stack.exchange.call(lambda service: service.settler._receipt_of_batch(int(trade["batchId"])))
    assert receipt["transactionHash"] == trade["txHash"]
    unknown = int(trade["batchId"]) + 1  # no batch of that id has settled
    assert stack.exchange.call(lambda service: service.settler._receipt_of_batch(unknown)) is None


OWNER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # dev account 0: the vault's owner


def test_platform_token_fees_follow_the_vaults_published_rate_within_what_each_order_signed(
        slow_stack: Stack) -> None:
    alice, bob = _client(slow_stack, "alice"), _client(slow_stack, "bob")
    wbnb = alice.market("BRSWBNB")["quoteToken"]
    fund(alice, {"BRS": "100", "WBNB": "1"})
    fund(bob, {"WBNB": "1"})

    def fee_schedule() -> Any:
        return slow_stack.exchange.call(lambda service: service.core.engine.fee_policy)

    send_call(slow_stack.rpc_url, OWNER_KEY, slow_stack.vault, "setPlatformTokenRate(address,uint256)",
              ["address", "uint256"], [wbnb, 3 * 10**18])  # 3 BRS per WBNB of fee
    wait_until(lambda: fee_schedule().rates.get("WBNB") == 3 * 10**18, what="the exchange to follow the rate")
    send_call(slow_stack.rpc_url, KEYS["alice"], slow_stack.vault, "setPayFeesInPlatformToken(bool)", ["bool"], [True])
    wait_until(lambda: slow_stack.exchange.call(
        lambda service: alice.address in service.core.engine.pays_in_platform_token), what="alice's opt-in")
    signed_rate = 10**18  # alice accepts at most 1 BRS per WBNB she receives
    alice.order("BRSWBNB", "SELL", "LIMIT", quantity="10", price="0.002", time_in_force="GTC",
                max_platform_fee_rate=signed_rate)
    bob.order("BRSWBNB", "BUY", "LIMIT", quantity="10", price="0.002", time_in_force="IOC")
    [first] = alice.my_trades("BRSWBNB")
    assert first["commissionAsset"] == "BRS"
    send_call(slow_stack.rpc_url, OWNER_KEY, slow_stack.vault, "setPlatformTokenRate(address,uint256)",
              ["address", "uint256"], [wbnb, 2_000 * 10**18])  # the owner raises it far above what alice signed
    wait_until(lambda: fee_schedule().rates.get("WBNB") == 2_000 * 10**18, what="the exchange to follow the rate")
    alice.order("BRSWBNB", "SELL", "LIMIT", quantity="10", price="0.002", time_in_force="GTC",
                max_platform_fee_rate=signed_rate)
    bob.order("BRSWBNB", "BUY", "LIMIT", quantity="10", price="0.002", time_in_force="IOC")
    second = alice.my_trades("BRSWBNB")[-1]
    assert second["commissionAsset"] == "WBNB"  # above her signed rate: charged in what she received instead
    _settle_now(slow_stack)
    wait_until(lambda: settled(alice, "BRSWBNB"), what="settlement")
    assert [t["settlement"] for t in alice.my_trades("BRSWBNB")] == ["CONFIRMED", "CONFIRMED"]
    _reconciled(slow_stack)  # the ledger and the vault agree on every fee, in BRS and in WBNB

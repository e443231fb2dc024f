"""The remaining revert paths: bad constructor arguments, overflow, empty quotes, tokens that return false."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from web3.exceptions import ContractLogicError

from contracts.deploy import at, deploy
from contracts.predeploy import address_of
from contracts.settlement import Order, fill_tuple, sign_order

from .conftest import reverts, send, settle_call

vyper = pytest.importorskip("vyper", reason="compiling the false-returning token needs vyper (a test extra)")
E18 = 10**18


def _deploy_reverts(w3: Any, reason: str, *args: Any) -> None:
    with pytest.raises(ContractLogicError) as info:
        deploy(w3, *args)
    assert info.value.message.splitlines()[0] == f"execution reverted: {reason}"


@pytest.fixture
def false_token(w3: Any) -> Any:
    out = vyper.compile_code((Path(__file__).parent / "false_token.vy").read_text(), output_formats=["abi", "bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.contract(abi=out["abi"], bytecode=out["bytecode"])
                                                  .constructor().transact({"from": w3.eth.accounts[0]}))
    return w3.eth.contract(address=receipt["contractAddress"], abi=out["abi"])


def test_constructors_refuse_a_fee_of_100_percent(w3: Any) -> None:
    me = w3.eth.accounts[0]
    _deploy_reverts(w3, "factory: fee too high", "AmmFactory", address_of("AmmPair"), 10_000, me)
    _deploy_reverts(w3, "pair: fee too high", "AmmPair", me, me, 10_000)


def test_pair_reserves_cannot_exceed_uint112(w3: Any, factory: Any) -> None:
    me = w3.eth.accounts[0]
    a = deploy(w3, "PlatformToken", "A", "A", 2**120)
    b = deploy(w3, "PlatformToken", "B", "B", 2**120)
    send(w3, factory.functions.createPair(a.address, b.address), me)
    pair = at(w3, "AmmPair", factory.functions.getPair(a.address, b.address).call())
    send(w3, a.functions.transfer(pair.address, 2**113), me)
    send(w3, b.functions.transfer(pair.address, E18), me)
    reverts(w3, pair.functions.mint(me), me, "pair: overflow")


def test_router_quotes_refuse_empty_amounts_and_missing_pools(w3: Any, router: Any) -> None:
    me = w3.eth.accounts[0]
    for call, reason in ((router.functions.quote(0, 1, 1), "router: insufficient amount"),
                         (router.functions.quote(1, 0, 1), "router: insufficient liquidity"),
                         (router.functions.getAmountOut(0, 1, 1), "router: insufficient input amount"),
                         (router.functions.getAmountOut(1, 0, 1), "router: insufficient liquidity"),
                         (router.functions.getAmountIn(0, 1, 1), "router: insufficient output amount"),
                         (router.functions.getAmountIn(5, 1, 5), "router: insufficient liquidity")):
        reverts(w3, call, me, reason)
    lonely = deploy(w3, "PlatformToken", "L", "L", E18)
    reverts(w3, router.functions.getAmountsOut(1, [lonely.address, address_of("PlatformToken")]), me,
            "router: no pair")


def test_tokens_that_return_false_are_refused(w3: Any, router: Any, factory: Any, false_token: Any) -> None:
    me = w3.eth.accounts[0]
    vault = at(w3, "SettlementVault", address_of("SettlementVault"))
    reverts(w3, vault.functions.deposit(false_token.address, 1), me, "settlement: token transfer failed")
    good = deploy(w3, "PlatformToken", "G", "G", 10**30)
    send(w3, factory.functions.createPair(good.address, false_token.address), me)
    pair = at(w3, "AmmPair", factory.functions.getPair(good.address, false_token.address).call())
    send(w3, false_token.functions.set_balance(pair.address, E18), me)
    reverts(w3, pair.functions.skim(me), me, "pair: transfer failed")
    send(w3, good.functions.approve(router.address, 2**256 - 1), me)
    reverts(w3, router.functions.addLiquidity(false_token.address, good.address, E18, E18, 0, 0, me, 2**40), me,
            "router: transferFrom failed")


def test_settlement_refuses_a_fill_worth_no_quote(w3: Any, accounts: Any) -> None:
    vault = at(w3, "SettlementVault", address_of("SettlementVault"))
    alice, bob = accounts[1], accounts[2]
    token = address_of("PlatformToken")
    sell = Order(alice.checksum, token, address_of("WrappedNative"), False, 10, 1, 2**40, 1, 0)
    buy = Order(bob.checksum, token, address_of("WrappedNative"), True, 10, 1, 2**40, 1, 0)
    chain_id = w3.eth.chain_id
    # the maker buys: its quote rounds down (in its favour) to nothing
    fill = fill_tuple(buy, sell, sign_order(buy, bob.key.to_bytes(), chain_id, vault.address),
                      sign_order(sell, alice.key.to_bytes(), chain_id, vault.address), 1)
    reverts(w3, settle_call(vault, 1, [fill]), accounts[0].checksum, "settlement: zero quote amount")
    # the maker sells: its quote rounds up to 1, which is above what the buyer's limit allows for one unit
    fill = fill_tuple(sell, buy, sign_order(sell, alice.key.to_bytes(), chain_id, vault.address),
                      sign_order(buy, bob.key.to_bytes(), chain_id, vault.address), 1)
    reverts(w3, settle_call(vault, 1, [fill]), accounts[0].checksum, "settlement: fill too small for its prices")

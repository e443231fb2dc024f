"""Property: settlement never creates value, and never fills beyond what was signed or below a limit."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.deploy import deploy
from contracts.settlement import PRICE_SCALE, Order, fill_tuple, sign_order

from .conftest import send

E18 = 10**18
FAR = 2**40

def _funded_vault(w3: Any, owner: Any, users: tuple[Any, ...], each: int) -> tuple[Any, Any, Any]:
    """Fresh base/quote tokens and a vault (no withdrawal delay) where each user deposited `each` of both."""
    base = deploy(w3, "PlatformToken", "B", "B", 10**30)
    quote = deploy(w3, "PlatformToken", "Q", "Q", 10**30)
    vault = deploy(w3, "SettlementVault", base.address, 2_500, 0)
    for user in users:
        for token in (base, quote):
            send(w3, token.functions.transfer(user.checksum, 2 * each), owner.checksum)
            send(w3, token.functions.approve(vault.address, 2**256 - 1), user.checksum)
            send(w3, vault.functions.deposit(token.address, each), user.checksum)
    return base, quote, vault


fills = st.lists(st.tuples(
    st.booleans(),  # maker is the seller
    st.integers(min_value=1, max_value=40),  # maker price (quote per base, whole units)
    st.integers(min_value=0, max_value=5),  # taker price offset (taker is at least as aggressive)
    st.integers(min_value=1, max_value=300),  # base amount, whole units
    st.integers(min_value=0, max_value=30),  # fee bps actually charged
    st.booleans(),  # withdraw some funds through the escape hatch first
), min_size=1, max_size=8)


@settings()
@given(plan=fills)
def test_settlement_conserves_every_token(w3: Any, accounts: Any, plan: list[tuple[Any, ...]]) -> None:
    owner, alice, bob = accounts[0], accounts[1], accounts[2]
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        base, quote, vault = _funded_vault(w3, owner, (alice, bob), 1_000 * E18)
        deposited = {base.address: 2_000 * E18, quote.address: 2_000 * E18}
        withdrawn = {base.address: 0, quote.address: 0}
        chain_id = w3.eth.chain_id
        batch = []
        for i, (maker_sells, price, offset, amount, fee_bps, escape) in enumerate(plan):
            if escape:
                send(w3, vault.functions.requestWithdrawal(base.address, 100 * E18), alice.checksum)
                send(w3, vault.functions.withdraw(base.address), alice.checksum)
                withdrawn[base.address] += 100 * E18
            maker_price = price * PRICE_SCALE
            taker_price = (price + offset if maker_sells else max(price - offset, 1)) * PRICE_SCALE
            maker = Order(alice.checksum, base.address, quote.address, not maker_sells, amount * E18, maker_price, FAR,
                          i, 30)
            taker = Order(bob.checksum, base.address, quote.address, maker_sells, amount * E18, taker_price, FAR, i, 30)
            quote_amount = amount * E18 * maker_price // PRICE_SCALE
            maker_gets = quote_amount if maker_sells else amount * E18
            taker_gets = amount * E18 if maker_sells else quote_amount
            batch.append(fill_tuple(maker, taker, sign_order(maker, alice.key.to_bytes(), chain_id, vault.address),
                                    sign_order(taker, bob.key.to_bytes(), chain_id, vault.address), amount * E18,
                                    maker_gets * fee_bps // 10_000, taker_gets * fee_bps // 10_000))
        send(w3, vault.functions.settle(1, batch), owner.checksum)
        for token in (base, quote):
            internal = sum(vault.functions.balanceOf(x.checksum, token.address).call() for x in (owner, alice, bob))
            assert internal == deposited[token.address] - withdrawn[token.address]
            assert token.functions.balanceOf(vault.address).call() == internal
    finally:
        assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True


single_fill = st.tuples(
    st.integers(min_value=1, max_value=20),  # maker price
    st.integers(min_value=-3, max_value=3),  # taker limit relative to the maker price
    st.integers(min_value=1, max_value=10),  # maker amount
    st.integers(min_value=1, max_value=10),  # taker amount
    st.integers(min_value=1, max_value=12),  # fill amount
    st.sampled_from(["none", "cancel", "expire", "floor"]),
    st.booleans(),  # maker sells
)


@settings()
@given(case=single_fill)
def test_no_fill_beyond_signed_amount_after_cancel_or_expiry_or_at_a_worse_price(
        w3: Any, accounts: Any, case: tuple[Any, ...]) -> None:
    from web3.exceptions import ContractLogicError

    price, offset, maker_amount, taker_amount, amount, event, maker_sells = case
    owner, alice, bob = accounts[0], accounts[1], accounts[2]
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        base, quote, vault = _funded_vault(w3, owner, (alice, bob), 10**6 * E18)
        now = w3.eth.get_block("latest")["timestamp"]
        taker_price = max(price + (offset if maker_sells else -offset), 1)
        maker = Order(alice.checksum, base.address, quote.address, not maker_sells, maker_amount * E18,
                      price * PRICE_SCALE, now + 10 if event == "expire" else FAR, 5, 0)
        taker = Order(bob.checksum, base.address, quote.address, maker_sells, taker_amount * E18,
                      taker_price * PRICE_SCALE, FAR, 5, 0)
        if event == "cancel":
            send(w3, vault.functions.cancelOrder(maker.as_tuple()), alice.checksum)
        elif event == "floor":
            send(w3, vault.functions.cancelAllBelow(6), bob.checksum)
        elif event == "expire":
            w3.provider.make_request("evm_increaseTime", [100])
        chain_id = w3.eth.chain_id
        fill = fill_tuple(maker, taker, sign_order(maker, alice.key.to_bytes(), chain_id, vault.address),
                          sign_order(taker, bob.key.to_bytes(), chain_id, vault.address), amount * E18)
        worse_price = (taker_price < price) if maker_sells else (taker_price > price)
        overfill = amount > maker_amount or amount > taker_amount
        call = vault.functions.settle(1, [fill])
        if worse_price or overfill:
            with pytest.raises(ContractLogicError):
                call.call({"from": owner.checksum})
            return
        receipt = send(w3, call, owner.checksum)
        skipped = vault.events.FillSkipped().process_receipt(receipt)
        settled = vault.events.Filled().process_receipt(receipt)
        if event != "none":
            assert len(skipped) == 1 and not settled
            assert vault.functions.filledAmount(maker.as_tuple()).call() == 0
        else:
            assert len(settled) == 1 and not skipped
            args = settled[0]["args"]
            assert args["quoteAmount"] == amount * E18 * price  # at the maker's price
            assert vault.functions.filledAmount(maker.as_tuple()).call() == amount * E18 <= maker.baseAmount
    finally:
        assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True

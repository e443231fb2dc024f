"""The settlement vault: deposits, fills, fees, skips, reverts, cancels, withdrawals."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.deploy import deploy
from contracts.predeploy import WITHDRAWAL_DELAY_BLOCKS
from contracts.settlement import PRICE_SCALE, Order, fill_tuple, settle_args, sign_order

from .conftest import reverts, send, settle_call

E18 = 10**18
FAR = 2**40
NATIVE = "0x" + "00" * 20


@pytest.fixture
def vault(w3: Any) -> Any:
    from contracts.deploy import platform

    return platform(w3)["SettlementVault"]


@pytest.fixture
def market(w3: Any, vault: Any, accounts: Any) -> dict[str, Any]:
    """Two users with base and quote deposited; base/quote are fresh tokens."""
    owner, alice, bob = accounts[0], accounts[1], accounts[2]
    base = deploy(w3, "PlatformToken", "Base", "BASE", 10**30)
    quote = deploy(w3, "PlatformToken", "Quote", "QUOTE", 10**30)
    for user in (alice, bob):
        for token in (base, quote):
            send(w3, token.functions.transfer(user.checksum, 1000 * E18), owner.checksum)
            send(w3, token.functions.approve(vault.address, 2**256 - 1), user.checksum)
            send(w3, vault.functions.deposit(token.address, 500 * E18), user.checksum)
    return {"base": base, "quote": quote, "owner": owner, "alice": alice, "bob": bob}


def order(m: dict[str, Any], who: Any, is_buy: bool, amount: int, price: int, nonce: int, fee_bps: int = 30,
          expiry: int = FAR) -> Order:
    return Order(who.checksum, m["base"].address, m["quote"].address, is_buy, amount, price, expiry, nonce, fee_bps)


def signed_fill(w3: Any, vault: Any, maker: Order, maker_key: Any, taker: Order, taker_key: Any, base: int,
                maker_fee: int = 0, taker_fee: int = 0, maker_in_platform: bool = False,
                taker_in_platform: bool = False) -> tuple[Any, ...]:
    chain_id = w3.eth.chain_id
    return fill_tuple(maker, taker, sign_order(maker, maker_key.to_bytes(), chain_id, vault.address),
                      sign_order(taker, taker_key.to_bytes(), chain_id, vault.address), base, maker_fee, taker_fee,
                      maker_in_platform, taker_in_platform)


def bal(vault: Any, who: Any, token: Any) -> int:
    return int(vault.functions.balanceOf(who.checksum, token.address).call())


def test_deposit_and_fast_path_withdraw(w3: Any, vault: Any, market: Any) -> None:
    alice, owner, base = market["alice"], market["owner"], market["base"]
    assert bal(vault, alice, base) == 500 * E18
    reverts(w3, vault.functions.operatorWithdraw(alice.checksum, base.address, 1), alice.checksum,
            "settlement: caller is not an operator")
    reverts(w3, vault.functions.operatorWithdraw(alice.checksum, base.address, 501 * E18), owner.checksum,
            "settlement: insufficient balance")
    send(w3, vault.functions.operatorWithdraw(alice.checksum, base.address, 100 * E18), owner.checksum)
    assert bal(vault, alice, base) == 400 * E18
    assert base.functions.balanceOf(alice.checksum).call() == 600 * E18
    reverts(w3, vault.functions.deposit(base.address, 0), alice.checksum, "settlement: zero amount")
    reverts(w3, vault.functions.deposit(NATIVE, 1), alice.checksum, "settlement: use depositNative")


def test_native_coin_deposit_and_escape_hatch(w3: Any, vault: Any, accounts: Any) -> None:
    alice = accounts[1].checksum
    send(w3, vault.functions.depositNative(), alice, value=3 * E18)
    assert vault.functions.balanceOf(alice, NATIVE).call() == 3 * E18
    send(w3, vault.functions.requestWithdrawal(NATIVE, 2 * E18), alice)
    assert vault.functions.balanceOf(alice, NATIVE).call() == E18  # set aside at once
    reverts(w3, vault.functions.withdraw(NATIVE), alice, "settlement: withdrawal still locked")
    w3.provider.make_request("anvil_mine", [hex(WITHDRAWAL_DELAY_BLOCKS)])
    before = w3.eth.get_balance(alice)
    receipt = send(w3, vault.functions.withdraw(NATIVE), alice)
    assert w3.eth.get_balance(alice) == before + 2 * E18 - receipt["gasUsed"] * receipt["effectiveGasPrice"]
    reverts(w3, vault.functions.withdraw(NATIVE), alice, "settlement: no pending withdrawal")
    reverts(w3, vault.functions.requestWithdrawal(NATIVE, 5 * E18), alice, "settlement: insufficient balance")


def test_fill_moves_balances_at_the_makers_price_and_charges_fees(w3: Any, vault: Any, market: Any) -> None:
    alice, bob, base, quote, owner = market["alice"], market["bob"], market["base"], market["quote"], market["owner"]
    maker = order(market, alice, False, 10 * E18, 2 * PRICE_SCALE, 1)  # alice sells 10 at 2
    taker = order(market, bob, True, 4 * E18, 3 * PRICE_SCALE, 1)  # bob buys 4 up to 3
    fill = signed_fill(w3, vault, maker, alice.key, taker, bob.key, 4 * E18, maker_fee=8 * E18 // 1000,
                       taker_fee=4 * E18 // 1000)
    receipt = send(w3, settle_call(vault, 1, [fill]), owner.checksum)
    event = vault.events.Filled().process_receipt(receipt)[0]["args"]
    assert event["quoteAmount"] == 8 * E18  # the maker's price
    assert bal(vault, alice, base) == 496 * E18
    assert bal(vault, alice, quote) == 508 * E18 - 8 * E18 // 1000
    assert bal(vault, bob, base) == 504 * E18 - 4 * E18 // 1000
    assert bal(vault, bob, quote) == 492 * E18
    assert bal(vault, owner, quote) == 8 * E18 // 1000 and bal(vault, owner, base) == 4 * E18 // 1000
    assert vault.functions.filled(vault.functions.hashOrder(maker.as_tuple()).call()).call() == 4 * E18
    assert vault.functions.lastBatchId().call() == 1


def test_operator_errors_revert_the_whole_batch(w3: Any, vault: Any, market: Any) -> None:
    alice, bob, owner = market["alice"], market["bob"], market["owner"].checksum
    sell = order(market, alice, False, 10 * E18, 2 * PRICE_SCALE, 1)
    buy = order(market, bob, True, 10 * E18, 2 * PRICE_SCALE, 1)
    cheap_buy = order(market, bob, True, 10 * E18, PRICE_SCALE, 2)
    other_sell = order(market, alice, False, 10 * E18, 2 * PRICE_SCALE, 2)
    wrong_pair = Order(alice.checksum, market["quote"].address, market["base"].address, False, E18, 1, FAR, 3, 30)
    good = signed_fill(w3, vault, sell, alice.key, buy, bob.key, E18)
    cases = [
        (signed_fill(w3, vault, sell, alice.key, cheap_buy, bob.key, E18), "settlement: price outside limit"),
        (signed_fill(w3, vault, sell, alice.key, other_sell, alice.key, E18), "settlement: same side"),
        (signed_fill(w3, vault, wrong_pair, alice.key, buy, bob.key, E18), "settlement: pair mismatch"),
        (signed_fill(w3, vault, sell, bob.key, buy, bob.key, E18), "settlement: invalid signature"),
        (signed_fill(w3, vault, sell, alice.key, buy, bob.key, 11 * E18), "settlement: overfill"),
        (signed_fill(w3, vault, sell, alice.key, buy, bob.key, E18, maker_fee=E18), "settlement: maker fee above signed maximum"),
        (signed_fill(w3, vault, sell, alice.key, buy, bob.key, E18, taker_fee=E18), "settlement: taker fee above signed maximum"),
        (signed_fill(w3, vault, sell, alice.key, buy, bob.key, 0), "settlement: zero fill"),
    ]
    for bad, reason in cases:
        reverts(w3, settle_call(vault, 5, [good, bad]), owner, reason)
    high_s = list(good)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s[2], high_s[4] = 55 - good[2], (n - int.from_bytes(good[4], "big")).to_bytes(32, "big")
    reverts(w3, settle_call(vault, 5, [tuple(high_s)]), owner, "settlement: invalid signature")
    reverts(w3, settle_call(vault, 5, [good]), alice.checksum, "settlement: caller is not an operator")
    send(w3, settle_call(vault, 5, [good]), owner)
    reverts(w3, settle_call(vault, 5, [good]), owner, "settlement: stale batch id")
    reverts(w3, settle_call(vault, 4, [good]), owner, "settlement: stale batch id")


def test_races_with_the_user_skip_the_fill_and_settle_the_rest(w3: Any, vault: Any, market: Any) -> None:
    alice, bob, owner, base = market["alice"], market["bob"], market["owner"].checksum, market["base"]
    sell = order(market, alice, False, 10 * E18, 2 * PRICE_SCALE, 1)
    buy = order(market, bob, True, 10 * E18, 2 * PRICE_SCALE, 1)
    expired = order(market, alice, False, E18, 2 * PRICE_SCALE, 2, expiry=1)
    cancelled = order(market, alice, False, E18, 2 * PRICE_SCALE, 3)
    below_floor = order(market, bob, True, E18, 2 * PRICE_SCALE, 0)
    big_sell = order(market, alice, False, 10_000 * E18, 2 * PRICE_SCALE, 4)
    big_buy = order(market, bob, True, 10_000 * E18, 2 * PRICE_SCALE, 5)
    send(w3, vault.functions.cancelOrder(cancelled.as_tuple()), alice.checksum)
    send(w3, vault.functions.cancelAllBelow(1), bob.checksum)
    fills = [
        signed_fill(w3, vault, expired, alice.key, buy, bob.key, E18),
        signed_fill(w3, vault, cancelled, alice.key, buy, bob.key, E18),
        signed_fill(w3, vault, sell, alice.key, below_floor, bob.key, E18),
        signed_fill(w3, vault, big_sell, alice.key, big_buy, bob.key, 600 * E18),  # alice holds 500 base
        signed_fill(w3, vault, order(market, alice, True, 10_000 * E18, 2 * PRICE_SCALE, 6), alice.key,
                    order(market, bob, False, 10_000 * E18, 2 * PRICE_SCALE, 7), bob.key, 300 * E18),  # 600 quote
        signed_fill(w3, vault, sell, alice.key, buy, bob.key, 2 * E18),
    ]
    receipt = send(w3, settle_call(vault, 1, fills), owner)
    skipped = [(e["args"]["index"], e["args"]["reason"]) for e in vault.events.FillSkipped().process_receipt(receipt)]
    assert skipped == [(0, 2), (1, 1), (2, 1), (3, 3), (4, 4)]
    assert vault.events.BatchSettled().process_receipt(receipt)[0]["args"]["skipped"] == 5
    assert bal(vault, alice, base) == 498 * E18  # only the last fill settled
    reverts(w3, vault.functions.cancelAllBelow(1), bob.checksum, "settlement: nonce floor must rise")
    reverts(w3, vault.functions.cancelOrder(sell.as_tuple()), bob.checksum, "settlement: not your order")


def _platform_fee_market(w3: Any, vault: Any, market: Any) -> Any:
    from contracts.deploy import platform

    owner, bob = market["owner"], market["bob"]
    brs = platform(w3)["PlatformToken"]
    send(w3, brs.functions.transfer(bob.checksum, 100 * E18), owner.checksum)
    send(w3, brs.functions.approve(vault.address, 2**256 - 1), bob.checksum)
    send(w3, vault.functions.deposit(brs.address, 100 * E18), bob.checksum)
    return brs


def test_a_fee_flagged_for_the_platform_token_is_paid_in_it_within_the_signed_rate(w3: Any, vault: Any,
                                                                                   market: Any) -> None:
    alice, bob, owner = market["alice"], market["bob"], market["owner"]
    brs = _platform_fee_market(w3, vault, market)
    sell = order(market, alice, False, 10 * E18, 2 * PRICE_SCALE, 1)
    buy = Order(bob.checksum, market["base"].address, market["quote"].address, True, 10 * E18, 2 * PRICE_SCALE, FAR,
                1, 30, PRICE_SCALE // 100)  # at most 0.01 BRS per base unit received
    cap = 10 * E18 // 100
    too_much = signed_fill(w3, vault, sell, alice.key, buy, bob.key, 10 * E18, 0, cap + 1, taker_in_platform=True)
    reverts(w3, settle_call(vault, 1, [too_much]), owner.checksum, "settlement: taker fee above signed maximum")
    unsigned = signed_fill(w3, vault, sell, alice.key, buy, bob.key, 10 * E18, 1, 0, maker_in_platform=True)
    reverts(w3, settle_call(vault, 1, [unsigned]), owner.checksum,  # alice signed no platform-token rate
            "settlement: maker fee above signed maximum")
    send(w3, settle_call(vault, 1, [signed_fill(w3, vault, sell, alice.key, buy, bob.key, 10 * E18, 0, cap,
                                                    taker_in_platform=True)]), owner.checksum)
    assert bal(vault, bob, market["base"]) == 510 * E18  # the whole fill, no base fee
    assert vault.functions.balanceOf(bob.checksum, brs.address).call() == 100 * E18 - cap
    assert vault.functions.balanceOf(owner.checksum, brs.address).call() == cap


def test_the_owners_rate_cannot_raise_a_platform_token_fee_above_what_was_signed(w3: Any, vault: Any,
                                                                                 market: Any) -> None:
    alice, bob, owner = market["alice"], market["bob"], market["owner"]
    _platform_fee_market(w3, vault, market)
    receipt = send(w3, vault.functions.setPlatformTokenRate(market["base"].address, 1000 * PRICE_SCALE),
                   owner.checksum)
    assert vault.events.PlatformTokenRateSet().process_receipt(receipt)[0]["args"]["rate"] == 1000 * PRICE_SCALE
    reverts(w3, vault.functions.setPlatformTokenRate(market["base"].address, 1), bob.checksum,
            "ownable: caller is not the owner")
    sell = order(market, alice, False, 10 * E18, 2 * PRICE_SCALE, 1)
    buy = Order(bob.checksum, market["base"].address, market["quote"].address, True, 10 * E18, 2 * PRICE_SCALE, FAR,
                1, 30, PRICE_SCALE // 100)
    everything = signed_fill(w3, vault, sell, alice.key, buy, bob.key, 10 * E18, 0, 100 * E18, taker_in_platform=True)
    reverts(w3, settle_call(vault, 1, [everything]), owner.checksum, "settlement: taker fee above signed maximum")


def test_a_platform_token_fee_the_user_cannot_cover_skips_the_fill(w3: Any, vault: Any, market: Any) -> None:
    alice, bob, owner = market["alice"], market["bob"], market["owner"]
    brs = _platform_fee_market(w3, vault, market)
    send(w3, vault.functions.requestWithdrawal(brs.address, 100 * E18), bob.checksum)  # the escape hatch
    sell = order(market, alice, False, 10 * E18, 2 * PRICE_SCALE, 1)
    buy = Order(bob.checksum, market["base"].address, market["quote"].address, True, 10 * E18, 2 * PRICE_SCALE, FAR,
                1, 30, PRICE_SCALE)
    receipt = send(w3, settle_call(vault, 1, [signed_fill(w3, vault, sell, alice.key, buy, bob.key, 10 * E18, 0,
                                                              E18, taker_in_platform=True)]), owner.checksum)
    assert [e["args"]["reason"] for e in vault.events.FillSkipped().process_receipt(receipt)] == [4]
    assert bal(vault, bob, market["base"]) == 500 * E18


def test_batch_ids_cannot_jump_far_enough_to_use_them_up(w3: Any, vault: Any, market: Any) -> None:
    owner = market["owner"].checksum
    step = vault.functions.MAX_BATCH_ID_STEP().call()
    assert step == 2**64
    reverts(w3, settle_call(vault, 2**256 - 1, []), owner, "settlement: batch id jumps too far")
    reverts(w3, settle_call(vault, step + 1, []), owner, "settlement: batch id jumps too far")
    send(w3, settle_call(vault, step, []), owner)
    send(w3, settle_call(vault, 2 * step, []), owner)
    assert vault.functions.lastBatchId().call() == 2 * step


def test_the_withdrawal_delay_is_capped_and_an_increase_spares_pending_requests(w3: Any, vault: Any,
                                                                              accounts: Any) -> None:
    owner, alice = accounts[0].checksum, accounts[1].checksum
    cap = vault.functions.MAX_WITHDRAWAL_DELAY().call()
    reverts(w3, vault.functions.setWithdrawalDelay(2**256 - 1), owner, "settlement: withdrawal delay above the cap")
    reverts(w3, vault.functions.setWithdrawalDelay(cap + 1), owner, "settlement: withdrawal delay above the cap")
    send(w3, vault.functions.depositNative(), alice, value=3 * E18)
    send(w3, vault.functions.requestWithdrawal(NATIVE, E18), alice)
    send(w3, vault.functions.setWithdrawalDelay(cap), owner)
    send(w3, vault.functions.setWithdrawalDelay(5 * WITHDRAWAL_DELAY_BLOCKS), owner)
    w3.provider.make_request("anvil_mine", [hex(WITHDRAWAL_DELAY_BLOCKS)])
    send(w3, vault.functions.withdraw(NATIVE), alice)  # unlocked on the old delay
    send(w3, vault.functions.requestWithdrawal(NATIVE, E18), alice)  # a new request waits the new one
    w3.provider.make_request("anvil_mine", [hex(WITHDRAWAL_DELAY_BLOCKS)])
    reverts(w3, vault.functions.withdraw(NATIVE), alice, "settlement: withdrawal still locked")
    w3.provider.make_request("anvil_mine", [hex(4 * WITHDRAWAL_DELAY_BLOCKS)])
    send(w3, vault.functions.withdraw(NATIVE), alice)


def test_every_admin_setter_emits_an_event(w3: Any, vault: Any, accounts: Any) -> None:
    owner, other = accounts[0].checksum, accounts[1].checksum
    events = vault.events
    for call, event, field, value in [
            (vault.functions.setFeeRecipient(other), events.FeeRecipientSet, "recipient", other),
            (vault.functions.setFeeDiscount(1234), events.FeeDiscountSet, "discountBps", 1234),
            (vault.functions.setPlatformTokenRate(other, 7), events.PlatformTokenRateSet, "rate", 7),
            (vault.functions.setWithdrawalDelay(9), events.WithdrawalDelaySet, "blocks", 9),
            (vault.functions.setOperator(other, True), events.OperatorSet, "enabled", True)]:
        assert event().process_receipt(send(w3, call, owner))[0]["args"][field] == value


def test_a_contract_wallet_receives_native_withdrawals(w3: Any, vault: Any, accounts: Any) -> None:
    vyper = pytest.importorskip("vyper", reason="compiling the test wallet needs vyper (a test extra)")
    from pathlib import Path
    out = vyper.compile_code((Path(__file__).parent / "contract_wallet.vy").read_text(),
                             output_formats=["abi", "bytecode"])
    owner = accounts[0].checksum
    factory = w3.eth.contract(abi=out["abi"], bytecode=out["bytecode"])
    wallet = w3.eth.contract(address=w3.eth.wait_for_transaction_receipt(
        factory.constructor().transact({"from": owner}))["contractAddress"], abi=out["abi"])
    send(w3, wallet.functions.deposit(vault.address), owner, value=3 * E18)
    send(w3, vault.functions.operatorWithdraw(wallet.address, NATIVE, E18), owner)  # the fast path
    assert wallet.functions.received().call() == E18
    send(w3, wallet.functions.request(vault.address, E18), owner)  # and the escape hatch
    w3.provider.make_request("anvil_mine", [hex(WITHDRAWAL_DELAY_BLOCKS)])
    send(w3, wallet.functions.withdraw(vault.address), owner)
    assert wallet.functions.received().call() == 2 * E18


def test_admin_functions_are_owner_only(w3: Any, vault: Any, accounts: Any) -> None:
    owner, other = accounts[0].checksum, accounts[1].checksum
    for call in (vault.functions.setOperator(other, True), vault.functions.setFeeRecipient(other),
                 vault.functions.setFeeDiscount(1), vault.functions.setWithdrawalDelay(1)):
        reverts(w3, call, other, "ownable: caller is not the owner")
    send(w3, vault.functions.setOperator(other, True), owner)
    assert vault.functions.operators(other).call() is True
    reverts(w3, vault.functions.setFeeDiscount(10_001), owner, "settlement: discount above 100%")
    reverts(w3, vault.functions.setFeeRecipient(NATIVE), owner, "settlement: zero fee recipient")


def test_partial_then_full_fill_retires_the_nonce_and_blocks_refills(w3: Any, vault: Any, market: Any) -> None:
    alice, bob, owner = market["alice"], market["bob"], market["owner"].checksum
    sell = order(market, alice, False, 3 * E18, 2 * PRICE_SCALE, 9)
    buys = [order(market, bob, True, 2 * E18, 2 * PRICE_SCALE, n) for n in (20, 21, 22)]
    send(w3, settle_call(vault, 1, [signed_fill(w3, vault, sell, alice.key, buys[0], bob.key, 2 * E18)]), owner)
    sell_hash = vault.functions.hashOrder(sell.as_tuple()).call()
    assert vault.functions.filled(sell_hash).call() == 2 * E18
    assert vault.functions.filledAmount(sell.as_tuple()).call() == 2 * E18
    assert vault.functions.filledAmount(buys[0].as_tuple()).call() == 2 * E18  # retired: fully filled
    reverts(w3, settle_call(vault, 2, [signed_fill(w3, vault, sell, alice.key, buys[1], bob.key, 2 * E18)]), owner,
            "settlement: overfill")
    send(w3, settle_call(vault, 2, [signed_fill(w3, vault, sell, alice.key, buys[1], bob.key, E18)]), owner)
    assert vault.functions.filled(sell_hash).call() == 0  # the amount slot is freed once retired
    assert vault.functions.filledAmount(sell.as_tuple()).call() == 3 * E18
    reverts(w3, settle_call(vault, 3, [signed_fill(w3, vault, sell, alice.key, buys[2], bob.key, 1)]), owner,
            "settlement: overfill")
    # a fully filled taker cannot be replayed in a new batch either
    reverts(w3, settle_call(vault, 3, [signed_fill(w3, vault, order(market, alice, False, E18, 2 * PRICE_SCALE, 30),
                                                       alice.key, buys[0], bob.key, 1)]), owner, "settlement: overfill")


def test_splitting_an_order_into_tiny_fills_never_pays_a_seller_below_its_limit(w3: Any, vault: Any,
                                                                              market: Any) -> None:
    alice, bob, owner, quote = market["alice"], market["bob"], market["owner"].checksum, market["quote"]
    price = 199 * PRICE_SCALE // 100  # 1.99 quote units per base unit
    sell = order(market, alice, False, 100, price, 40)  # alice sells 100 base units at 1.99
    same_limit = order(market, bob, True, 100, price, 41)
    one = signed_fill(w3, vault, sell, alice.key, same_limit, bob.key, 1)
    reverts(w3, settle_call(vault, 1, [one]), owner, "settlement: fill too small for its prices")
    higher_limit = order(market, bob, True, 100, 2 * PRICE_SCALE, 42)  # bob pays up to 2.00
    before = bal(vault, alice, quote)
    fills = [signed_fill(w3, vault, sell, alice.key, higher_limit, bob.key, 1) for _ in range(100)]
    send(w3, settle_call(vault, 1, fills), owner)
    assert bal(vault, alice, quote) - before == 200 >= 199  # each 1-unit fill rounded up for the seller
    buy = order(market, alice, True, 100, price, 43)  # a maker buy rounds down: never above its limit
    low_sell = order(market, bob, False, 100, PRICE_SCALE, 44)
    before = bal(vault, alice, quote)
    send(w3, settle_call(vault, 2, [signed_fill(w3, vault, buy, alice.key, low_sell, bob.key, 1)
                                        for _ in range(100)]), owner)
    assert before - bal(vault, alice, quote) == 100 <= 199


def sign_approval(w3: Any, vault: Any, maker: Any, agent: str, expiry: int, nonce: int) -> tuple[int, bytes, bytes]:
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    from contracts.settlement import agent_approval
    signed = Account.sign_message(encode_typed_data(full_message=agent_approval(
        maker.checksum, agent, expiry, nonce, w3.eth.chain_id, vault.address)), maker.key.to_bytes())
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def agent_fill(w3: Any, vault: Any, maker: Order, maker_signer: bytes, taker: Order, taker_key: Any,
               base: int) -> tuple[Any, ...]:
    chain_id = w3.eth.chain_id
    return fill_tuple(maker, taker, sign_order(maker, maker_signer, chain_id, vault.address),
                      sign_order(taker, taker_key.to_bytes(), chain_id, vault.address), base)


def test_an_agent_signs_orders_for_its_maker_until_it_expires_or_is_revoked(w3: Any, vault: Any,
                                                                             market: Any) -> None:
    from eth_account import Account
    alice, bob, owner = market["alice"], market["bob"], market["owner"]
    agent = Account.create()
    now = w3.eth.get_block("latest")["timestamp"]
    sell = order(market, alice, False, E18, PRICE_SCALE, 1)
    buy = order(market, bob, True, E18, PRICE_SCALE, 1)
    reverts(w3, settle_call(vault, 1, [agent_fill(w3, vault, sell, agent.key, buy, bob.key, E18)]),
            owner.checksum, "settlement: invalid signature")  # never approved: the operator could have known
    # the operator submits alice's signed approval; a replay or another signer's approval is refused
    v, r, s = sign_approval(w3, vault, alice, agent.address, now + 3600, 0)
    reverts(w3, vault.functions.approveAgentBySig(alice.checksum, agent.address, now + 3600, 1, v, r, s),
            owner.checksum, "settlement: stale agent approval nonce")
    receipt = send(w3, vault.functions.approveAgentBySig(alice.checksum, agent.address, now + 3600, 0, v, r, s),
                   owner.checksum)
    assert vault.events.AgentApproved().process_receipt(receipt)[0]["args"]["expiry"] == now + 3600
    reverts(w3, vault.functions.approveAgentBySig(alice.checksum, agent.address, now + 3600, 0, v, r, s),
            owner.checksum, "settlement: stale agent approval nonce")
    v2, r2, s2 = sign_approval(w3, vault, bob, agent.address, now + 3600, 0)  # bob cannot approve for alice
    reverts(w3, vault.functions.approveAgentBySig(alice.checksum, agent.address, now + 3600, 1, v2, r2, s2),
            owner.checksum, "settlement: invalid signature")
    before = bal(vault, bob, market["base"])
    send(w3, settle_call(vault, 1, [agent_fill(w3, vault, sell, agent.key, buy, bob.key, E18 // 2)]),
         owner.checksum)
    assert bal(vault, bob, market["base"]) == before + E18 // 2
    # the agent can neither approve others for alice nor move her funds
    reverts(w3, vault.functions.revokeAgent(agent.address), bob.checksum, "settlement: not an agent of the caller")
    receipt = send(w3, vault.functions.revokeAgent(agent.address), alice.checksum)
    assert vault.events.AgentRevoked().process_receipt(receipt)[0]["args"]["agent"] == agent.address
    receipt = send(w3, settle_call(vault, 2, [agent_fill(w3, vault, sell, agent.key, buy, bob.key, E18 // 4)]),
                   owner.checksum)
    assert [e["args"]["reason"] for e in vault.events.FillSkipped().process_receipt(receipt)] == [5]
    assert bal(vault, bob, market["base"]) == before + E18 // 2
    # approved again by transaction, then expired: skipped
    send(w3, vault.functions.approveAgent(agent.address, now + 7200), alice.checksum)
    send(w3, settle_call(vault, 3, [agent_fill(w3, vault, sell, agent.key, buy, bob.key, E18 // 4)]),
         owner.checksum)
    assert bal(vault, bob, market["base"]) == before + 3 * E18 // 4
    w3.provider.make_request("evm_increaseTime", [7300])
    w3.provider.make_request("evm_mine", [])
    receipt = send(w3, settle_call(vault, 4, [agent_fill(w3, vault, sell, agent.key, buy, bob.key, E18 // 8)]),
                   owner.checksum)
    assert [e["args"]["reason"] for e in vault.events.FillSkipped().process_receipt(receipt)] == [5]
    reverts(w3, vault.functions.approveAgent(agent.address, now), alice.checksum,
            "settlement: agent approval already expired")
    reverts(w3, vault.functions.approveAgent(alice.checksum, FAR), alice.checksum, "settlement: bad agent")


def test_an_operator_burns_the_fee_recipients_platform_token_fees(w3: Any, vault: Any, accounts: Any) -> None:
    from contracts.deploy import platform

    brs = platform(w3)["PlatformToken"]
    owner, fees, stranger = accounts[0], accounts[5], accounts[6]
    send(w3, vault.functions.setFeeRecipient(fees.checksum), owner.checksum)
    send(w3, brs.functions.transfer(fees.checksum, 50 * E18), owner.checksum)
    send(w3, brs.functions.approve(vault.address, 2**256 - 1), fees.checksum)
    send(w3, vault.functions.deposit(brs.address, 40 * E18), fees.checksum)  # as collected fees would sit there
    supply = brs.functions.totalSupply().call()
    reverts(w3, vault.functions.burnFees(E18), stranger.checksum, "settlement: caller is not an operator")
    reverts(w3, vault.functions.burnFees(0), owner.checksum, "settlement: zero amount")
    reverts(w3, vault.functions.burnFees(41 * E18), owner.checksum, "settlement: insufficient balance")
    receipt = send(w3, vault.functions.burnFees(15 * E18), owner.checksum)
    assert brs.functions.totalSupply().call() == supply - 15 * E18
    assert vault.functions.balanceOf(fees.checksum, brs.address).call() == 25 * E18
    assert brs.functions.balanceOf(vault.address).call() >= 25 * E18  # the vault still holds what it owes
    [event] = vault.events.FeesBurned().process_receipt(receipt)
    assert (event.args.recipient, event.args.amount) == (fees.checksum, 15 * E18)


def test_one_storage_word_holds_64_orders_filled_partial_and_cancelled_states(w3: Any, vault: Any,
                                                                              market: Any) -> None:
    """nonceState: 4 bits per nonce (1 filled, 2 cancelled, 4 partial), 64 nonces per word - what settlement
    reads of an order, so a fresh order costs no storage slot of its own."""
    alice, bob, owner = market["alice"], market["bob"], market["owner"].checksum

    def bits(who: Any, nonce: int) -> int:
        return (vault.functions.nonceState(who.checksum, nonce >> 6).call() >> ((nonce & 63) * 4)) & 15

    sell = order(market, alice, False, 3 * E18, 2 * PRICE_SCALE, 130)  # word 2, slot 2
    other = order(market, alice, False, E18, 2 * PRICE_SCALE, 131)  # the same word
    buy = order(market, bob, True, 5 * E18, 2 * PRICE_SCALE, 63)  # word 0, last slot
    send(w3, settle_call(vault, 1, [signed_fill(w3, vault, sell, alice.key, buy, bob.key, E18)]), owner)
    sell_hash = vault.functions.hashOrder(sell.as_tuple()).call()
    assert (bits(alice, 130), bits(bob, 63), bits(alice, 131)) == (4, 4, 0)  # both partial, the neighbour untouched
    assert vault.functions.filled(sell_hash).call() == E18
    send(w3, settle_call(vault, 2, [signed_fill(w3, vault, sell, alice.key, buy, bob.key, 2 * E18)]), owner)
    assert (bits(alice, 130), bits(bob, 63)) == (1, 4)  # the sell is filled: partial cleared, amount slot freed
    assert vault.functions.filled(sell_hash).call() == 0 and vault.functions.filledAmount(sell.as_tuple()).call() == 3 * E18
    send(w3, vault.functions.cancelOrder(other.as_tuple()), alice.checksum)
    assert bits(alice, 131) == 2 and bits(alice, 130) == 1
    assert vault.functions.cancelled(vault.functions.hashOrder(other.as_tuple()).call()).call() is True
    receipt = send(w3, settle_call(vault, 3, [signed_fill(w3, vault, other, alice.key, buy, bob.key, E18)]),
                   owner)
    assert [(e["args"]["index"], e["args"]["reason"]) for e in vault.events.FillSkipped().process_receipt(receipt)] \
        == [(0, 1)]  # cancelled: skipped
    assert bits(bob, 63) == 4 and vault.functions.filledAmount(buy.as_tuple()).call() == 3 * E18
    reverts(w3, vault.functions.cancelOrder(buy.as_tuple()), alice.checksum, "settlement: not your order")


def test_an_order_filled_twice_in_one_batch_is_listed_and_checked_once(w3: Any, vault: Any, market: Any) -> None:
    """A maker order taken by two takers in one batch: one entry in the batch's orders (one signature check), both
    fills settle against its signed amount, and the fee recipient is credited the batch's fees once per token."""
    alice, bob, base, quote, owner = market["alice"], market["bob"], market["base"], market["quote"], market["owner"]
    recipient = vault.functions.feeRecipient().call()
    fees_before = (vault.functions.balanceOf(recipient, base.address).call(),
                   vault.functions.balanceOf(recipient, quote.address).call())
    sell = order(market, alice, False, 10 * E18, 2 * PRICE_SCALE, 1)
    buys = [order(market, bob, True, 3 * E18, 2 * PRICE_SCALE, 1),
            order(market, bob, True, 4 * E18, 2 * PRICE_SCALE, 2)]
    fills = [signed_fill(w3, vault, sell, alice.key, buys[0], bob.key, 3 * E18, maker_fee=6, taker_fee=3),
             signed_fill(w3, vault, sell, alice.key, buys[1], bob.key, 4 * E18, maker_fee=8, taker_fee=4)]
    args = settle_args(1, fills)
    _, tokens, accounts, balances, nonce_words, orders, _ = args
    assert len(tokens) == 2 and len(orders) == 3  # two tokens; the sell order once
    assert len(accounts) == 2 and len(balances) == 4  # alice and bob once; their base and quote balances once
    assert len(nonce_words) == 2  # the word of alice's nonce 1, and bob's nonces 1 and 2
    receipt = send(w3, vault.functions.settle(*args), owner.checksum)
    assert len(vault.events.Filled().process_receipt(receipt)) == 2
    assert vault.functions.filledAmount(sell.as_tuple()).call() == 7 * E18
    assert bal(vault, alice, base) == 493 * E18 and bal(vault, alice, quote) == 514 * E18 - 14
    assert bal(vault, bob, base) == 507 * E18 - 7 and bal(vault, bob, quote) == 486 * E18
    assert (vault.functions.balanceOf(recipient, base.address).call(),
            vault.functions.balanceOf(recipient, quote.address).call()) == (fees_before[0] + 7, fees_before[1] + 14)
    # the rest of the sell order, and no more, in a later batch
    third = order(market, bob, True, 4 * E18, 2 * PRICE_SCALE, 3)
    reverts(w3, settle_call(vault, 2, [signed_fill(w3, vault, sell, alice.key, third, bob.key,
                                                                    4 * E18)]), owner.checksum, "settlement: overfill")
    send(w3, settle_call(vault, 2, [signed_fill(w3, vault, sell, alice.key, third, bob.key, 3 * E18)]),
         owner.checksum)


def test_a_batch_whose_packing_is_malformed_reverts(w3: Any, vault: Any, market: Any) -> None:
    """Bits outside the packed fields, indexes past the batch's lists, lists out of order or with a repeat, an order
    or fill naming another entry than its own, and orders of different pairs revert the batch: nothing in a head
    or list is ignored."""
    alice, bob, owner = market["alice"], market["bob"], market["owner"].checksum
    sell = order(market, alice, False, E18, PRICE_SCALE, 1)
    buy = order(market, bob, True, E18, PRICE_SCALE, 65)  # a nonce in bob's second word of 64
    args = settle_args(1, [signed_fill(w3, vault, sell, alice.key, buy, bob.key, E18)])
    batch, tokens, accounts, balances, nonce_words, orders, fills = args

    def settle(**changed: Any) -> Any:
        given = {"tokens": tokens, "accounts": accounts, "balances": balances, "nonce_words": nonce_words,
                 "orders": orders, "fills": fills, **changed}
        return vault.functions.settle(batch, *given.values())

    def with_order_head(index: int, head: int) -> list[Any]:
        changed = list(orders)
        changed[index] = (head, *orders[index][1:])
        return changed

    def with_fill_head(head: int) -> list[Any]:
        return [(head, *fills[0][1:])]

    for bit in (17, 23, 128, 255):
        reverts(w3, settle(orders=with_order_head(0, orders[0][0] | 1 << bit)), owner, "settlement: malformed order")
    for head in (orders[1][0] | 2 << 40,  # a quote token index past the list
                 orders[1][0] | 2,  # an account index past it
                 orders[1][0] | 2 << 112,  # a nonce word index past it
                 orders[1][0] ^ (orders[1][0] >> 112 ^ orders[0][0] >> 112) << 112):  # alice's nonce word for bob's
        reverts(w3, settle(orders=with_order_head(1, head)), owner, "settlement: malformed order")
    for head in (fills[0][0] | 1 << 34, fills[0][0] | 1 << 39, fills[0][0] | 1 << 100, fills[0][0] | 1 << 127,
                 (fills[0][0] & ~0xFFFF) | 2, fills[0][0] | 5 << 16):
        reverts(w3, settle(fills=with_fill_head(head)), owner, "settlement: malformed fill")
    reverts(w3, settle(tokens=tokens[::-1]), owner, "settlement: malformed token list")
    reverts(w3, settle(tokens=[tokens[0], tokens[0]]), owner, "settlement: malformed token list")
    reverts(w3, settle(accounts=accounts[::-1]), owner, "settlement: malformed account list")
    for changed in (balances[::-1], [balances[0], *balances], [*balances, balances[-1] + (2 << 16)],
                    [*balances, balances[-1] + 2]):
        reverts(w3, settle(balances=changed), owner, "settlement: malformed balance list")
    for words in (nonce_words[::-1], [nonce_words[0], *nonce_words], [*nonce_words, nonce_words[-1] + 2]):
        reverts(w3, settle(nonce_words=words), owner, "settlement: malformed nonce list")
    seller_base, buyer_base = (fills[0][0] >> 40) & 1023, (fills[0][0] >> 60) & 1023
    swapped = fills[0][0] & ~(1023 << 40) & ~(1023 << 60) | buyer_base << 40 | seller_base << 60
    reverts(w3, settle(fills=with_fill_head(swapped)), owner, "settlement: wrong balance index")
    reverts(w3, settle(fills=with_fill_head(fills[0][0] | 1023 << 70)), owner, "settlement: wrong balance index")
    other_pair = Order(bob.checksum, market["quote"].address, market["base"].address, True, E18, PRICE_SCALE, FAR, 2,
                       30)  # the same tokens the other way round
    reverts(w3, settle_call(vault, 1, [signed_fill(w3, vault, sell, alice.key, other_pair, bob.key,
                                                                    E18)]), owner, "settlement: pair mismatch")
    send(w3, settle(), owner)
    assert vault.functions.filledAmount(buy.as_tuple()).call() == E18  # marked in bob's word of nonce 65


def test_the_python_bound_on_a_batch_is_the_vaults(vault: Any) -> None:
    from contracts.settlement import BATCH_FORMAT, MAX_FILLS

    assert vault.functions.BATCH_FORMAT().call() == BATCH_FORMAT
    assert vault.functions.MAX_FILLS().call() == MAX_FILLS

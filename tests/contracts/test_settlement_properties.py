"""Property: settlement never creates value, and never fills beyond what was signed or below a limit."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from contracts.deploy import deploy
from contracts.settlement import PRICE_SCALE, Order, fill_tuple, settle_args, sign_order

from .conftest import send, settle_call

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
        send(w3, settle_call(vault, 1, batch), owner.checksum)
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
        call = settle_call(vault, 1, [fill])
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


admin_calls = st.lists(st.one_of(
    st.tuples(st.just("settle"), st.one_of(st.integers(0, 2**70), st.just(2**256 - 1), st.integers(0, 2**256 - 1))),
    st.tuples(st.just("setWithdrawalDelay"), st.one_of(st.integers(0, 300), st.integers(0, 2**256 - 1))),
    st.tuples(st.just("setFeeDiscount"), st.integers(0, 20_000)),
    st.tuples(st.just("setPlatformTokenRate"), st.integers(0, 2**256 - 1)),
    st.tuples(st.just("setFeeRecipient"), st.sampled_from([1, 2])),
), max_size=10)


@settings()
@given(calls=admin_calls)
@example(calls=[("settle", 2**256 - 1)])  # the review's call: it used up every batch id
@example(calls=[("setWithdrawalDelay", 2**256 - 1)])  # and this one closed the escape hatch
def test_no_owner_or_operator_calls_make_settlement_or_the_escape_hatch_unusable(
        w3: Any, accounts: Any, calls: list[tuple[str, int]]) -> None:
    from web3.exceptions import ContractLogicError

    owner, alice, bob = accounts[0], accounts[1], accounts[2]
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        base, quote, vault = _funded_vault(w3, owner, (alice, bob), 1_000 * E18)
        for name, value in calls:
            args = {"settle": lambda: settle_args(value, []), "setPlatformTokenRate": lambda: (base.address, value),
                    "setFeeRecipient": lambda: (accounts[value].checksum,)}.get(name, lambda: (value,))()
            call = getattr(vault.functions, name)(*args)
            try:
                call.call({"from": owner.checksum})
            except ContractLogicError:
                continue  # refused: nothing changed
            send(w3, call, owner.checksum)
        # a later valid batch still settles
        chain_id = w3.eth.chain_id
        maker = Order(alice.checksum, base.address, quote.address, False, E18, PRICE_SCALE, FAR, 1, 30)
        taker = Order(bob.checksum, base.address, quote.address, True, E18, PRICE_SCALE, FAR, 1, 30)
        fill = fill_tuple(maker, taker, sign_order(maker, alice.key.to_bytes(), chain_id, vault.address),
                          sign_order(taker, bob.key.to_bytes(), chain_id, vault.address), E18)
        receipt = send(w3, settle_call(vault, vault.functions.lastBatchId().call() + 1, [fill]), owner.checksum)
        assert len(vault.events.Filled().process_receipt(receipt)) == 1
        # and the escape hatch still opens, no later than the capped delay
        send(w3, vault.functions.requestWithdrawal(base.address, E18), alice.checksum)
        requested = w3.eth.block_number
        unlock = vault.functions.withdrawalUnlockBlock(alice.checksum, base.address).call()
        assert unlock <= requested + vault.functions.MAX_WITHDRAWAL_DELAY().call()
        if unlock > requested:
            w3.provider.make_request("anvil_mine", [hex(min(unlock - requested, 1_000))])
        if w3.eth.block_number >= unlock:
            send(w3, vault.functions.withdraw(base.address), alice.checksum)
            assert base.functions.balanceOf(alice.checksum).call() == 1_001 * E18
    finally:
        assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True


platform_fees = st.lists(st.tuples(
    st.integers(min_value=0, max_value=3 * PRICE_SCALE),  # the rate the taker signed (BRS per base unit)
    st.integers(min_value=0, max_value=10 * E18),  # the platform-token fee the operator puts in the fill
    st.integers(min_value=1, max_value=20),  # base amount, whole units
), min_size=1, max_size=5)


@settings()
@given(plan=platform_fees)
def test_platform_token_fees_never_exceed_what_the_order_signed(w3: Any, accounts: Any,
                                                                plan: list[tuple[int, int, int]]) -> None:
    from web3.exceptions import ContractLogicError

    owner, alice, bob = accounts[0], accounts[1], accounts[2]
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        brs = deploy(w3, "PlatformToken", "BRS", "BRS", 10**30)
        base = deploy(w3, "PlatformToken", "B", "B", 10**30)
        vault = deploy(w3, "SettlementVault", brs.address, 2_500, 0)
        for user in (alice, bob):
            for token in (brs, base):
                send(w3, token.functions.transfer(user.checksum, 1_000 * E18), owner.checksum)
                send(w3, token.functions.approve(vault.address, 2**256 - 1), user.checksum)
                send(w3, vault.functions.deposit(token.address, 1_000 * E18), user.checksum)
        send(w3, vault.functions.setPlatformTokenRate(base.address, 2**255), owner.checksum)  # the owner's rate: moot
        chain_id = w3.eth.chain_id
        for i, (rate, fee, amount) in enumerate(plan):
            maker = Order(alice.checksum, base.address, brs.address, False, amount * E18, PRICE_SCALE, FAR, i, 30)
            taker = Order(bob.checksum, base.address, brs.address, True, amount * E18, PRICE_SCALE, FAR, i, 30, rate)
            fill = fill_tuple(maker, taker, sign_order(maker, alice.key.to_bytes(), chain_id, vault.address),
                              sign_order(taker, bob.key.to_bytes(), chain_id, vault.address), amount * E18, 0, fee,
                              False, True)
            before = vault.functions.balanceOf(bob.checksum, brs.address).call()
            call = settle_call(vault, i + 1, [fill])
            within = fee * PRICE_SCALE <= amount * E18 * rate
            try:
                call.call({"from": owner.checksum})
            except ContractLogicError as exc:
                assert not within and "taker fee above signed maximum" in exc.message
                continue
            assert within
            send(w3, call, owner.checksum)
            paid = before - amount * E18 - vault.functions.balanceOf(bob.checksum, brs.address).call()  # less quote
            assert paid == fee and paid * PRICE_SCALE <= amount * E18 * rate
    finally:
        assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True


agent_plans = st.lists(st.one_of(
    st.tuples(st.just("approve"), st.integers(min_value=1, max_value=500)),  # by transaction, expiry in seconds
    st.tuples(st.just("approve_by_sig"), st.integers(min_value=1, max_value=500)),
    st.tuples(st.just("revoke"), st.just(0)),
    st.tuples(st.just("wait"), st.integers(min_value=1, max_value=400)),
    st.tuples(st.just("settle"), st.integers(min_value=1, max_value=5)),  # base amount, whole units
), min_size=1, max_size=12)


@settings()
@given(plan=agent_plans)
def test_an_agents_orders_settle_only_while_its_approval_lives(w3: Any, accounts: Any,
                                                              plan: list[tuple[str, int]]) -> None:
    """Whatever the maker does (approve by transaction or by signature, revoke, let it expire), a fill of an
    agent-signed order settles exactly when the agent is live at that block; before any approval it reverts; the
    agent can neither move the maker's funds nor approve another agent."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    from contracts.settlement import agent_approval
    owner, alice, bob = accounts[0], accounts[1], accounts[2]
    agent = Account.create()
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        base, quote, vault = _funded_vault(w3, owner, (alice, bob), 1_000 * E18)
        chain_id = w3.eth.chain_id
        expiry, ever_approved, batch, nonce = 0, False, 0, 0
        for step, (action, value) in enumerate(plan):
            now = w3.eth.get_block("latest")["timestamp"]
            if action in ("approve", "approve_by_sig"):
                expiry = now + value + 5
                if action == "approve":
                    send(w3, vault.functions.approveAgent(agent.address, expiry), alice.checksum)
                else:
                    typed = agent_approval(alice.checksum, agent.address, expiry, nonce, chain_id, vault.address)
                    signed = Account.sign_message(encode_typed_data(full_message=typed), alice.key.to_bytes())
                    send(w3, vault.functions.approveAgentBySig(alice.checksum, agent.address, expiry, nonce, signed.v,
                                                               signed.r.to_bytes(32, "big"),
                                                               signed.s.to_bytes(32, "big")), owner.checksum)
                    nonce += 1
                ever_approved = True
            elif action == "revoke":
                if ever_approved:
                    send(w3, vault.functions.revokeAgent(agent.address), alice.checksum)
                    expiry = 1
            elif action == "wait":
                w3.provider.make_request("evm_increaseTime", [value])
                w3.provider.make_request("evm_mine", [])
            else:
                sell = Order(alice.checksum, base.address, quote.address, False, value * E18, PRICE_SCALE, FAR, step, 30)
                buy = Order(bob.checksum, base.address, quote.address, True, value * E18, PRICE_SCALE, FAR, step, 30)
                fill = fill_tuple(sell, buy, sign_order(sell, agent.key, chain_id, vault.address),
                                  sign_order(buy, bob.key.to_bytes(), chain_id, vault.address), value * E18)
                before = vault.functions.balanceOf(bob.checksum, base.address).call()
                batch += 1
                call = settle_call(vault, batch, [fill])
                if not ever_approved:
                    with pytest.raises(Exception):
                        call.call({"from": owner.checksum})
                    batch -= 1
                    continue
                receipt = send(w3, call, owner.checksum)
                mined_at = w3.eth.get_block(receipt["blockNumber"])["timestamp"]
                live = mined_at <= expiry
                after = vault.functions.balanceOf(bob.checksum, base.address).call()
                assert (after - before == value * E18) == live, (action, expiry, mined_at)
                skipped = vault.events.FillSkipped().process_receipt(receipt)
                assert [e["args"]["reason"] for e in skipped] == ([] if live else [5])
        # the agent holds no power over the maker's funds or approvals
        with pytest.raises(Exception):
            vault.functions.withdraw(base.address).call({"from": agent.address})
        assert vault.functions.balanceOf(agent.address, base.address).call() == 0
        typed = agent_approval(alice.checksum, bob.checksum, FAR, nonce, chain_id, vault.address)
        forged = Account.sign_message(encode_typed_data(full_message=typed), agent.key)
        with pytest.raises(Exception):
            vault.functions.approveAgentBySig(alice.checksum, bob.checksum, FAR, nonce, forged.v,
                                              forged.r.to_bytes(32, "big"), forged.s.to_bytes(32, "big")).call(
                {"from": owner.checksum})
    finally:
        w3.provider.make_request("evm_revert", [snapshot])


netting_plans = st.tuples(
    st.lists(st.integers(min_value=0, max_value=40), min_size=9, max_size=9),  # deposits: trader x token, whole units
    st.lists(st.tuples(
        st.sampled_from([(0, 1), (2, 1), (0, 2)]),  # (base, quote) of B, Q, P: P (the platform token) either side
        st.integers(min_value=0, max_value=2), st.integers(min_value=0, max_value=2),  # maker, taker (may be one)
        st.booleans(),  # the maker sells
        st.integers(min_value=1, max_value=15),  # base amount, whole units
        st.integers(min_value=1, max_value=3),  # price, whole quote units per base unit
        st.integers(min_value=0, max_value=30), st.integers(min_value=0, max_value=30),  # fees, bps or % of P
        st.booleans(), st.booleans(),  # maker's and taker's fee in the platform token (where it may be)
    ), min_size=1, max_size=12),
)


@settings()
@given(plan=netting_plans)
def test_a_batch_moves_balances_as_its_fills_would_one_by_one(w3: Any, accounts: Any,
                                                               plan: tuple[list[int], list[tuple[Any, ...]]]) -> None:
    """The vault reads each (account, token) balance of a batch once, moves it in memory and writes it once. A batch
    of random fills among three traders - one of them the fee recipient, self-trades, the platform token on either
    side of a pair and paying fees, balances short enough that fills are skipped - ends with every balance, skip
    and fee exactly as a model that settles the fills one at a time."""
    deposits, fills_plan = plan
    owner, traders = accounts[0], accounts[1:4]
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        tokens = [deploy(w3, "PlatformToken", name, name, 10**30) for name in ("B", "Q", "P")]
        vault = deploy(w3, "SettlementVault", tokens[2].address, 2_500, 0)
        send(w3, vault.functions.setFeeRecipient(traders[0].checksum), owner.checksum)
        model = {}
        for t, trader in enumerate(traders):
            for k, token in enumerate(tokens):
                amount = deposits[t * 3 + k] * E18
                model[t, k] = amount
                if amount:
                    send(w3, token.functions.transfer(trader.checksum, amount), owner.checksum)
                    send(w3, token.functions.approve(vault.address, amount), trader.checksum)
                    send(w3, vault.functions.deposit(token.address, amount), trader.checksum)
        chain_id, batch, skips, recipient_fees = w3.eth.chain_id, [], [], {0: 0, 1: 0, 2: 0}
        for i, ((b, q), m, t, maker_sells, amount, price, m_fee, t_fee, m_pt, t_pt) in enumerate(fills_plan):
            base, quote = amount * E18, amount * E18 * price
            sides = []  # (trader, sells, gets, fee, fee in P) of maker then taker
            for who, sells, fee, in_p in ((m, maker_sells, m_fee, m_pt), (t, not maker_sells, t_fee, t_pt)):
                receives = q if sells else b
                gets = quote if sells else base
                in_p = in_p and receives != 2  # no fee in the platform token while receiving it
                sides.append((who, sells, gets, gets * fee // (100 if in_p else 10_000), in_p))
            orders = [Order(traders[who].checksum, tokens[b].address, tokens[q].address, not sells, base,
                            price * PRICE_SCALE, FAR, 2 * i + n, 30, PRICE_SCALE) for n, (who, sells, *_) in
                      enumerate(sides)]
            batch.append(fill_tuple(*orders, *(sign_order(o, traders[who].key.to_bytes(), chain_id, vault.address)
                                               for o, (who, *_) in zip(orders, sides, strict=True)),
                                    base, sides[0][3], sides[1][3], sides[0][4], sides[1][4]))
            (seller, _, _, seller_fee, seller_in_p), (buyer, _, _, buyer_fee, buyer_in_p) = \
                sorted(sides, key=lambda side: not side[1])
            # what each side pays, debited in turn: a balance paid from twice (an account on both sides, a fee in
            # the token it also pays) must cover both, or the fill is skipped and nothing moves
            debits = [(seller, b, base), (seller, 2, seller_fee if seller_in_p else 0), (buyer, q, quote),
                      (buyer, 2, buyer_fee if buyer_in_p else 0)]
            paid = dict(model)
            for n, (who, token, owed) in enumerate(debits):
                if paid[who, token] < owed:
                    skips.append((i, 3 if n < 2 else 4))
                    break
                paid[who, token] -= owed
            else:
                model = paid
            if skips and skips[-1][0] == i:
                continue
            for who, token, gets, fee, in_p in ((buyer, b, base, buyer_fee, buyer_in_p),
                                                (seller, q, quote, seller_fee, seller_in_p)):
                model[who, token] += gets if in_p else gets - fee
                recipient_fees[2 if in_p else token] += fee
        receipt = send(w3, settle_call(vault, 1, batch), owner.checksum)
        assert [(e["args"]["index"], e["args"]["reason"]) for e in vault.events.FillSkipped().process_receipt(
            receipt)] == skips
        assert len(vault.events.Filled().process_receipt(receipt)) == len(batch) - len(skips)
        for k in range(3):
            model[0, k] += recipient_fees[k]
        for (t, k), expected in model.items():
            assert vault.functions.balanceOf(traders[t].checksum, tokens[k].address).call() == expected, (t, k)
    finally:
        assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True


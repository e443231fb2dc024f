"""AMM factory, pair and router: behaviour and revert paths, positive next to negative."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.deploy import at, deploy
from contracts.predeploy import SWAP_FEE_BPS, address_of

from .conftest import reverts, send

E18 = 10**18
FAR = 2**40  # a deadline far in the future
ZERO = "0x" + "00" * 20


@pytest.fixture
def tokens(w3: Any, router: Any) -> tuple[Any, Any, Any]:
    me = w3.eth.accounts[0]
    made = [deploy(w3, "PlatformToken", name, name, 10**30) for name in ("Alpha", "Beta", "Gamma")]
    for t in made:
        send(w3, t.functions.approve(router.address, 2**256 - 1), me)
    return made[0], made[1], made[2]


def _add(w3: Any, router: Any, a: Any, b: Any, amount_a: int, amount_b: int) -> Any:
    me = w3.eth.accounts[0]
    return send(w3, router.functions.addLiquidity(a.address, b.address, amount_a, amount_b, 0, 0, me, FAR), me)


def _pair(w3: Any, factory: Any, a: Any, b: Any) -> Any:
    return at(w3, "AmmPair", factory.functions.getPair(a.address, b.address).call())


def test_factory_creates_one_pair_per_token_pair(w3: Any, factory: Any, tokens: Any) -> None:
    a, b, _ = tokens
    me = w3.eth.accounts[0]
    receipt = send(w3, factory.functions.createPair(a.address, b.address), me)
    event = factory.events.PairCreated().process_receipt(receipt)[0]["args"]
    pair = factory.functions.getPair(a.address, b.address).call()
    assert pair == factory.functions.getPair(b.address, a.address).call() == event["pair"]
    assert factory.functions.allPairs(event["allPairsLength"] - 1).call() == pair
    assert sorted([event["token0"], event["token1"]], key=lambda x: int(x, 16)) == [event["token0"], event["token1"]]
    assert at(w3, "AmmPair", pair).functions.swapFeeBps().call() == SWAP_FEE_BPS
    reverts(w3, factory.functions.createPair(b.address, a.address), me, "factory: pair exists")
    reverts(w3, factory.functions.createPair(a.address, a.address), me, "factory: identical addresses")
    reverts(w3, factory.functions.createPair(ZERO, a.address), me, "factory: zero address")


def test_fee_switch_belongs_to_the_setter(w3: Any, factory: Any) -> None:
    me, other = w3.eth.accounts[0], w3.eth.accounts[1]
    reverts(w3, factory.functions.setFeeTo(other), other, "factory: forbidden")
    send(w3, factory.functions.setFeeTo(other), me)
    assert factory.functions.feeTo().call() == other
    send(w3, factory.functions.setFeeToSetter(other), me)
    reverts(w3, factory.functions.setFeeTo(me), me, "factory: forbidden")


def test_first_liquidity_locks_minimum_liquidity(w3: Any, router: Any, factory: Any, tokens: Any) -> None:
    a, b, _ = tokens
    _add(w3, router, a, b, 4 * E18, E18)
    pair = _pair(w3, factory, a, b)
    assert pair.functions.totalSupply().call() == 2 * E18  # sqrt(4e18 * 1e18)
    assert pair.functions.balanceOf(ZERO).call() == 1000
    assert pair.functions.balanceOf(w3.eth.accounts[0]).call() == 2 * E18 - 1000


def test_add_liquidity_keeps_the_ratio_and_respects_minimums(w3: Any, router: Any, tokens: Any) -> None:
    a, b, _ = tokens
    me = w3.eth.accounts[0]
    _add(w3, router, a, b, 2 * E18, E18)
    amounts = router.functions.addLiquidity(a.address, b.address, 2 * E18, 5 * E18, 0, 0, me, FAR).call({"from": me})
    assert amounts[:2] == [2 * E18, E18]
    reverts(w3, router.functions.addLiquidity(a.address, b.address, 2 * E18, 5 * E18, 0, 2 * E18, me, FAR), me,
            "router: insufficient B amount")
    reverts(w3, router.functions.addLiquidity(a.address, b.address, 2 * E18, E18 // 2, 2 * E18, 0, me, FAR), me,
            "router: insufficient A amount")
    reverts(w3, router.functions.addLiquidity(a.address, b.address, 1, 1, 0, 0, me, 1), me, "router: expired")


def test_remove_liquidity_returns_both_tokens(w3: Any, router: Any, factory: Any, tokens: Any) -> None:
    a, b, _ = tokens
    me = w3.eth.accounts[0]
    _add(w3, router, a, b, 4 * E18, E18)
    pair = _pair(w3, factory, a, b)
    liquidity = pair.functions.balanceOf(me).call()
    send(w3, pair.functions.approve(router.address, liquidity), me)
    before_a = a.functions.balanceOf(me).call()
    reverts(w3, router.functions.removeLiquidity(a.address, b.address, liquidity, 4 * E18, 0, me, FAR), me,
            "router: insufficient A amount")
    send(w3, router.functions.removeLiquidity(a.address, b.address, liquidity, 0, 0, me, FAR), me)
    assert a.functions.balanceOf(me).call() - before_a == 4 * E18 - 2000  # the locked share stays
    assert pair.functions.balanceOf(me).call() == 0


def test_exact_input_and_exact_output_swaps_match_quotes(w3: Any, router: Any, tokens: Any) -> None:
    a, b, c = tokens
    me = w3.eth.accounts[0]
    _add(w3, router, a, b, 10 * E18, 10 * E18)
    _add(w3, router, b, c, 10 * E18, 20 * E18)
    path = [a.address, b.address, c.address]
    quoted = router.functions.getAmountsOut(E18, path).call()
    before = c.functions.balanceOf(me).call()
    send(w3, router.functions.swapExactTokensForTokens(E18, quoted[-1], path, me, FAR), me)
    assert c.functions.balanceOf(me).call() - before == quoted[-1]
    reverts(w3, router.functions.swapExactTokensForTokens(E18, 10 * E18, path, me, FAR), me,
            "router: insufficient output amount")
    needed = router.functions.getAmountsIn(E18, path).call()
    spent = a.functions.balanceOf(me).call()
    send(w3, router.functions.swapTokensForExactTokens(E18, needed[0], path, me, FAR), me)
    assert spent - a.functions.balanceOf(me).call() == needed[0]
    reverts(w3, router.functions.swapTokensForExactTokens(E18, 1, path, me, FAR), me, "router: excessive input amount")
    reverts(w3, router.functions.swapExactTokensForTokens(E18, 0, [a.address], me, FAR), me, "router: invalid path")


def test_get_amount_out_and_in_follow_the_fee(router: Any) -> None:
    out = router.functions.getAmountOut(E18, 5 * E18, 10 * E18).call()
    assert out == E18 * 9975 * 10 * E18 // (5 * E18 * 10_000 + E18 * 9975)
    needed = router.functions.getAmountIn(out, 5 * E18, 10 * E18).call()
    assert router.functions.getAmountOut(needed, 5 * E18, 10 * E18).call() >= out
    assert router.functions.quote(E18, 5 * E18, 10 * E18).call() == 2 * E18


def test_native_coin_liquidity_and_swaps(w3: Any, router: Any, factory: Any, tokens: Any, wrapped: Any) -> None:
    a, _, _ = tokens
    me = w3.eth.accounts[0]
    send(w3, router.functions.addLiquidityETH(a.address, 10 * E18, 0, 0, me, FAR), me, value=5 * E18)
    pair = _pair(w3, factory, a, wrapped)
    assert wrapped.functions.balanceOf(pair.address).call() == 5 * E18
    path_in = [wrapped.address, a.address]
    quoted = router.functions.getAmountsOut(E18, path_in).call()
    before = a.functions.balanceOf(me).call()
    send(w3, router.functions.swapExactETHForTokens(0, path_in, me, FAR), me, value=E18)
    assert a.functions.balanceOf(me).call() - before == quoted[1]
    path_out = [a.address, wrapped.address]
    balance = w3.eth.get_balance(me)
    receipt = send(w3, router.functions.swapExactTokensForETH(E18, 0, path_out, me, FAR), me)
    gained = w3.eth.get_balance(me) - balance + receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert gained == router.functions.getAmountsOut(E18, path_out).call(block_identifier=receipt["blockNumber"] - 1)[1]
    send(w3, router.functions.swapTokensForExactETH(E18 // 10, 10 * E18, path_out, me, FAR), me)
    balance = w3.eth.get_balance(me)
    receipt = send(w3, router.functions.swapETHForExactTokens(E18, path_in, me, FAR), me, value=5 * E18)
    spent = balance - w3.eth.get_balance(me) - receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert spent < 5 * E18  # the unused rest was refunded
    reverts(w3, router.functions.swapExactETHForTokens(0, [a.address, wrapped.address], me, FAR), me,
            "router: invalid path")
    liquidity = pair.functions.balanceOf(me).call()
    send(w3, pair.functions.approve(router.address, liquidity), me)
    send(w3, router.functions.removeLiquidityETH(a.address, liquidity, 0, 0, me, FAR), me)
    assert pair.functions.balanceOf(me).call() == 0
    reverts(w3, router.functions.addLiquidity(a.address, a.address, 1, 1, 0, 0, me, FAR), me,
            "factory: identical addresses")


def test_router_refuses_stray_native_coin(w3: Any, router: Any) -> None:
    from web3.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError, match="router: only from wrapped native"):
        w3.eth.call({"from": w3.eth.accounts[0], "to": router.address, "value": 1})


def test_pair_guards_skim_sync_and_twap(w3: Any, router: Any, factory: Any, tokens: Any) -> None:
    a, b, _ = tokens
    me = w3.eth.accounts[0]
    _add(w3, router, a, b, 10 * E18, 10 * E18)
    pair = _pair(w3, factory, a, b)
    reverts(w3, pair.functions.swap(0, 0, me, b""), me, "pair: insufficient output amount")
    reverts(w3, pair.functions.swap(0, 10 * E18, me, b""), me, "pair: insufficient liquidity")
    reverts(w3, pair.functions.swap(0, 1, pair.functions.token0().call(), b""), me, "pair: invalid to")
    reverts(w3, pair.functions.swap(0, 1, me, b""), me, "pair: insufficient input amount")
    reverts(w3, pair.functions.mint(me), me, "pair: insufficient liquidity minted")
    reverts(w3, pair.functions.burn(me), me, "pair: insufficient liquidity burned")
    send(w3, a.functions.transfer(pair.address, 5), me)
    other = w3.eth.accounts[1]
    send(w3, pair.functions.skim(other), me)
    assert a.functions.balanceOf(other).call() == 5
    send(w3, a.functions.transfer(pair.address, 7), me)
    send(w3, pair.functions.sync(), me)
    reserves = pair.functions.getReserves().call()
    assert sorted(reserves[:2]) == [10 * E18, 10 * E18 + 7]
    cumulative = pair.functions.price0CumulativeLast().call()
    w3.provider.make_request("evm_increaseTime", [100])
    send(w3, pair.functions.sync(), me)
    assert pair.functions.price0CumulativeLast().call() > cumulative


def test_protocol_fee_mints_a_share_of_growth_to_fee_to(w3: Any, router: Any, factory: Any, tokens: Any) -> None:
    a, b, _ = tokens
    me, treasury = w3.eth.accounts[0], w3.eth.accounts[2]
    send(w3, factory.functions.setFeeTo(treasury), me)
    _add(w3, router, a, b, 100 * E18, 100 * E18)
    pair = _pair(w3, factory, a, b)
    for _ in range(3):
        send(w3, router.functions.swapExactTokensForTokens(10 * E18, 0, [a.address, b.address], me, FAR), me)
        send(w3, router.functions.swapExactTokensForTokens(10 * E18, 0, [b.address, a.address], me, FAR), me)
    assert pair.functions.balanceOf(treasury).call() == 0  # minted lazily on the next mint/burn
    _add(w3, router, a, b, E18, E18)
    assert pair.functions.balanceOf(treasury).call() > 0
    assert pair.functions.kLast().call() > 0


def test_lp_token_transfers_and_allowances(w3: Any, router: Any, factory: Any, tokens: Any) -> None:
    a, b, _ = tokens
    me, other = w3.eth.accounts[0], w3.eth.accounts[1]
    _add(w3, router, a, b, E18, E18)
    pair = _pair(w3, factory, a, b)
    send(w3, pair.functions.transfer(other, 10), me)
    reverts(w3, pair.functions.transfer(me, 11), other, "pair: transfer exceeds balance")
    send(w3, pair.functions.approve(other, 5), me)
    send(w3, pair.functions.transferFrom(me, other, 5), other)
    reverts(w3, pair.functions.transferFrom(me, other, 1), other, "pair: insufficient allowance")
    assert (pair.functions.name().call(), pair.functions.decimals().call()) == ("Bourse LPs", 18)
    assert address_of("AmmFactory") == pair.functions.factory().call()

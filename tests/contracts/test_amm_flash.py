"""Flash swaps through pancakeCall, the K check on repayment, and the re-entrancy lock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contracts.deploy import at, deploy

from .conftest import send

vyper = pytest.importorskip("vyper", reason="compiling the test borrower needs vyper (a test extra)")
E18 = 10**18


@pytest.fixture
def setup(w3: Any, router: Any, factory: Any) -> dict[str, Any]:
    me = w3.eth.accounts[0]
    a = deploy(w3, "PlatformToken", "A", "A", 10**30)
    b = deploy(w3, "PlatformToken", "B", "B", 10**30)
    for t in (a, b):
        send(w3, t.functions.approve(router.address, 2**256 - 1), me)
    send(w3, router.functions.addLiquidity(a.address, b.address, 100 * E18, 100 * E18, 0, 0, me, 2**40), me)
    pair = at(w3, "AmmPair", factory.functions.getPair(a.address, b.address).call())
    token0 = a if pair.functions.token0().call() == a.address else b
    out = vyper.compile_code((Path(__file__).parent / "flash_borrower.vy").read_text(),
                             output_formats=["abi", "bytecode"])
    factory_ = w3.eth.contract(abi=out["abi"], bytecode=out["bytecode"])
    receipt = w3.eth.wait_for_transaction_receipt(factory_.constructor().transact({"from": me}))
    borrower = w3.eth.contract(address=receipt["contractAddress"], abi=out["abi"])
    send(w3, token0.functions.transfer(borrower.address, E18), me)  # enough to pay the fee
    return {"pair": pair, "token0": token0, "borrower": borrower, "me": me}


def test_flash_swap_repaid_with_fee_succeeds(w3: Any, setup: dict[str, Any]) -> None:
    pair, borrower, me = setup["pair"], setup["borrower"], setup["me"]
    loan = 10 * E18
    repay = loan * 10_000 // 9_975 + 1
    send(w3, borrower.functions.borrow(pair.address, loan, 0, repay), me)
    reserves = pair.functions.getReserves().call()
    assert max(reserves[0], reserves[1]) > 100 * E18  # the pool kept the fee


def test_flash_swap_without_the_fee_or_without_repayment_reverts(w3: Any, setup: dict[str, Any]) -> None:
    from web3.exceptions import ContractLogicError

    pair, borrower, me = setup["pair"], setup["borrower"], setup["me"]
    for mode, repay, reason in ((0, 10 * E18, "pair: K"), (2, 0, "pair: insufficient input amount")):
        with pytest.raises(ContractLogicError) as info:
            borrower.functions.borrow(pair.address, 10 * E18, mode, repay).call({"from": me})
        assert info.value.message.splitlines()[0] == f"execution reverted: {reason}"


def test_re_entering_the_pair_during_a_swap_is_refused(w3: Any, setup: dict[str, Any]) -> None:
    from web3.exceptions import ContractLogicError

    pair, borrower, me = setup["pair"], setup["borrower"], setup["me"]
    with pytest.raises(ContractLogicError):
        borrower.functions.borrow(pair.address, E18, 1, 2 * E18).call({"from": me})
    # the same loan without re-entry goes through
    send(w3, borrower.functions.borrow(pair.address, E18, 0, 2 * E18), me)

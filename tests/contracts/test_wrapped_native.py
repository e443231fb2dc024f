"""The wrapped native coin: deposit, withdraw and ERC-20, with revert paths."""

from __future__ import annotations

from typing import Any

from .conftest import reverts


def test_deposit_by_call_and_by_plain_transfer(w3: Any, wrapped: Any, accounts: Any) -> None:
    a = accounts[0].checksum
    receipt = w3.eth.wait_for_transaction_receipt(wrapped.functions.deposit().transact({"from": a, "value": 10}))
    assert wrapped.events.Deposit().process_receipt(receipt)[0]["args"]["value"] == 10
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": a, "to": wrapped.address, "value": 5}))
    assert wrapped.functions.balanceOf(a).call() == 15
    assert wrapped.functions.totalSupply().call() == 15 == w3.eth.get_balance(wrapped.address)
    assert (wrapped.functions.name().call(), wrapped.functions.symbol().call(),
            wrapped.functions.decimals().call()) == ("Wrapped BNB", "WBNB", 18)


def test_withdraw_returns_native_coin(w3: Any, wrapped: Any, accounts: Any) -> None:
    a = accounts[0].checksum
    w3.eth.wait_for_transaction_receipt(wrapped.functions.deposit().transact({"from": a, "value": 10**18}))
    before = w3.eth.get_balance(a)
    receipt = w3.eth.wait_for_transaction_receipt(wrapped.functions.withdraw(4 * 10**17).transact({"from": a}))
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert w3.eth.get_balance(a) == before + 4 * 10**17 - fee
    assert wrapped.functions.balanceOf(a).call() == 6 * 10**17
    reverts(w3, wrapped.functions.withdraw(6 * 10**17 + 1), a, "wrapped: withdraw exceeds balance")


def test_transfers_and_allowances(w3: Any, wrapped: Any, accounts: Any) -> None:
    a, b, c = (x.checksum for x in accounts[:3])
    w3.eth.wait_for_transaction_receipt(wrapped.functions.deposit().transact({"from": a, "value": 100}))
    w3.eth.wait_for_transaction_receipt(wrapped.functions.transfer(b, 30).transact({"from": a}))
    reverts(w3, wrapped.functions.transfer(c, 31), b, "wrapped: transfer exceeds balance")
    w3.eth.wait_for_transaction_receipt(wrapped.functions.approve(c, 20).transact({"from": a}))
    w3.eth.wait_for_transaction_receipt(wrapped.functions.transferFrom(a, c, 20).transact({"from": c}))
    assert wrapped.functions.balanceOf(c).call() == 20
    reverts(w3, wrapped.functions.transferFrom(a, c, 1), c, "wrapped: insufficient allowance")
    # the owner needs no allowance for its own transferFrom
    w3.eth.wait_for_transaction_receipt(wrapped.functions.transferFrom(a, c, 1).transact({"from": a}))
    assert wrapped.functions.balanceOf(a).call() == 49

from __future__ import annotations

from typing import Any

import pytest

from contracts import load
from contracts.predeploy import address_of


@pytest.fixture
def router(w3: Any) -> Any:
    return w3.eth.contract(address=address_of("AmmRouter"), abi=load("AmmRouter").abi)


@pytest.fixture
def factory(w3: Any) -> Any:
    return w3.eth.contract(address=address_of("AmmFactory"), abi=load("AmmFactory").abi)


@pytest.fixture
def token(w3: Any) -> Any:
    return w3.eth.contract(address=address_of("PlatformToken"), abi=load("PlatformToken").abi)


@pytest.fixture
def wrapped(w3: Any) -> Any:
    return w3.eth.contract(address=address_of("WrappedNative"), abi=load("WrappedNative").abi)


def reverts(w3: Any, call: Any, sender: str, reason: str) -> None:
    """The transaction reverts with exactly `reason` (checked via eth_call, then not mined)."""
    from web3.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError) as info:
        call.call({"from": sender})
    assert info.value.message == f"execution reverted: {reason}", info.value.message


def send(w3: Any, call: Any, sender: str, value: int = 0) -> Any:
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender, "value": value}))
    assert receipt["status"] == 1
    return receipt

from __future__ import annotations

from typing import Any

import pytest

from contracts import load
from contracts.predeploy import address_of


def _predeployed(w3: Any, name: str) -> Any:
    return w3.eth.contract(address=address_of(name), abi=load(name).abi)


@pytest.fixture
def router(w3: Any) -> Any:
    return _predeployed(w3, "AmmRouter")


@pytest.fixture
def factory(w3: Any) -> Any:
    return _predeployed(w3, "AmmFactory")


@pytest.fixture
def token(w3: Any) -> Any:
    return _predeployed(w3, "PlatformToken")


@pytest.fixture
def wrapped(w3: Any) -> Any:
    return _predeployed(w3, "WrappedNative")


def reverts(w3: Any, call: Any, sender: str, reason: str) -> None:
    """The transaction reverts with exactly `reason` (checked via eth_call, then not mined). The lines after the
    first are where in the source it reverted (the node knows the platform contracts' sources)."""
    from web3.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError) as info:
        call.call({"from": sender})
    assert info.value.message.splitlines()[0] == f"execution reverted: {reason}", info.value.message


def settle_call(vault: Any, batch_id: int, fills: list[Any]) -> Any:
    """The vault's settle() call for `fills` (contracts.settlement.fill_tuple's), packed as the settler packs them."""
    from contracts.settlement import settle_args

    return vault.functions.settle(*settle_args(batch_id, fills, vault.functions.platformToken().call()))


def send(w3: Any, call: Any, sender: str, value: int = 0) -> Any:
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender, "value": value}))
    assert receipt["status"] == 1
    return receipt

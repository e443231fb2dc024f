"""The multisig vault: threshold signatures, sorted unique owners, self-governed owner changes."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from contracts.deploy import deploy
from contracts.multisig import sign, sorted_signatures

E18 = 10**18


@pytest.fixture
def owners(accounts: Any) -> list[Any]:
    return sorted(accounts[1:4], key=lambda a: int(a.checksum, 16))


@pytest.fixture
def vault(w3: Any, owners: list[Any]) -> Any:
    contract = deploy(w3, "MultisigVault", [o.checksum for o in owners], 2)
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(
        {"from": w3.eth.accounts[0], "to": contract.address, "value": 5 * E18}))
    return contract


def _signed(w3: Any, vault: Any, signers: list[Any], to: str, value: int, data: bytes, nonce: int | None = None) -> Any:
    n = vault.functions.nonce().call() if nonce is None else nonce
    return sorted_signatures([sign(s.key.to_bytes(), vault.address, w3.eth.chain_id, to, value, data, n)
                              for s in signers])


def _execute(w3: Any, vault: Any, to: str, value: int, data: bytes, sigs: Any, sender: str | None = None) -> Any:
    call = vault.functions.execute(to, value, data, sigs)
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender or w3.eth.accounts[0]}))
    assert receipt["status"] == 1
    return receipt


def _reverts(vault: Any, to: str, value: int, data: bytes, sigs: Any, reason: str) -> None:
    from web3.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError) as info:
        vault.functions.execute(to, value, data, sigs).call()
    assert info.value.message == f"execution reverted: {reason}"


def test_threshold_of_owners_sends_native_coin(w3: Any, vault: Any, owners: list[Any], accounts: Any) -> None:
    dest = accounts[5].checksum
    before = w3.eth.get_balance(dest)
    sigs = _signed(w3, vault, owners[:2], dest, E18, b"")
    receipt = _execute(w3, vault, dest, E18, b"", sigs, sender=accounts[6].checksum)  # anyone may submit
    assert w3.eth.get_balance(dest) == before + E18
    assert vault.events.Executed().process_receipt(receipt)[0]["args"]["nonce"] == 0
    assert vault.functions.nonce().call() == 1
    _reverts(vault, dest, E18, b"", sigs, "multisig: signer is not an owner")  # replay: the nonce moved on


def test_erc20_transfer_through_the_vault(w3: Any, vault: Any, owners: list[Any], accounts: Any) -> None:
    token = deploy(w3, "PlatformToken", "T", "T", 10**24)
    w3.eth.wait_for_transaction_receipt(token.functions.transfer(vault.address, 1000).transact(
        {"from": w3.eth.accounts[0]}))
    data = function_signature_to_4byte_selector("transfer(address,uint256)") + encode(
        ["address", "uint256"], [accounts[5].checksum, 400])
    _execute(w3, vault, token.address, 0, data, _signed(w3, vault, owners[1:], token.address, 0, data))
    assert token.functions.balanceOf(accounts[5].checksum).call() == 400


def test_bad_signature_sets_are_refused(w3: Any, vault: Any, owners: list[Any], accounts: Any) -> None:
    dest = accounts[5].checksum
    one = _signed(w3, vault, owners[:1], dest, 1, b"")
    _reverts(vault, dest, 1, b"", one, "multisig: not enough signatures")
    two = _signed(w3, vault, owners[:2], dest, 1, b"")
    _reverts(vault, dest, 1, b"", list(reversed(two)), "multisig: signatures not sorted by signer")
    _reverts(vault, dest, 1, b"", [two[0], two[0]], "multisig: signatures not sorted by signer")
    stranger = _signed(w3, vault, [owners[0], accounts[7]], dest, 1, b"")
    _reverts(vault, dest, 1, b"", stranger, "multisig: signer is not an owner")
    _reverts(vault, dest, 2, b"", two, "multisig: signer is not an owner")  # signed a different value
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    v, r, s = two[0]
    flipped = (55 - v, r, (n - int.from_bytes(s, "big")).to_bytes(32, "big"))
    _reverts(vault, dest, 1, b"", [flipped, two[1]], "multisig: invalid signature")


def test_owners_change_only_through_the_vault(w3: Any, vault: Any, owners: list[Any], accounts: Any) -> None:
    from web3.exceptions import ContractLogicError

    new = sorted([owners[0].checksum, accounts[7].checksum], key=lambda a: int(a, 16))
    with pytest.raises(ContractLogicError, match="multisig: only through the vault"):
        vault.functions.setOwners(new, 1).call({"from": owners[0].checksum})
    data = vault.encode_abi("setOwners", args=[new, 1])
    data = bytes.fromhex(data[2:])
    _execute(w3, vault, vault.address, 0, data, _signed(w3, vault, owners[:2], vault.address, 0, data))
    assert vault.functions.getOwners().call() == new and vault.functions.threshold().call() == 1
    assert vault.functions.isOwner(owners[1].checksum).call() is False
    bad = vault.encode_abi("setOwners", args=[list(reversed(new)), 1])
    bad = bytes.fromhex(bad[2:])
    _reverts(vault, vault.address, 0, bad, _signed(w3, vault, [owners[0]], vault.address, 0, bad),
             "multisig: owners not sorted and unique")


def test_constructor_checks_owners_and_threshold(w3: Any, owners: list[Any]) -> None:
    from web3.exceptions import ContractLogicError

    addresses = [o.checksum for o in owners]
    cases = [((addresses, 0), "multisig: bad threshold"), ((addresses, 4), "multisig: bad threshold"),
             (([], 1), "multisig: no owners"), ((list(reversed(addresses)), 1), "multisig: owners not sorted and unique"),
             (([addresses[0], addresses[0]], 1), "multisig: owners not sorted and unique")]
    for args, reason in cases:
        with pytest.raises(ContractLogicError) as info:
            deploy(w3, "MultisigVault", *args)
        assert info.value.message == f"execution reverted: {reason}"
    assert deploy(w3, "MultisigVault", addresses, 3).functions.threshold().call() == 3

"""The multisig vault: threshold signatures, sorted unique owners, self-governed owner changes."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from contracts.deploy import deploy
from contracts.multisig import sign, sorted_signatures

E18 = 10**18
FAR = 2**63  # a deadline no test reaches


@pytest.fixture
def owners(accounts: Any) -> list[Any]:
    return sorted(accounts[1:4], key=lambda a: int(a.checksum, 16))


@pytest.fixture
def vault(w3: Any, owners: list[Any]) -> Any:
    contract = deploy(w3, "MultisigVault", [o.checksum for o in owners], 2)
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(
        {"from": w3.eth.accounts[0], "to": contract.address, "value": 5 * E18}))
    return contract


def _signed(w3: Any, vault: Any, signers: list[Any], to: str, value: int, data: bytes, nonce: int | None = None,
            deadline: int = FAR) -> Any:
    n = vault.functions.nonce().call() if nonce is None else nonce
    return sorted_signatures([sign(s.key.to_bytes(), vault.address, w3.eth.chain_id, to, value, data, n, deadline)
                              for s in signers])


def _execute(w3: Any, vault: Any, to: str, value: int, data: bytes, sigs: Any, sender: str | None = None,
             deadline: int = FAR, gas: int | None = None) -> Any:
    call = vault.functions.execute(to, value, data, deadline, sigs)
    options = {"from": sender or w3.eth.accounts[0], **({"gas": gas} if gas else {})}
    receipt = w3.eth.wait_for_transaction_receipt(call.transact(options))
    assert receipt["status"] == 1
    return receipt


def _reverts(vault: Any, to: str, value: int, data: bytes, sigs: Any, reason: str, deadline: int = FAR) -> None:
    from web3.exceptions import ContractLogicError

    with pytest.raises(ContractLogicError) as info:
        vault.functions.execute(to, value, data, deadline, sigs).call()
    assert info.value.message.splitlines()[0] == f"execution reverted: {reason}"


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
    success, revert_data = vault.functions.execute(
        vault.address, 0, bad, FAR, _signed(w3, vault, [owners[0]], vault.address, 0, bad)).call()
    assert success is False  # the call failed inside: its reason comes back as Error(string)
    assert b"multisig: owners not sorted and unique" in revert_data and revert_data[:4].hex() == "08c379a0"


def test_constructor_checks_owners_and_threshold(w3: Any, owners: list[Any]) -> None:
    from web3.exceptions import ContractLogicError

    addresses = [o.checksum for o in owners]
    cases = [((addresses, 0), "multisig: bad threshold"), ((addresses, 4), "multisig: bad threshold"),
             (([], 1), "multisig: no owners"), ((list(reversed(addresses)), 1), "multisig: owners not sorted and unique"),
             (([addresses[0], addresses[0]], 1), "multisig: owners not sorted and unique")]
    for args, reason in cases:
        with pytest.raises(ContractLogicError) as info:
            deploy(w3, "MultisigVault", *args)
        assert info.value.message.splitlines()[0] == f"execution reverted: {reason}"
    assert deploy(w3, "MultisigVault", addresses, 3).functions.threshold().call() == 3


def test_signatures_expire_at_their_deadline(w3: Any, vault: Any, owners: list[Any], accounts: Any) -> None:
    dest = accounts[5].checksum
    now = w3.eth.get_block("latest")["timestamp"]
    sigs = _signed(w3, vault, owners[:2], dest, 1, b"", deadline=now + 100)
    w3.provider.make_request("evm_increaseTime", [101])
    w3.provider.make_request("evm_mine", [])
    _reverts(vault, dest, 1, b"", sigs, "multisig: signatures expired", deadline=now + 100)
    _reverts(vault, dest, 1, b"", sigs, "multisig: signer is not an owner", deadline=FAR)  # the deadline is signed
    assert vault.functions.nonce().call() == 0


def test_a_reverting_call_uses_up_its_nonce_so_its_signatures_cannot_be_replayed(w3: Any, vault: Any,
                                                                                owners: list[Any]) -> None:
    token = deploy(w3, "PlatformToken", "T", "T", 10**24)  # the vault holds none: the transfer reverts
    data = function_signature_to_4byte_selector("transfer(address,uint256)") + encode(
        ["address", "uint256"], [owners[0].checksum, 400])
    sigs = _signed(w3, vault, owners[:2], token.address, 0, data)
    receipt = _execute(w3, vault, token.address, 0, data, sigs)
    executed = vault.events.Executed().process_receipt(receipt)[0]["args"]
    assert executed["success"] is False and executed["nonce"] == 0
    assert vault.functions.nonce().call() == 1
    w3.eth.wait_for_transaction_receipt(token.functions.transfer(vault.address, 1000).transact(
        {"from": w3.eth.accounts[0]}))  # now it would succeed, but the signatures are spent
    _reverts(vault, token.address, 0, data, sigs, "multisig: signer is not an owner")


def test_a_submitter_cannot_burn_signatures_by_sending_too_little_gas(w3: Any, vault: Any, owners: list[Any]) -> None:
    token = deploy(w3, "PlatformToken", "T", "T", 10**24)
    w3.eth.wait_for_transaction_receipt(token.functions.transfer(vault.address, 1000).transact(
        {"from": w3.eth.accounts[0]}))
    data = function_signature_to_4byte_selector("transfer(address,uint256)") + encode(
        ["address", "uint256"], [owners[0].checksum, 400])
    sigs = _signed(w3, vault, owners[:2], token.address, 0, data)
    needed = vault.functions.execute(token.address, 0, data, FAR, sigs).estimate_gas()
    tx = vault.functions.execute(token.address, 0, data, FAR, sigs).build_transaction(
        {"from": w3.eth.accounts[0], "gas": needed - 20_000})
    tx_hash = w3.eth.send_transaction(tx)
    assert w3.eth.wait_for_transaction_receipt(tx_hash)["status"] == 0  # the whole transaction reverted
    assert vault.functions.nonce().call() == 0
    _execute(w3, vault, token.address, 0, data, sigs)
    assert token.functions.balanceOf(owners[0].checksum).call() == 400

"""The platform token: every function with its revert paths, on bourse node via the pytest plugin."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from contracts.predeploy import TOKEN_NAME, TOKEN_SUPPLY, TOKEN_SYMBOL

from .conftest import reverts


def _send(w3: Any, call: Any, sender: str) -> Any:
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender}))
    assert receipt["status"] == 1
    return receipt


def test_metadata_supply_and_owner(token: Any, accounts: Any) -> None:
    owner = accounts[0].checksum
    assert token.functions.name().call() == TOKEN_NAME
    assert token.functions.symbol().call() == TOKEN_SYMBOL
    assert token.functions.decimals().call() == 18
    assert token.functions.totalSupply().call() == TOKEN_SUPPLY
    assert token.functions.balanceOf(owner).call() == TOKEN_SUPPLY
    assert token.functions.getOwner().call() == owner == token.functions.owner().call()


def test_transfer_moves_balance_and_logs(w3: Any, token: Any, accounts: Any) -> None:
    a, b = accounts[0].checksum, accounts[1].checksum
    receipt = _send(w3, token.functions.transfer(b, 5 * 10**18), a)
    event = token.events.Transfer().process_receipt(receipt)[0]["args"]
    assert (event["sender"], event["receiver"], event["value"]) == (a, b, 5 * 10**18)
    assert token.functions.balanceOf(b).call() == 5 * 10**18
    assert token.functions.balanceOf(a).call() == TOKEN_SUPPLY - 5 * 10**18


def test_transfer_beyond_balance_or_to_zero_reverts(w3: Any, token: Any, accounts: Any) -> None:
    a, b = accounts[0].checksum, accounts[1].checksum
    reverts(w3, token.functions.transfer(a, 1), b, "token: transfer exceeds balance")
    reverts(w3, token.functions.transfer("0x" + "00" * 20, 1), a, "token: transfer to the zero address")


def test_approve_and_transfer_from_spend_the_allowance(w3: Any, token: Any, accounts: Any) -> None:
    a, b, c = (x.checksum for x in accounts[:3])
    receipt = _send(w3, token.functions.approve(b, 100), a)
    assert token.events.Approval().process_receipt(receipt)[0]["args"]["value"] == 100
    _send(w3, token.functions.transferFrom(a, c, 60), b)
    assert token.functions.allowance(a, b).call() == 40
    assert token.functions.balanceOf(c).call() == 60
    reverts(w3, token.functions.transferFrom(a, c, 41), b, "token: insufficient allowance")
    reverts(w3, token.functions.approve("0x" + "00" * 20, 1), a, "token: approve to the zero address")


def test_unlimited_allowance_is_not_decreased(w3: Any, token: Any, accounts: Any) -> None:
    a, b = accounts[0].checksum, accounts[1].checksum
    _send(w3, token.functions.approve(b, 2**256 - 1), a)
    _send(w3, token.functions.transferFrom(a, b, 10), b)
    assert token.functions.allowance(a, b).call() == 2**256 - 1


def test_burn_reduces_supply(w3: Any, token: Any, accounts: Any) -> None:
    a, b = accounts[0].checksum, accounts[1].checksum
    receipt = _send(w3, token.functions.burn(7), a)
    assert token.events.Burn().process_receipt(receipt)[0]["args"]["value"] == 7
    assert token.functions.totalSupply().call() == TOKEN_SUPPLY - 7
    reverts(w3, token.functions.burn(1), b, "token: burn exceeds balance")
    reverts(w3, token.functions.burn(0), a, "token: burn of zero")


def test_freeze_and_unfreeze_move_balance_to_freeze_of_and_back(w3: Any, token: Any, accounts: Any) -> None:
    a = accounts[0].checksum
    _send(w3, token.functions.freeze(30), a)
    assert token.functions.freezeOf(a).call() == 30
    assert token.functions.balanceOf(a).call() == TOKEN_SUPPLY - 30
    assert token.functions.totalSupply().call() == TOKEN_SUPPLY
    reverts(w3, token.functions.transfer(accounts[1].checksum, TOKEN_SUPPLY), a, "token: transfer exceeds balance")
    reverts(w3, token.functions.unfreeze(31), a, "token: unfreeze exceeds frozen")
    receipt = _send(w3, token.functions.unfreeze(30), a)
    assert token.events.Unfreeze().process_receipt(receipt)[0]["args"]["value"] == 30
    assert token.functions.balanceOf(a).call() == TOKEN_SUPPLY
    reverts(w3, token.functions.freeze(TOKEN_SUPPLY + 1), a, "token: freeze exceeds balance")
    reverts(w3, token.functions.freeze(0), a, "token: freeze of zero")
    reverts(w3, token.functions.unfreeze(0), a, "token: unfreeze of zero")


def _permit_signature(w3: Any, token: Any, key: Any, spender: str, value: int, deadline: int, nonce: int) -> Any:
    owner = Account.from_key(key).address
    typed = {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "Permit": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"},
                       {"name": "value", "type": "uint256"}, {"name": "nonce", "type": "uint256"},
                       {"name": "deadline", "type": "uint256"}],
        },
        "primaryType": "Permit",
        "domain": {"name": TOKEN_NAME, "version": "1", "chainId": w3.eth.chain_id, "verifyingContract": token.address},
        "message": {"owner": owner, "spender": spender, "value": value, "nonce": nonce, "deadline": deadline},
    }
    return Account.sign_message(encode_typed_data(full_message=typed), key)


def test_permit_approves_by_signature_once(w3: Any, token: Any, accounts: Any) -> None:
    owner, spender = accounts[0], accounts[1].checksum
    deadline = w3.eth.get_block("latest")["timestamp"] + 3600
    sig = _permit_signature(w3, token, owner.key.to_bytes(), spender, 500, deadline, 0)
    permit = token.functions.permit(owner.checksum, spender, 500, deadline, sig.v, sig.r.to_bytes(32, "big"),
                                    sig.s.to_bytes(32, "big"))
    _send(w3, permit, spender)
    assert token.functions.allowance(owner.checksum, spender).call() == 500
    assert token.functions.nonces(owner.checksum).call() == 1
    reverts(w3, permit, spender, "token: invalid signature")  # replay: the nonce moved on


def test_permit_rejects_expired_wrong_signer_and_high_s(w3: Any, token: Any, accounts: Any) -> None:
    owner, spender = accounts[0], accounts[1].checksum
    now = w3.eth.get_block("latest")["timestamp"]
    sig = _permit_signature(w3, token, owner.key.to_bytes(), spender, 1, now - 1, 0)
    reverts(w3, token.functions.permit(owner.checksum, spender, 1, now - 1, sig.v, sig.r.to_bytes(32, "big"),
                                       sig.s.to_bytes(32, "big")), spender, "token: permit expired")
    sig = _permit_signature(w3, token, accounts[2].key.to_bytes(), spender, 1, now + 99, 0)
    reverts(w3, token.functions.permit(owner.checksum, spender, 1, now + 99, sig.v, sig.r.to_bytes(32, "big"),
                                       sig.s.to_bytes(32, "big")), spender, "token: invalid signature")
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    sig = _permit_signature(w3, token, owner.key.to_bytes(), spender, 1, now + 99, 0)
    high_s, flipped_v = n - sig.s, 55 - sig.v  # the malleable twin of a valid signature
    reverts(w3, token.functions.permit(owner.checksum, spender, 1, now + 99, flipped_v, sig.r.to_bytes(32, "big"),
                                       high_s.to_bytes(32, "big")), spender, "token: invalid signature")


def test_ownership_transfer_and_its_guards(w3: Any, token: Any, accounts: Any) -> None:
    a, b = accounts[0].checksum, accounts[1].checksum
    reverts(w3, token.functions.transferOwnership(b), b, "ownable: caller is not the owner")
    reverts(w3, token.functions.transferOwnership("0x" + "00" * 20), a, "ownable: new owner is the zero address")
    receipt = _send(w3, token.functions.transferOwnership(b), a)
    event = token.events.OwnershipTransferred().process_receipt(receipt)[0]["args"]
    assert (event["previous_owner"], event["new_owner"]) == (a, b)
    assert token.functions.getOwner().call() == b
    _send(w3, token.functions.renounceOwnership(), b)
    assert token.functions.owner().call() == "0x" + "00" * 20

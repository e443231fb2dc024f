from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

from contracts.deploy import deploy
from wallet.errors import TransactionFileError, WalletError
from wallet.rpc import Rpc
from wallet.vault import add_signature, execute, propose, read_proposal, status, write_proposal

from .conftest import ADDR0, ADDR1, ADDR2, KEY0, KEY1, KEY2

RECIPIENT = "0x000000000000000000000000000000000000bEEF"
ETHER = 10**18


@pytest.fixture
def vault(node_url: str) -> str:
    w3 = Web3(Web3.HTTPProvider(node_url))
    owners = sorted([ADDR0, ADDR1, ADDR2], key=lambda a: int(a, 16))
    contract = deploy(w3, "MultisigVault", owners, 2)
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": ADDR0, "to": contract.address,
                                                                 "value": 5 * ETHER}))
    return str(contract.address)


def test_status_reports_owners_threshold_nonce_and_balance(rpc: Rpc, vault: str) -> None:
    current = status(rpc, vault)
    assert sorted(current.owners) == sorted([ADDR0, ADDR1, ADDR2])
    assert (current.threshold, current.nonce, current.balance) == (2, 0, 5 * ETHER)


def test_two_owners_sign_offline_and_the_vault_pays_out(rpc: Rpc, vault: str, tmp_path: Path) -> None:
    path = tmp_path / "proposal.json"
    write_proposal(path, propose(rpc, vault, RECIPIENT, ETHER, b""))
    for key in (KEY1, KEY2):
        write_proposal(path, add_signature(read_proposal(path), key))
    receipt = execute(rpc, read_proposal(path), KEY0)
    assert receipt["status"] == "0x1"
    assert rpc.balance(RECIPIENT) == ETHER and status(rpc, vault).nonce == 1


def test_one_signature_is_not_enough_and_changes_nothing(rpc: Rpc, vault: str) -> None:
    proposal = add_signature(propose(rpc, vault, RECIPIENT, ETHER, b""), KEY1)
    with pytest.raises(WalletError, match="1 valid owner signature"):
        execute(rpc, proposal, KEY0)
    assert rpc.balance(RECIPIENT) == 0 and status(rpc, vault).nonce == 0


OUTSIDER = bytes.fromhex("7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6")  # anvil key 3


def test_a_non_owner_cannot_add_a_signature(rpc: Rpc, vault: str) -> None:
    proposal = add_signature(propose(rpc, vault, RECIPIENT, 1, b""), KEY1)
    with pytest.raises(WalletError, match="is not an owner"):
        add_signature(proposal, OUTSIDER)


def test_signatures_of_non_owners_do_not_count(rpc: Rpc, vault: str) -> None:
    from dataclasses import replace
    proposal = add_signature(propose(rpc, vault, RECIPIENT, 1, b""), KEY1)
    forged = add_signature(replace(proposal, owners=(*proposal.owners, "0x90F79bf6EB2c4f870365E785982E1f101E93b906")),
                           OUTSIDER)  # a file edited to list the outsider: the vault's own owners decide
    with pytest.raises(WalletError, match="1 valid owner signature"):
        execute(rpc, forged, KEY0)


def test_an_expired_proposal_is_refused_before_sending(rpc: Rpc, vault: str) -> None:
    proposal = add_signature(add_signature(propose(rpc, vault, RECIPIENT, 1, b"", lifetime=60), KEY1), KEY2)
    rpc.call("evm_increaseTime", 61)
    rpc.call("evm_mine")
    with pytest.raises(WalletError, match="expired"):
        execute(rpc, proposal, KEY0)
    assert status(rpc, vault).nonce == 0


def test_the_same_owner_cannot_sign_twice(rpc: Rpc, vault: str) -> None:
    proposal = add_signature(propose(rpc, vault, RECIPIENT, 1, b""), KEY1)
    with pytest.raises(WalletError, match="already signed"):
        add_signature(proposal, KEY1)


def test_a_proposal_cannot_be_executed_twice(rpc: Rpc, vault: str) -> None:
    proposal = add_signature(add_signature(propose(rpc, vault, RECIPIENT, 1, b""), KEY1), KEY2)
    execute(rpc, proposal, KEY0)
    with pytest.raises(WalletError, match="nonce 0, the vault is at 1"):
        execute(rpc, proposal, KEY0)


def test_an_edited_proposal_file_is_rejected(rpc: Rpc, vault: str, tmp_path: Path) -> None:
    path = tmp_path / "proposal.json"
    write_proposal(path, propose(rpc, vault, RECIPIENT, 1, b""))
    path.write_text(path.read_text().replace('"value": 1', '"value": 1000'))
    with pytest.raises(TransactionFileError, match="edited"):
        read_proposal(path)


def test_proposing_to_an_address_that_is_not_a_vault_fails(rpc: Rpc) -> None:
    with pytest.raises(WalletError):
        propose(rpc, ADDR1, RECIPIENT, 1, b"")


def test_a_reverting_inner_call_is_reported_and_voids_the_signatures(rpc: Rpc, vault: str) -> None:
    proposal = add_signature(add_signature(propose(rpc, vault, RECIPIENT, 100 * ETHER, b""), KEY1), KEY2)
    with pytest.raises(WalletError, match="reverted .* nonce 0 is used up"):  # the vault holds 5 ether
        execute(rpc, proposal, KEY0)
    assert status(rpc, vault).nonce == 1 and rpc.balance(RECIPIENT) == 0

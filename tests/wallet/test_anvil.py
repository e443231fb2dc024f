"""The online wallet commands against Foundry's anvil: the wallet speaks only JSON-RPC, so nothing changes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3 import Web3

from contracts.deploy import deploy
from tests.tools import running_anvil, tool
from wallet.rpc import Rpc
from wallet.transactions import build_transaction, send_signed, sign_transaction, summary
from wallet.treasury import NATIVE, Watermark, plan_sweep
from wallet.vault import add_signature, execute, propose, status

from .conftest import ADDR0, ADDR1, ADDR2, KEY0, KEY1, KEY2

pytestmark = [pytest.mark.external,
              pytest.mark.skipif(tool("anvil") is None, reason="anvil not installed (.ci/run installs it from npm)")]


@pytest.fixture(scope="module")
def anvil_url() -> Iterator[str]:
    with running_anvil() as url:
        yield url


def test_cold_transaction_built_on_anvil_signs_offline_and_is_mined(anvil_url: str) -> None:
    rpc = Rpc(anvil_url)
    tx = build_transaction(rpc, ADDR0, ADDR1, 10**15)
    assert tx.chain_id == 31337 and "value:         0.001 ether (1000000000000000 wei)" in summary(tx)
    before = rpc.balance(ADDR1)
    assert send_signed(rpc, sign_transaction(tx, KEY0))["status"] == "0x1"
    assert rpc.balance(ADDR1) == before + 10**15


def test_multisig_vault_flow_on_anvil(anvil_url: str) -> None:
    rpc = Rpc(anvil_url)
    w3 = Web3(Web3.HTTPProvider(anvil_url))
    vault = deploy(w3, "MultisigVault", sorted([ADDR1, ADDR2], key=lambda a: int(a, 16)), 2).address
    w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": ADDR0, "to": vault, "value": 10**18}))
    proposal = add_signature(add_signature(propose(rpc, vault, ADDR0, 10**17, b""), KEY1), KEY2)
    execute(rpc, proposal, KEY0)
    assert status(rpc, vault).nonce == 1 and rpc.balance(vault) == 9 * 10**17


def test_sweep_plan_on_anvil(anvil_url: str) -> None:
    plan = plan_sweep(Rpc(anvil_url), [ADDR2], "0x000000000000000000000000000000000000C01D",
                      [Watermark(NATIVE, 9_999 * 10**18, 0)])
    assert len(plan.transfers) == 1 and 0 < plan.transfers[0].amount < 10**18

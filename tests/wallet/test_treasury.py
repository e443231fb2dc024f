from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.predeploy import address_of
from wallet.audit import AuditLog
from wallet.calldata import encode_call
from wallet.errors import SignerError, WalletError
from wallet.policy import KeyPolicy
from wallet.rpc import Rpc
from wallet.signer import HotSigner
from wallet.signer_client import SignerClient
from wallet.signer_server import SignerServer
from wallet.transactions import build_transaction, send_signed, sign_transaction
from wallet.treasury import NATIVE, Watermark, balance_of, execute_sweep, onchain_assets, plan_sweep

from .conftest import ADDR0, ADDR1, ADDR2, KEY0, KEY1

TOKEN = address_of("PlatformToken")
COLD = "0x000000000000000000000000000000000000C01D"
ETHER = 10**18


@pytest.fixture
def hot_signer(tmp_path: Path) -> Iterator[SignerClient]:
    policy = KeyPolicy.parse("hot", {"allowlist": [COLD, TOKEN]})
    signer = HotSigner({"a": KEY0, "b": KEY1}, {ADDR0: policy, ADDR1: policy}, AuditLog(tmp_path / "audit.jsonl"))
    server = SignerServer(signer, "x" * 32, port=0).start()
    yield SignerClient(server.url, "x" * 32)
    server.stop()


def _give_tokens(rpc: Rpc, to: str, amount: int) -> None:
    data = encode_call("transfer(address,uint256)", [to, str(amount)])
    send_signed(rpc, sign_transaction(build_transaction(rpc, ADDR0, TOKEN, 0, data), KEY0))


def test_plan_moves_only_the_surplus_above_high_water_and_reports_refills(rpc: Rpc) -> None:
    _give_tokens(rpc, ADDR1, 500)
    marks = [Watermark(NATIVE, 9_000 * ETHER, 1_000 * ETHER), Watermark(TOKEN, 100, 10)]
    plan = plan_sweep(rpc, [ADDR1, ADDR2], COLD, marks)
    native = {t.source: t.amount for t in plan.transfers if t.asset == NATIVE}
    tokens = {t.source: t.amount for t in plan.transfers if t.asset == TOKEN}
    assert tokens == {ADDR1: 400}
    assert 999 * ETHER < native[ADDR1] < 1_000 * ETHER and 999 * ETHER < native[ADDR2] < 1_000 * ETHER
    assert native[ADDR2] > native[ADDR1]  # ADDR1 keeps back the gas of its token transfer too
    assert [(r.address, r.asset, r.needed) for r in plan.refills] == [(ADDR2, TOKEN, 100)]


def test_dry_run_changes_nothing_and_execute_leaves_hot_wallets_at_high_water(rpc: Rpc,
                                                                             hot_signer: SignerClient) -> None:
    _give_tokens(rpc, ADDR1, 500)
    marks = [Watermark(NATIVE, 9_000 * ETHER, 1_000 * ETHER), Watermark(TOKEN, 100, 10)]
    plan = plan_sweep(rpc, [ADDR1], COLD, marks)
    assert rpc.balance(COLD) == 0
    execute_sweep(rpc, plan, hot_signer)
    assert balance_of(rpc, TOKEN, ADDR1) == 100 and balance_of(rpc, TOKEN, COLD) == 400
    assert 9_000 * ETHER <= rpc.balance(ADDR1) < 9_000 * ETHER + 10**16
    assert rpc.balance(COLD) == sum(t.amount for t in plan.transfers if t.asset == NATIVE)
    again = plan_sweep(rpc, [ADDR1], COLD, marks).transfers  # only the unused part of the gas reserve is left
    assert [t.asset for t in again] in ([], [NATIVE]) and sum(t.amount for t in again) < 10**15


def test_sweep_to_a_destination_the_policy_does_not_allow_is_refused(rpc: Rpc, hot_signer: SignerClient) -> None:
    plan = plan_sweep(rpc, [ADDR1], ADDR2, [Watermark(NATIVE, 9_000 * ETHER, 0)])
    with pytest.raises(SignerError) as info:
        execute_sweep(rpc, plan, hot_signer)
    assert info.value.rule == "allowlist"


def test_watermarks_and_addresses_are_checked() -> None:
    with pytest.raises(WalletError, match="low-water"):
        Watermark(NATIVE, 1, 2)


def test_cold_address_cannot_also_be_hot(rpc: Rpc) -> None:
    with pytest.raises(WalletError, match="both"):
        plan_sweep(rpc, [ADDR1], ADDR1, [Watermark(NATIVE, 1, 0)])


def test_onchain_assets_sum_native_and_tokens_over_holders(rpc: Rpc) -> None:
    _give_tokens(rpc, ADDR1, 7)
    totals = onchain_assets(rpc, [ADDR1, ADDR2], [NATIVE, TOKEN])
    assert totals[TOKEN] == 7 and totals[NATIVE] == rpc.balance(ADDR1) + rpc.balance(ADDR2)

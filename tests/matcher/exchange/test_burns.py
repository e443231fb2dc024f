"""Burning the collected platform-token fees: `bourse burn` (and the epoch timer) take the fee account's BRS off the
ledger once its fills have settled, the vault burns it through the token, the report shows the supply before and
after, and the ledger and vault still agree."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from contracts.predeploy import address_of
from matcher.client import ExchangeClient
from bourse.stack import Stack

from .conftest import fund, settled, wait_until

SYMBOL = "BRSWBNB"
BRS = address_of("PlatformToken")


def supply(stack: Stack) -> int:
    from matcher.exchange.burns import total_supply
    from wallet.rpc import Rpc
    return total_supply(Rpc(stack.rpc_url), BRS)


def bourse(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bourse.cli", *args], capture_output=True, text=True, timeout=300)


def trade(clients: dict[str, ExchangeClient], quantity: str) -> None:
    clients["alice"].order(SYMBOL, "SELL", price="0.002", quantity=quantity, time_in_force="GTC")
    clients["bob"].order(SYMBOL, "BUY", price="0.002", quantity=quantity, time_in_force="GTC")  # pays its fee in BRS
    wait_until(lambda: settled(clients["bob"], SYMBOL), what="settlement")


def test_bourse_burn_burns_the_collected_fees_and_the_supply_falls_by_them(stack: Stack,
                                                                           clients: dict[str, ExchangeClient]) -> None:
    fund(clients["alice"], {"BRS": "500"})
    fund(clients["bob"], {"WBNB": "5"})
    initial = supply(stack)
    token = str(stack.admin_token_file)
    empty = bourse("burn", "--exchange", stack.exchange_url, "--admin-token-file", token)
    assert empty.returncode == 0 and "nothing to burn" in empty.stdout
    burned = []
    for quantity in ("100", "250"):
        trade(clients, quantity)
        fee = clients["bob"].my_trades(SYMBOL)[-1]
        assert fee["commissionAsset"] == "BRS"
        run = bourse("burn", "--exchange", stack.exchange_url, "--admin-token-file", token, "--json")
        assert run.returncode == 0, run.stderr
        burn = json.loads(run.stdout)
        assert burn["state"] == "CONFIRMED" and burn["asset"] == "BRS"
        amount = int(burn["amount"])
        assert amount == int(float(quantity) * 10**18) * 20 // 10_000  # the taker's 20 bps, all of it
        assert int(burn["supplyBefore"]) - int(burn["supplyAfter"]) == amount
        burned.append(amount)
    assert supply(stack) == initial - sum(burned)  # after N epochs: the initial supply minus every burn
    report = bourse("burn", "--report", "--exchange", stack.exchange_url)
    assert report.returncode == 0 and len(report.stdout.strip().splitlines()) == 2 and "CONFIRMED" in report.stdout
    reconcile = bourse("reconcile", "--exchange", stack.exchange_url, "--rpc-url", stack.rpc_url,
                       "--admin-token-file", token)
    assert reconcile.returncode == 0 and "agree" in reconcile.stdout, reconcile.stdout + reconcile.stderr
    refused = bourse("burn", "--exchange", stack.exchange_url, "--admin-token-file", "/nonexistent/admin.token")
    assert refused.returncode != 0 and len(refused.stderr.strip().splitlines()) == 1


def test_an_epoch_that_ends_burns_its_fees(stack: Stack, clients: dict[str, ExchangeClient]) -> None:
    from wallet.rpc import Rpc
    burns = stack.exchange.service.burns
    before = {b["id"] for b in burns.report()}
    trade(clients, "50")
    rpc = Rpc(stack.rpc_url)
    burns.every_blocks = 4  # as --burn-every-blocks 4
    try:
        rpc.call("anvil_mine", hex(8))
        burn = wait_until(lambda: next((b for b in burns.report() if b["id"] not in before and b["state"] in
                                        ("CONFIRMED", "FAILED")), None), what="the epoch's burn")
    finally:
        burns.every_blocks = 0
    assert burn["state"] == "CONFIRMED" and int(burn["amount"]) == 50 * 10**18 * 20 // 10_000
    assert burn["kind"] == "epoch" and burn["epoch"] < burn["block"] // 4  # an epoch that had ended


def test_the_burn_endpoint_needs_the_operator_token(stack: Stack) -> None:
    import urllib.error
    import urllib.request
    request = urllib.request.Request(stack.exchange_url + "/admin/burn", method="POST", data=b"")
    try:
        urllib.request.urlopen(request)
        raise AssertionError("expected 401")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401
    with urllib.request.urlopen(stack.exchange_url + "/bourse/v1/burns") as response:
        assert isinstance(json.loads(response.read()), list)  # the report is public


def test_epochs() -> None:
    from types import SimpleNamespace

    from matcher.exchange.burns import Burns
    rows: list[int] = []
    db = SimpleNamespace(execute=lambda sql, *a: SimpleNamespace(fetchone=lambda: (max(rows) if rows else None,)))
    burns = Burns.__new__(Burns)
    burns.core, burns.every_blocks = SimpleNamespace(db=db), 100
    assert burns.due_epoch(99) is None and burns.due_epoch(100) == 0 and burns.due_epoch(250) == 1
    rows.append(1)
    assert burns.due_epoch(299) is None and burns.due_epoch(300) == 2
    burns.every_blocks = 0
    assert burns.due_epoch(10_000) is None

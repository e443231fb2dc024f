"""The whole platform in one run of `bourse up`'s stack: a Launchpad sale of a new token, a listing vote that lists
it, trading on its new market with fees in BRS, the epoch's burn and trade-mining claim, and `bourse reconcile`
clean at the end."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from web3 import Web3
from web3.logs import DISCARD

from contracts.deploy import at
from contracts.predeploy import address_of
from matcher.client import ExchangeClient
from matcher.demo import REWARD_PER_EPOCH
from matcher.exchange.units import parse_units
from bourse.stack import Stack
from tests.matcher.exchange.conftest import KEYS, fund, settled, wait_until
from tests.platform import deploy_token, now, run_round, send, warp

E18 = 10**18


def bourse(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bourse.cli", *args], input=stdin, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(Path(tmp_path_factory.mktemp("platform")), batch_interval=0.2).start()
    yield running
    running.stop()


def test_sale_listing_trading_burn_and_trade_mining(stack: Stack, tmp_path: Path) -> None:
    w3 = Web3(Web3.HTTPProvider(stack.rpc_url))
    owner, alice, bob = w3.eth.accounts[0], w3.eth.accounts[1], w3.eth.accounts[2]
    brs = at(w3, "PlatformToken", address_of("PlatformToken"))
    launchpad = at(w3, "Launchpad", address_of("Launchpad"))

    # 1. the Launchpad sale: 1,000 LAUNCH at 0.5 BRS, oversubscribed 3x
    token = deploy_token(w3, "LAUNCH", 18, 10_000 * E18)
    send(w3, token.functions.approve(launchpad.address, 1_000 * E18), owner)
    t = now(w3) + 10
    receipt = send(w3, launchpad.functions.createSale(token.address, E18 // 2, 1_000 * E18, E18, t, t + 10, t + 10,
                                                      t + 20, t + 20), owner)
    sale = launchpad.events.SaleCreated().process_receipt(receipt, errors=DISCARD)[0].args.saleId
    warp(w3, t)
    for user, amount in ((alice, 600 * E18), (bob, 900 * E18)):
        send(w3, brs.functions.approve(launchpad.address, 2 * amount), user)
        send(w3, launchpad.functions.lock(sale, amount), user)
    warp(w3, t + 10)
    for user, amount in ((alice, 600 * E18), (bob, 900 * E18)):
        send(w3, launchpad.functions.commit(sale, amount), user)
    warp(w3, t + 20)
    for user in (alice, bob):
        send(w3, launchpad.functions.claim(sale), user)
    assert token.functions.balanceOf(alice).call() == 400 * E18  # 1,000 x 600 / 1,500
    assert token.functions.balanceOf(bob).call() == 600 * E18
    send(w3, launchpad.functions.collectRaised(sale), owner)
    assert brs.functions.balanceOf(launchpad.address).call() == 0  # raised 500 BRS collected, the rest refunded

    # 2. the listing vote lists it: LAUNCHBRS opens on the exchange
    finalized = run_round(w3, [token.address], {alice: (token.address, 50 * E18), bob: (token.address, 10 * E18)})
    wait_until(lambda: "LAUNCHBRS" in stack.exchange.service.markets.by_symbol, what="LAUNCHBRS listed")
    assert stack.exchange.service.listings.report()[-1]["block"] == finalized["blockNumber"]

    # 3. trading on it: alice sells LAUNCH (her maker fee is in BRS, what she receives), bob buys
    seller, buyer = (ExchangeClient(stack.exchange_url, KEYS[n], stack.rpc_url) for n in ("alice", "bob"))
    fund(seller, {"LAUNCH": "300"})
    fund(buyer, {"BRS": "400"})
    seller.order("LAUNCHBRS", "SELL", price="0.8", quantity="250", time_in_force="GTC")
    buyer.order("LAUNCHBRS", "BUY", price="0.8", quantity="250", time_in_force="IOC")
    wait_until(lambda: settled(buyer, "LAUNCHBRS") and settled(seller, "LAUNCHBRS"), what="settlement")
    [fill] = seller.my_trades("LAUNCHBRS")
    assert fill["settlement"] == "CONFIRMED" and fill["commissionAsset"] == "BRS"
    maker_fee = 200 * E18 * 10 // 10_000  # 250 x 0.8 = 200 BRS at 10 bps
    assert parse_units(fill["commission"], 18, "commission") == maker_fee

    # 4. the epoch's burn: the collected BRS fees leave the supply
    admin = str(stack.admin_token_file)
    supply = brs.functions.totalSupply().call()
    burned = bourse("burn", "--exchange", stack.exchange_url, "--admin-token-file", admin, "--json")
    assert burned.returncode == 0, burned.stderr
    burn = json.loads(burned.stdout)
    assert burn["state"] == "CONFIRMED" and int(burn["amount"]) == maker_fee
    assert brs.functions.totalSupply().call() == supply - maker_fee

    # 5. trade mining: alice paid the only BRS fee, so the epoch's whole reward is hers; she claims it once
    epoch = bourse("rewards", "epoch", "--exchange", stack.exchange_url, "--admin-token-file", admin, "--json")
    assert epoch.returncode == 0, epoch.stderr
    assert json.loads(epoch.stdout)["state"] == "CONFIRMED"
    keystore, password = tmp_path / "ks", tmp_path / "pw"
    password.write_text("correct horse\n")
    common = ["--keystore", str(keystore), "--password-file", str(password)]
    imported = bourse("wallet", "import", "alice", "--private-key", "--light", *common, stdin=KEYS["alice"] + "\n")
    assert imported.returncode == 0, imported.stderr
    before = brs.functions.balanceOf(alice).call()
    claimed = bourse("rewards", "claim", "alice", "--exchange", stack.exchange_url, "--rpc-url", stack.rpc_url,
                     "--json", *common)
    assert claimed.returncode == 0, claimed.stderr
    assert [int(c["amount"]) for c in json.loads(claimed.stdout)] == [REWARD_PER_EPOCH]
    assert brs.functions.balanceOf(alice).call() == before + REWARD_PER_EPOCH

    # 6. the ledger and the chain agree, new market included
    reconcile = bourse("reconcile", "--exchange", stack.exchange_url, "--rpc-url", stack.rpc_url,
                       "--admin-token-file", admin, "--json")
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
    assert json.loads(reconcile.stdout)["agree"]
    ledger = stack.exchange.service.ledger_snapshot()  # what reconcile compared: the new asset is in it
    assert {(b["account"], b["asset"]) for b in ledger["balances"]} >= {(alice, "LAUNCH"), (bob, "LAUNCH")}

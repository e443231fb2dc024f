"""Trade mining end to end: fills pay fees, `bourse rewards epoch` splits the epoch's BRS reward by the fees each
account paid and publishes the root on the distributor, `bourse rewards claim` pays an account with its proof, once;
the root is rebuilt identically from the trades the journal rebuilds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from contracts import merkle
from contracts.predeploy import address_of
from matcher.client import ExchangeClient
from matcher.demo import REWARD_PER_EPOCH
from bourse.stack import Stack

from .conftest import KEYS, fund, settled, wait_until

SYMBOL = "BRSWBNB"


def bourse(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bourse.cli", *args], input=stdin, capture_output=True, text=True,
                          timeout=300)


def brs_balance(stack: Stack, account: str) -> int:
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector

    from wallet.rpc import Rpc
    data = function_signature_to_4byte_selector("balanceOf(address)") + encode(["address"], [account])
    return int.from_bytes(Rpc(stack.rpc_url).eth_call(address_of("PlatformToken"), data), "big")


def test_an_epoch_rewards_fee_payers_and_each_claims_once(stack: Stack, clients: dict[str, ExchangeClient],
                                                          tmp_path: Path) -> None:
    alice, bob, carol = clients["alice"], clients["bob"], clients["carol"]
    fund(alice, {"BRS": "1000"})
    fund(bob, {"WBNB": "5"})
    fund(carol, {"WBNB": "5"})
    alice.order(SYMBOL, "SELL", price="0.002", quantity="300", time_in_force="GTC")
    bob.order(SYMBOL, "BUY", price="0.002", quantity="200", time_in_force="IOC")  # taker fees in BRS: 0.4
    carol.order(SYMBOL, "BUY", price="0.002", quantity="100", time_in_force="IOC")  # 0.2
    wait_until(lambda: settled(carol, SYMBOL) and settled(bob, SYMBOL), what="settlement")
    token = str(stack.admin_token_file)
    run = bourse("rewards", "epoch", "--exchange", stack.exchange_url, "--admin-token-file", token, "--json")
    assert run.returncode == 0, run.stderr
    epoch = json.loads(run.stdout)
    assert epoch["state"] == "CONFIRMED" and int(epoch["total"]) <= REWARD_PER_EPOCH
    listed = json.loads(bourse("rewards", "status", "--exchange", stack.exchange_url, "--json").stdout)
    assert [e["epoch"] for e in listed] == [epoch["epoch"]]

    service = stack.exchange.service
    rewards = service.rewards
    row = service.core.db.execute("SELECT from_trade, to_trade, leaves, root FROM reward_epochs WHERE epoch = ?",
                                  (epoch["epoch"],)).fetchone()
    amounts = {a: int(n) for a, n in json.loads(row[2]).items()}
    assert amounts[bob.address] == REWARD_PER_EPOCH * 2 // 3 and amounts[carol.address] == REWARD_PER_EPOCH // 3
    assert alice.address not in amounts  # her fee was in WBNB, which has no platform-token rate here
    recomputed = rewards.compute(row[0], row[1], REWARD_PER_EPOCH)  # from the trades the journal rebuilds
    assert "0x" + merkle.build(epoch["epoch"], recomputed).root.hex() == row[3] == epoch["root"]

    keystore, password = tmp_path / "ks", tmp_path / "pw"
    password.write_text("correct horse\n")
    common = ["--keystore", str(keystore), "--password-file", str(password)]
    assert bourse("wallet", "import", "bob", "--private-key", "--light", *common, stdin=KEYS["bob"] + "\n").returncode == 0
    before = brs_balance(stack, bob.address)
    claimed = bourse("rewards", "claim", "bob", "--exchange", stack.exchange_url, "--rpc-url", stack.rpc_url, "--json",
                     *common)
    assert claimed.returncode == 0, claimed.stderr
    assert [c["amount"] for c in json.loads(claimed.stdout)] == [str(amounts[bob.address])]
    assert brs_balance(stack, bob.address) == before + amounts[bob.address]
    again = bourse("rewards", "claim", "bob", "--exchange", stack.exchange_url, "--rpc-url", stack.rpc_url, *common)
    assert again.returncode == 0 and "nothing to claim" in again.stdout
    nothing = bourse("rewards", "epoch", "--exchange", stack.exchange_url, "--admin-token-file", token)
    assert nothing.returncode == 0 and "nothing to reward" in nothing.stdout


def test_an_epoch_closes_every_n_blocks(stack: Stack, clients: dict[str, ExchangeClient]) -> None:
    from wallet.rpc import Rpc
    alice, dave = clients["alice"], clients["dave"]
    fund(alice, {"BRS": "100"})
    fund(dave, {"WBNB": "2"})
    rewards = stack.exchange.service.rewards
    before = {e["epoch"] for e in rewards.epochs()}
    alice.order(SYMBOL, "SELL", price="0.002", quantity="50", time_in_force="GTC")
    dave.order(SYMBOL, "BUY", price="0.002", quantity="50", time_in_force="IOC")
    wait_until(lambda: settled(dave, SYMBOL), what="settlement")
    rewards.every_blocks = 4  # as --reward-every-blocks 4
    try:
        Rpc(stack.rpc_url).call("anvil_mine", hex(8))
        epoch = wait_until(lambda: next((e for e in rewards.epochs() if e["epoch"] not in before
                                         and e["state"] == "CONFIRMED"), None), what="the timer's epoch")
    finally:
        rewards.every_blocks = 0
    assert epoch["accounts"] == 1 and dave.address in {p["account"] for p in rewards.proofs(dave.address)}


def test_the_reward_endpoints(stack: Stack) -> None:
    import urllib.error
    import urllib.request
    try:
        urllib.request.urlopen(urllib.request.Request(stack.exchange_url + "/admin/rewards/epoch", method="POST",
                                                      data=b""))
        raise AssertionError("expected 401")
    except urllib.error.HTTPError as exc:
        assert exc.code == 401
    try:
        urllib.request.urlopen(stack.exchange_url + "/bourse/v1/rewards/proof?address=nope")
        raise AssertionError("expected 400")
    except urllib.error.HTTPError as exc:
        assert exc.code == 400 and json.loads(exc.read())["code"] == -1102

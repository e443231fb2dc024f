"""SIGKILL the exchange (a real `bourse exchange` process) before, during and after a batch submission; each
restart finds out what happened: no fill lost, none settled twice, and the ledger still reconciles."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3

from chain import Node, NodeConfig
from chain.server import ServerThread
from contracts.predeploy import address_of
from matcher.client import ExchangeClient
from matcher.demo import demo_markets, operator_policy, prepare_chain
from matcher.exchange.reconcile import fetch_ledger, reconcile
from matcher.exchange.vault import VaultClient
from tests.tools import free_port, wait_for_rpc
from wallet.audit import AuditLog
from wallet.policy import KeyPolicy
from wallet.rpc import Rpc
from wallet.signer import HotSigner
from wallet.signer_server import SignerServer

from .conftest import KEYS, fund, settled, wait_until

ROOT = Path(__file__).resolve().parents[3]


class ExchangeProcess:
    def __init__(self, args: list[str], pause_at: str | None) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("BOURSE_EXCHANGE_PAUSE_AT", None)
        if pause_at:
            env["BOURSE_EXCHANGE_PAUSE_AT"] = pause_at
        self.proc = subprocess.Popen([sys.executable, "-m", "bourse.cli", "exchange", *args], env=env, cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def paused(self, point: str) -> bool:
        return any(line.startswith(f"PAUSED at {point}") for line in self.lines)

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no cleanup, no flush
        self.proc.wait(30)


@pytest.fixture
def chain_and_signer(tmp_path: Path) -> Iterator[dict[str, Any]]:
    node = Node(NodeConfig())
    server = ServerThread(node).start()
    demo = prepare_chain(Web3(Web3.HTTPProvider(server.url)), tmp_path / "demo.json")
    operator = node.accounts[0]
    vault = address_of("SettlementVault")
    policy = operator_policy(vault, 31337, address_of("MerkleDistributor"))  # batches and trade-mining roots
    signer = HotSigner({"operator": operator.key.to_bytes()},
                       {operator.checksum: KeyPolicy.parse("operator", policy)},
                       AuditLog(tmp_path / "audit.jsonl"))
    signer_server = SignerServer(signer, "k" * 32, port=0).start()
    (tmp_path / "token").write_text("k" * 32)
    markets = demo_markets(demo["USDT"])
    lines = []
    for market in markets:
        spec = market.spec
        lines += ["[[market]]", f'symbol = "{spec.symbol}"',
                  f'base = {{ symbol = "{spec.base.symbol}", token = "{spec.base.token}", decimals = 18 }}',
                  f'quote = {{ symbol = "{spec.quote.symbol}", token = "{spec.quote.token}", decimals = 18 }}',
                  f'tick_size = "{market.price_text(1)}"', f'lot_size = "{market.qty_text(1)}"',
                  f'min_notional = "{market.quote_text(spec.min_notional)}"',
                  f"maker_fee_bps = {spec.maker_fee_bps}", f"taker_fee_bps = {spec.taker_fee_bps}", ""]
    (tmp_path / "markets.toml").write_text("\n".join(lines))
    yield {"rpc_url": server.url, "vault": vault, "signer_url": signer_server.url, "root": tmp_path,
           "markets": markets, "operator": operator.checksum}
    signer_server.stop()
    server.stop()
    node.close()


def assert_reconciles(setup: dict[str, Any], url: str) -> None:
    """The exchange's ledger equals the vault's balances, to the wei."""
    token = (setup["root"] / "exchange" / "admin.token").read_text().strip()
    differences = reconcile(fetch_ledger(url, token), Rpc(setup["rpc_url"]))
    assert differences == [], [d.line() for d in differences]


def exchange_args(setup: dict[str, Any], port: int, *more: str) -> list[str]:
    """`bourse exchange`'s arguments for the fixture's chain and signer, data in <root>/exchange."""
    return ["--rpc-url", setup["rpc_url"], "--settlement", setup["vault"], "--markets",
            str(setup["root"] / "markets.toml"), "--signer", setup["signer_url"], "--signer-token-file",
            str(setup["root"] / "token"), "--data-dir", str(setup["root"] / "exchange"), "--port", str(port),
            "--batch-interval", "0.1", *more]


def test_sigkill_before_during_and_after_a_batch_submission(chain_and_signer: dict[str, Any]) -> None:
    setup = chain_and_signer
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = exchange_args(setup, port)
    alice = ExchangeClient(url, KEYS["alice"], setup["rpc_url"])
    bob = ExchangeClient(url, KEYS["bob"], setup["rpc_url"])

    # before: the batch is signed and stored, not sent
    first = ExchangeProcess(args, "batch_signed")
    wait_for_rpc(url + "/api/v3/ping", timeout=60)
    fund(alice, {"BRS": "100"})
    fund(bob, {"WBNB": "1"})
    alice.order("BRSWBNB", "SELL", "LIMIT", quantity="50", price="0.002", time_in_force="GTC")
    bob.order("BRSWBNB", "BUY", "LIMIT", quantity="10", price="0.002", time_in_force="IOC")
    bob.order("BRSWBNB", "BUY", "LIMIT", quantity="5", price="0.002", time_in_force="IOC")
    wait_until(lambda: first.paused("batch_signed"), what="pause before sending")
    first.kill()
    vault = VaultClient(Rpc(setup["rpc_url"]), setup["vault"])
    assert vault.last_batch_id() == 0

    # during: sent (and mined: the node automines) but the exchange never recorded the outcome
    second = ExchangeProcess(args, "batch_sent")
    wait_until(lambda: second.paused("batch_sent"), timeout=60, what="pause after sending")
    second.kill()
    batch_id = vault.last_batch_id()
    assert batch_id > 0

    # after: the outcome is recorded; killed right after
    third = ExchangeProcess(args, "batch_confirmed")
    wait_until(lambda: third.paused("batch_confirmed"), timeout=60, what="pause after recording")
    third.kill()

    last = ExchangeProcess(args, None)
    try:
        wait_for_rpc(url + "/api/v3/ping", timeout=60)
        wait_until(lambda: settled(bob, "BRSWBNB"), what="settlement after restarts")
        bob.order("BRSWBNB", "BUY", "LIMIT", quantity="5", price="0.002", time_in_force="IOC")  # and it goes on
        wait_until(lambda: len(bob.my_trades("BRSWBNB")) == 3 and settled(bob, "BRSWBNB"), what="a new batch")
        trades = bob.my_trades("BRSWBNB")
        assert [t["settlement"] for t in trades] == ["CONFIRMED"] * 3
        events = vault.events(0, vault.block_number())
        filled = [e for e in events if e.name == "Filled"]
        batches = [e.args["batchId"] for e in events if e.name == "BatchSettled"]
        assert len(filled) == 3, "every fill settled exactly once"
        assert len(batches) == len(set(batches)) == 2 and batches[0] == batch_id
        assert {t["batchId"] for t in trades[:2]} == {str(batch_id)}
        assert_reconciles(setup, url)
    finally:
        last.kill()


def test_sigkill_under_concurrent_orders_loses_no_acknowledged_order(chain_and_signer: dict[str, Any]) -> None:
    """Orders from eight connections share group commits; whatever was acknowledged before the kill is there after
    the restart, with its fills, and the ledger still reconciles once they settle."""
    import http.client
    import json

    setup = chain_and_signer
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = exchange_args(setup, port, "--orders-per-10s", "0", "--weight-per-minute", "0")
    alice = ExchangeClient(url, KEYS["alice"], setup["rpc_url"])
    bob = ExchangeClient(url, KEYS["bob"], setup["rpc_url"])
    first = ExchangeProcess(args, None)
    try:
        wait_for_rpc(url + "/api/v3/ping", timeout=60)
        fund(alice, {"BRS": "200"})
        fund(bob, {"WBNB": "1"})
        bodies = []  # alice rests an ask, bob takes it: orders and fills in every group
        for i in range(1200):
            bodies.append(("alice", alice.order_body("BRSWBNB", "SELL", "LIMIT", quantity="0.1", price="0.002",
                                                     time_in_force="GTC")))
            if i % 2:
                bodies.append(("bob", bob.order_body("BRSWBNB", "BUY", "LIMIT", quantity="0.1", price="0.002",
                                                     time_in_force="IOC")))
        acknowledged: list[tuple[str, int]] = []
        lock = threading.Lock()

        def post(chunk: list[tuple[str, dict[str, Any]]]) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                for who, body in chunk:
                    conn.request("POST", "/api/v3/order", json.dumps(body), {"Content-Type": "application/json"})
                    response = conn.getresponse()
                    answer = json.loads(response.read())
                    assert response.status == 200, answer
                    with lock:
                        acknowledged.append((who, answer["orderId"]))
            except (OSError, http.client.HTTPException):
                return  # the exchange was killed

        threads = [threading.Thread(target=post, args=(bodies[i::8],)) for i in range(8)]
        for thread in threads:
            thread.start()
        wait_until(lambda: len(acknowledged) >= 300, what="300 acknowledged orders")
    finally:
        first.kill()  # SIGKILL with requests in flight on every connection
    for thread in threads:
        thread.join(60)
    assert len(acknowledged) < len(bodies), "killed before the end"

    last = ExchangeProcess(args, None)
    try:
        wait_for_rpc(url + "/api/v3/ping", timeout=60)
        clients = {"alice": alice, "bob": bob}
        for who, order_id in acknowledged:
            order = clients[who].get_order("BRSWBNB", order_id)
            assert order["orderId"] == order_id and order["status"] in ("NEW", "FILLED", "EXPIRED"), order
        bob_filled = [i for who, i in acknowledged if who == "bob"
                      and bob.get_order("BRSWBNB", i)["status"] == "FILLED"]
        traded = {int(t["orderId"]) for t in bob.my_trades("BRSWBNB", limit=1000)}
        assert set(bob_filled) <= traded and bob_filled
        wait_until(lambda: settled(bob, "BRSWBNB"), timeout=120, what="settlement after the restart")
        assert_reconciles(setup, url)
    finally:
        last.kill()


def test_sigkill_around_a_trade_mining_publication(chain_and_signer: dict[str, Any]) -> None:
    """Killed after the epoch's root is signed and stored, then after it was sent: the restarted exchange publishes
    it exactly once, and the root is the one computed again from the trades the journal rebuilds."""
    import json
    import urllib.request

    from contracts import merkle
    from matcher.demo import REWARD_PER_EPOCH
    from matcher.exchange.core import ExchangeCore
    from matcher.exchange.rewards import Rewards
    from matcher.fees import FeePolicy

    setup = chain_and_signer
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    distributor = address_of("MerkleDistributor")
    data_dir = setup["root"] / "exchange"
    args = exchange_args(setup, port, "--distributor", distributor, "--reward-per-epoch", "1000")
    alice = ExchangeClient(url, KEYS["alice"], setup["rpc_url"])
    bob = ExchangeClient(url, KEYS["bob"], setup["rpc_url"])
    carol = ExchangeClient(url, KEYS["carol"], setup["rpc_url"])

    first = ExchangeProcess(args, "reward_signed")
    wait_for_rpc(url + "/api/v3/ping", timeout=60)
    fund(alice, {"BRS": "100"})
    fund(bob, {"WBNB": "1"})
    fund(carol, {"WBNB": "1"})
    alice.order("BRSWBNB", "SELL", "LIMIT", quantity="50", price="0.002", time_in_force="GTC")
    bob.order("BRSWBNB", "BUY", "LIMIT", quantity="20", price="0.002", time_in_force="IOC")  # BRS taker fees
    carol.order("BRSWBNB", "BUY", "LIMIT", quantity="10", price="0.002", time_in_force="IOC")
    wait_until(lambda: settled(bob, "BRSWBNB") and settled(carol, "BRSWBNB"), what="settlement")
    token = (data_dir / "admin.token").read_text().strip()
    request = urllib.request.Request(url + "/admin/rewards/epoch", method="POST", data=b"",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        epoch = json.loads(response.read())
    assert epoch["state"] == "PENDING"
    wait_until(lambda: first.paused("reward_signed"), timeout=60, what="pause after signing the root")
    first.kill()
    rpc = Rpc(setup["rpc_url"])

    def published() -> list[Any]:
        topic = "0x" + Web3.keccak(text="RootPublished(uint256,bytes32,uint256)").hex().removeprefix("0x")
        return rpc.call("eth_getLogs", {"address": distributor, "fromBlock": "0x0", "toBlock": "latest",
                                        "topics": [topic]})

    assert published() == []
    second = ExchangeProcess(args, "reward_sent")
    wait_until(lambda: second.paused("reward_sent"), timeout=60, what="pause after sending the root")
    second.kill()
    assert len(published()) == 1
    last = ExchangeProcess(args, None)
    try:
        wait_for_rpc(url + "/api/v3/ping", timeout=60)
        row = wait_until(lambda: next((e for e in json.loads(urllib.request.urlopen(
            url + "/bourse/v1/rewards", timeout=10).read()) if e["state"] == "CONFIRMED"), None),
            what="the epoch recorded as published")
    finally:
        last.kill()
    logs = published()
    assert len(logs) == 1 and row["root"] == epoch["root"] == logs[0]["data"][:66]

    # rebuilt from the journal: a fresh core on the data dir computes the same amounts and root
    core = ExchangeCore(data_dir / "exchange.sqlite3", setup["markets"], setup["operator"], FeePolicy("BRS"))
    try:
        bounds = core.db.execute("SELECT from_trade, to_trade FROM reward_epochs WHERE epoch = ?",
                                 (epoch["epoch"],)).fetchone()
        amounts = Rewards(core, distributor, "BRS", REWARD_PER_EPOCH).compute(bounds[0], bounds[1], REWARD_PER_EPOCH)
    finally:
        core.close()
    assert amounts[bob.address] == REWARD_PER_EPOCH * 2 // 3 and amounts[carol.address] == REWARD_PER_EPOCH // 3
    assert "0x" + merkle.build(epoch["epoch"], amounts).root.hex() == epoch["root"]


def test_sigkill_while_one_batch_is_in_flight_and_the_next_is_signed(chain_and_signer: dict[str, Any]) -> None:
    """Batches overlap once the gas per fill is known (after the first, simulated, batch of a run): the third is
    signed (the next nonce) and stored while the second is sent. Killed right then, the restarted exchange finds
    the second (mined or not), sends the third, and every fill settles once."""
    setup = chain_and_signer
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = exchange_args(setup, port)
    args[args.index("--batch-interval") + 1] = "30"  # only full batches go out: the test decides when
    args += ["--batch-size", "2"]
    alice = ExchangeClient(url, KEYS["alice"], setup["rpc_url"])
    bob = ExchangeClient(url, KEYS["bob"], setup["rpc_url"])
    first = ExchangeProcess(args, "batch_signed_behind")
    try:
        wait_for_rpc(url + "/api/v3/ping", timeout=60)
        fund(alice, {"BRS": "100"})
        fund(bob, {"WBNB": "1"})
        for price in ("0.002", "0.0021", "0.0022", "0.0023", "0.0024", "0.0025"):
            alice.order("BRSWBNB", "SELL", "LIMIT", quantity="5", price=price, time_in_force="GTC")
        bob.order("BRSWBNB", "BUY", "LIMIT", quantity="30", price="0.0025", time_in_force="IOC")  # six fills at once
        wait_until(lambda: first.paused("batch_signed_behind"), timeout=60, what="a batch signed behind another")
    finally:
        first.kill()
    vault = VaultClient(Rpc(setup["rpc_url"]), setup["vault"])
    assert vault.last_batch_id() in (1, 2), "the first batch settled, the third was not sent"

    last = ExchangeProcess(args, None)
    try:
        wait_for_rpc(url + "/api/v3/ping", timeout=60)
        wait_until(lambda: len(bob.my_trades("BRSWBNB")) == 6 and settled(bob, "BRSWBNB"),
                   what="the batches after the restart")
        trades = bob.my_trades("BRSWBNB")
        assert [t["settlement"] for t in trades] == ["CONFIRMED"] * 6
        events = vault.events(0, vault.block_number())
        assert len([e for e in events if e.name == "Filled"]) == 6, "every fill settled exactly once"
        assert [e.args["batchId"] for e in events if e.name == "BatchSettled"] == [1, 2, 3]
        assert [t["batchId"] for t in trades] == ["1", "1", "2", "2", "3", "3"]
        assert_reconciles(setup, url)
    finally:
        last.kill()

"""The same flow against Foundry's anvil: the exchange reaches the chain only through JSON-RPC."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

from contracts.deploy import deploy_exchange_contracts
from matcher.client import ExchangeClient
from matcher.demo import demo_markets, operator_policy, prepare_chain
from matcher.exchange.reconcile import fetch_ledger, reconcile
from matcher.exchange.service import ExchangeConfig, ExchangeServer
from tests.tools import running_anvil, tool
from wallet.audit import AuditLog
from wallet.policy import KeyPolicy
from wallet.rpc import Rpc
from wallet.signer import HotSigner
from wallet.signer_client import SignerClient
from wallet.signer_server import SignerServer
from wallet.treasury import balance_of

from .conftest import KEYS, fund, settled, wait_until

pytestmark = [pytest.mark.external,
              pytest.mark.skipif(tool("anvil") is None, reason="anvil not installed (.ci/run installs it from npm)")]
OPERATOR_KEY = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
OPERATOR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_deposit_trade_settle_reconcile_and_withdraw_on_anvil(tmp_path: Path) -> None:
    with running_anvil() as rpc_url:
        w3 = Web3(Web3.HTTPProvider(rpc_url))
        contracts = deploy_exchange_contracts(w3, OPERATOR)
        demo = prepare_chain(w3, tmp_path / "demo.json", brs=contracts["PlatformToken"])
        markets = demo_markets(demo["USDT"], contracts["PlatformToken"].address, contracts["WrappedNative"].address)
        vault = contracts["SettlementVault"].address
        signer = HotSigner({"op": OPERATOR_KEY}, {OPERATOR: KeyPolicy.parse("op", operator_policy(vault, 31337))},
                           AuditLog(tmp_path / "audit.jsonl"))
        signer_server = SignerServer(signer, "a" * 32, port=0).start()
        exchange = ExchangeServer(ExchangeConfig(
            rpc_url, vault, markets, SignerClient(signer_server.url, "a" * 32).account(OPERATOR), OPERATOR,
            tmp_path / "exchange", port=0, batch_interval=0.2)).start()
        try:
            alice = ExchangeClient(exchange.url, KEYS["alice"], rpc_url)
            bob = ExchangeClient(exchange.url, KEYS["bob"], rpc_url)
            fund(alice, {"BRS": "100"})
            fund(bob, {"WBNB": "1"})
            alice.order("BRSWBNB", "SELL", "LIMIT", quantity="30", price="0.002", time_in_force="GTC")
            assert bob.order("BRSWBNB", "BUY", "MARKET", quantity="10")["status"] == "FILLED"
            assert bob.order("BRSWBNB", "BUY", "LIMIT", quantity="5", price="0.002",
                             time_in_force="IOC")["status"] == "FILLED"
            wait_until(lambda: settled(bob, "BRSWBNB"), what="settlement on anvil")
            assert [t["settlement"] for t in bob.my_trades("BRSWBNB")] == ["CONFIRMED", "CONFIRMED"]
            assert reconcile(fetch_ledger(exchange.url, exchange.service.admin_token), Rpc(rpc_url)) == []
            brs = contracts["PlatformToken"].address
            held = balance_of(Rpc(rpc_url), brs, bob.address)
            bob.withdraw("BRS", "14")
            wait_until(lambda: bob.withdrawals()[-1]["state"] == "CONFIRMED", what="withdrawal on anvil")
            assert balance_of(Rpc(rpc_url), brs, bob.address) == held + 14 * 10**18
            assert reconcile(fetch_ledger(exchange.url, exchange.service.admin_token), Rpc(rpc_url)) == []
        finally:
            exchange.stop()
            signer_server.stop()

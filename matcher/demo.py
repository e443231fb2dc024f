"""The demo stack `bourse up` starts: markets on the predeployed platform, a test USDT, funded demo users, and a
policy for the operator key. Library code, so tests build the same stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.predeploy import address_of
from contracts.settlement import SETTLE_SIGNATURE

from .exchange.markets import Markets, market_from_table

DEMO_USERS = 4  # dev accounts 1..4 get tokens to trade with
DEMO_TOKENS = 1_000_000 * 10**18
REWARD_FUNDS = 1_000_000 * 10**18  # BRS the trade-mining distributor is funded with
REWARD_PER_EPOCH = 1_000 * 10**18


def demo_markets(usdt: str, brs: str | None = None, wbnb: str | None = None, max_open_orders: int = 200,
                 extra_tokens: list[str] | None = None) -> Markets:
    """BRS/WBNB and WBNB/USDT, and a D<i>/BRS market for each of `extra_tokens` (`bourse up --markets N`); the
    platform token and wrapped coin default to `bourse node`'s predeploys. `max_open_orders`: MAX_NUM_ORDERS per
    account (Binance's 200 by default)."""
    brs, wbnb = brs or address_of("PlatformToken"), wbnb or address_of("WrappedNative")
    tables = [
        {"symbol": "BRSWBNB", "base": {"symbol": "BRS", "token": brs, "decimals": 18},
         "quote": {"symbol": "WBNB", "token": wbnb, "decimals": 18}, "tick_size": "0.000001", "lot_size": "0.01",
         "min_notional": "0.0001", "maker_fee_bps": 10, "taker_fee_bps": 20},
        {"symbol": "WBNBUSDT", "base": {"symbol": "WBNB", "token": wbnb, "decimals": 18},
         "quote": {"symbol": "USDT", "token": usdt, "decimals": 18}, "tick_size": "0.01", "lot_size": "0.001",
         "min_notional": "1", "maker_fee_bps": 10, "taker_fee_bps": 20},
    ]
    for i, token in enumerate(extra_tokens or [], start=1):
        tables.append({"symbol": f"D{i}BRS", "base": {"symbol": f"D{i}", "token": token, "decimals": 18},
                       "quote": {"symbol": "BRS", "token": brs, "decimals": 18}, "tick_size": "0.0001",
                       "lot_size": "0.01", "min_notional": "0.01", "maker_fee_bps": 10, "taker_fee_bps": 20})
    return Markets([market_from_table({**t, "max_num_orders": max_open_orders}) for t in tables])


def operator_policy(vault: str, chain_id: int, distributor: str | None = None) -> dict[str, Any]:
    """What the operator key may sign: settlement batches, operator withdrawals, makers' signed agent approvals and
    burns of the collected platform-token fees on the vault, and (given the distributor) trade-mining roots, nothing
    else. The native caps bound what the key can lose to gas (it never sends value): 30M gas
    at 100 gwei at most per batch."""
    return {"chain_ids": [chain_id], "allowlist": [vault, *([distributor] if distributor else [])],
            "allowed_methods": [SETTLE_SIGNATURE, "operatorWithdraw(address,address,uint256)",
                                "approveAgentBySig(address,address,uint256,uint256,uint8,bytes32,bytes32)",
                                "burnFees(uint256)", *(["publish(uint256,bytes32,uint256)"] if distributor else [])],
            "max_gas": 30_000_000, "max_fee_per_gas": "100 gwei",
            "max_value_per_tx": {"native": "3 ether"}, "daily_limit": {"native": "1000 ether"},
            "max_tx_per_minute": 6_000}


def prepare_chain(w3: Any, state_file: Path, brs: Any = None, extra_tokens: int = 0,
                  progress: Any = lambda step: None) -> dict[str, Any]:
    """Deploy the test USDT (and `extra_tokens` demo tokens D1..DN) and fund the demo users once; later starts read
    what was done from `state_file` (and deploy only the demo tokens still missing)."""
    from contracts.deploy import deploy, platform
    owner = w3.eth.accounts[0]
    users = w3.eth.accounts[1:1 + DEMO_USERS]
    if state_file.exists():
        state: dict[str, Any] = json.loads(state_file.read_text())
    else:
        usdt = deploy(w3, "PlatformToken", "Tether USD (test)", "USDT", 10**9 * 10**18, sender=owner)
        brs = brs if brs is not None else platform(w3)["PlatformToken"]
        for user in users:
            for token in (brs, usdt):
                w3.eth.wait_for_transaction_receipt(token.functions.transfer(user, DEMO_TOKENS).transact(
                    {"from": owner}))
        state = {"USDT": usdt.address}
        distributor = platform(w3)["MerkleDistributor"]
        if w3.eth.get_code(distributor.address):  # `bourse node`'s trade-mining distributor, funded once
            w3.eth.wait_for_transaction_receipt(brs.functions.approve(distributor.address, REWARD_FUNDS).transact(
                {"from": owner}))
            w3.eth.wait_for_transaction_receipt(distributor.functions.fund(REWARD_FUNDS).transact({"from": owner}))
    tokens: list[str] = state.setdefault("tokens", [])
    for i in range(len(tokens) + 1, extra_tokens + 1):
        if i % 50 == 0:
            progress(f"demo token {i} of {extra_tokens}")
        token = deploy(w3, "PlatformToken", f"Demo Token {i}", f"D{i}", 10**9 * 10**18, sender=owner)
        for user in users:
            w3.eth.wait_for_transaction_receipt(token.functions.transfer(user, DEMO_TOKENS).transact(
                {"from": owner}))
        tokens.append(token.address)
    state_file.write_text(json.dumps(state))
    return state


__all__ = ["demo_markets", "operator_policy", "prepare_chain"]

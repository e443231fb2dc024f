"""The demo stack `bourse up` starts: markets on the predeployed platform, a test USDT, funded demo users, and a
policy for the operator key. Library code, so tests build the same stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.predeploy import address_of

from .exchange.markets import Markets, market_from_table
from .exchange.vault import FILL_TUPLE

DEMO_USERS = 4  # dev accounts 1..4 get tokens to trade with
DEMO_TOKENS = 1_000_000 * 10**18


def demo_markets(usdt: str, brs: str | None = None, wbnb: str | None = None, max_open_orders: int = 200) -> Markets:
    """BRS/WBNB and WBNB/USDT; the platform token and wrapped coin default to `bourse node`'s predeploys.
    `max_open_orders`: MAX_NUM_ORDERS per account (Binance's 200 by default)."""
    brs, wbnb = brs or address_of("PlatformToken"), wbnb or address_of("WrappedNative")
    tables = [
        {"symbol": "BRSWBNB", "base": {"symbol": "BRS", "token": brs, "decimals": 18},
         "quote": {"symbol": "WBNB", "token": wbnb, "decimals": 18}, "tick_size": "0.000001", "lot_size": "0.01",
         "min_notional": "0.0001", "maker_fee_bps": 10, "taker_fee_bps": 20},
        {"symbol": "WBNBUSDT", "base": {"symbol": "WBNB", "token": wbnb, "decimals": 18},
         "quote": {"symbol": "USDT", "token": usdt, "decimals": 18}, "tick_size": "0.01", "lot_size": "0.001",
         "min_notional": "1", "maker_fee_bps": 10, "taker_fee_bps": 20},
    ]
    return Markets([market_from_table({**t, "max_num_orders": max_open_orders}) for t in tables])


def operator_policy(vault: str, chain_id: int) -> dict[str, Any]:
    """What the operator key may sign: settlement batches, operator withdrawals, makers' signed agent approvals and
    burns of the collected platform-token fees on the vault, nothing else. The native caps bound what the key can lose to gas (it never sends value): 30M gas
    at 100 gwei at most per batch."""
    return {"chain_ids": [chain_id], "allowlist": [vault],
            "allowed_methods": [f"settle(uint256,{FILL_TUPLE}[])", "operatorWithdraw(address,address,uint256)",
                                "approveAgentBySig(address,address,uint256,uint256,uint8,bytes32,bytes32)", "burnFees(uint256)"],
            "max_gas": 30_000_000, "max_fee_per_gas": "100 gwei",
            "max_value_per_tx": {"native": "3 ether"}, "daily_limit": {"native": "1000 ether"},
            "max_tx_per_minute": 6_000}


def prepare_chain(w3: Any, state_file: Path, brs: Any = None) -> dict[str, str]:
    """Deploy the test USDT and fund the demo users once; later starts read what was done from `state_file`."""
    if state_file.exists():
        return json.loads(state_file.read_text())
    from contracts.deploy import deploy, platform
    owner = w3.eth.accounts[0]
    usdt = deploy(w3, "PlatformToken", "Tether USD (test)", "USDT", 10**9 * 10**18, sender=owner)
    brs = brs if brs is not None else platform(w3)["PlatformToken"]
    for user in w3.eth.accounts[1:1 + DEMO_USERS]:
        for token in (brs, usdt):
            w3.eth.wait_for_transaction_receipt(token.functions.transfer(user, DEMO_TOKENS).transact({"from": owner}))
    state = {"USDT": usdt.address}
    state_file.write_text(json.dumps(state))
    return state


__all__ = ["demo_markets", "operator_policy", "prepare_chain"]

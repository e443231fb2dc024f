#!/usr/bin/env python3
"""Gas report for the platform contracts: deploy, transfer, swap (settlement fills land with the vault).

Runs on an in-process `bourse node` by default, or any node with --url (account 0 must be funded).
"""

from __future__ import annotations

import argparse
from typing import Any

from web3 import Web3

from contracts.deploy import deploy

FAR = 2**40
E18 = 10**18


def _gas(w3: Any, call: Any, sender: str, value: int = 0) -> int:
    receipt = w3.eth.wait_for_transaction_receipt(call.transact({"from": sender, "value": value}))
    assert receipt["status"] == 1
    return int(receipt["gasUsed"])


def _deploy_gas(w3: Any, rows: list[tuple[str, int]], name: str, *args: Any, blueprint: bool = False) -> Any:
    contract = deploy(w3, name, *args, blueprint=blueprint)
    tx = w3.eth.get_block("latest", full_transactions=True)["transactions"][-1]
    assert tx["to"] is None
    rows.append((f"deploy {name}" + (" blueprint" if blueprint else ""),
                 int(w3.eth.get_transaction_receipt(tx["hash"])["gasUsed"])))
    return contract


def measure(w3: Any) -> list[tuple[str, int]]:
    """Gas used per operation, on whatever node `w3` talks to."""
    me, other = w3.eth.accounts[0], w3.eth.accounts[1]
    rows: list[tuple[str, int]] = []
    a_token = _deploy_gas(w3, rows, "PlatformToken", "A", "A", 10**30)
    b_token = deploy(w3, "PlatformToken", "B", "B", 10**30)
    wrapped = _deploy_gas(w3, rows, "WrappedNative", "W", "W")
    blueprint = _deploy_gas(w3, rows, "AmmPair", blueprint=True)
    factory = _deploy_gas(w3, rows, "AmmFactory", blueprint.address, 25, me)
    router = _deploy_gas(w3, rows, "AmmRouter", factory.address, wrapped.address)
    rows.append(("token transfer (new holder)", _gas(w3, a_token.functions.transfer(other, E18), me)))
    rows.append(("token transfer (existing holder)", _gas(w3, a_token.functions.transfer(other, E18), me)))
    rows.append(("token approve", _gas(w3, a_token.functions.approve(router.address, 2**256 - 1), me)))
    _gas(w3, b_token.functions.approve(router.address, 2**256 - 1), me)
    rows.append(("addLiquidity (creates pair)", _gas(w3, router.functions.addLiquidity(
        a_token.address, b_token.address, 1000 * E18, 1000 * E18, 0, 0, me, FAR), me)))
    rows.append(("addLiquidity", _gas(w3, router.functions.addLiquidity(
        a_token.address, b_token.address, 10 * E18, 10 * E18, 0, 0, me, FAR), me)))
    rows.append(("swapExactTokensForTokens (1 hop)", _gas(w3, router.functions.swapExactTokensForTokens(
        E18, 0, [a_token.address, b_token.address], me, FAR), me)))
    width = max(len(r[0]) for r in rows)
    print(f"{'operation':<{width}}  {'gas':>10}")
    for name, gas in rows:
        print(f"{name:<{width}}  {gas:>10,}")


if __name__ == "__main__":
    main()

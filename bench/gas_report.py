#!/usr/bin/env python3
"""Gas report for the platform contracts: deploy, transfer, swap (settlement fills land with the vault).

Runs on an in-process `bourse node` by default, or any node with --url (account 0 must be funded).
"""

from __future__ import annotations

import argparse
import json
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


def _advance_time(w3: Any, seconds: int) -> None:
    """Dev nodes (bourse, anvil, hardhat) can move the clock; on others the wait is real time."""
    try:
        w3.provider.make_request("evm_increaseTime", [seconds])
    except Exception:
        import time

        time.sleep(seconds)


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
    _advance_time(w3, 15)  # every pool operation below sees time pass, so TWAP updates are always paid
    rows.append(("addLiquidity", _gas(w3, router.functions.addLiquidity(
        a_token.address, b_token.address, 10 * E18, 10 * E18, 0, 0, me, FAR), me)))
    _advance_time(w3, 15)  # so the swap updates the TWAP accumulators on every node alike
    rows.append(("swapExactTokensForTokens (1 hop)", _gas(w3, router.functions.swapExactTokensForTokens(
        E18, 0, [a_token.address, b_token.address], me, FAR), me)))
    rows.extend(settlement_rows(w3))
    rows.extend(launchpad_rows(w3))
    rows.extend(distributor_rows(w3))
    rows.extend(listing_vote_rows(w3))
    return rows


def listing_vote_rows(w3: Any) -> list[tuple[str, int]]:
    """A listing round of 8 candidates, a vote, its finalization (2 winners) and a withdrawal."""
    me, voter = w3.eth.accounts[0], w3.eth.accounts[1]
    rows: list[tuple[str, int]] = []
    brs = deploy(w3, "PlatformToken", "P", "P", 10**30)
    booth = _deploy_gas(w3, rows, "ListingVote", brs.address)
    from eth_utils import to_checksum_address
    candidates = [to_checksum_address(f"0x{i + 100:040x}") for i in range(8)]
    _gas(w3, brs.functions.transfer(voter, 10**24), me)
    _gas(w3, brs.functions.approve(booth.address, 2**256 - 1), voter)
    t = _round_time(w3)
    rows.append(("listing vote createRound (8)", _gas(w3, booth.functions.createRound(candidates, t + 100, t + 200, 2),
                                                      me)))
    _next_window(w3, 100)
    rows.append(("listing vote vote", _gas(w3, booth.functions.vote(1, candidates[3], 10 * E18), voter)))
    _next_window(w3, 100)
    rows.append(("listing vote finalize (8, 2 winners)", _gas(w3, booth.functions.finalize(1), me)))
    rows.append(("listing vote withdraw", _gas(w3, booth.functions.withdraw(1), voter)))
    return rows


def distributor_rows(w3: Any) -> list[tuple[str, int]]:
    """Trade mining: publish an epoch of 16 rewards, claim one."""
    from contracts import merkle
    me = w3.eth.accounts[0]
    rows: list[tuple[str, int]] = []
    reward = deploy(w3, "PlatformToken", "R", "R", 10**30)
    distributor = _deploy_gas(w3, rows, "MerkleDistributor", reward.address, me)
    _gas(w3, reward.functions.approve(distributor.address, 2**256 - 1), me)
    rows.append(("distributor fund", _gas(w3, distributor.functions.fund(10**24), me)))
    from eth_utils import to_checksum_address
    amounts = {to_checksum_address(f"0x{i + 1:040x}"): (i + 1) * E18 for i in range(16)}
    tree = merkle.build(1, amounts)
    rows.append(("distributor publish", _gas(w3, distributor.functions.publish(1, tree.root,
                                                                                 sum(amounts.values())), me)))
    account = next(iter(tree.proofs))
    rows.append(("distributor claim (16 leaves)", _gas(w3, distributor.functions.claim(
        1, account, amounts[account], tree.proofs[account]), me)))
    return rows


def _round_time(w3: Any) -> int:
    """Move the clock to the next multiple of 2**16 seconds plus 0x1111 and mine: times in calldata built from it
    then have the same zero bytes on every run and every node (a zero byte costs 4 gas, another 16), so the gas
    rows compare exactly. Nodes that cannot move their clock keep theirs."""
    t = int(w3.eth.get_block("latest")["timestamp"])
    target = ((t >> 16) + 1 << 16) | 0x1111
    try:
        w3.provider.make_request("evm_setNextBlockTimestamp", [target])
        w3.provider.make_request("evm_mine", [])
    except Exception:
        return t
    return int(w3.eth.get_block("latest")["timestamp"])


def _next_window(w3: Any, seconds: int) -> None:
    """Move the clock `seconds` on and mine, so that calls (and gas estimates) see the new window."""
    _advance_time(w3, seconds)
    w3.provider.make_request("evm_mine", [])


def launchpad_rows(w3: Any) -> list[tuple[str, int]]:
    """A Launchpad sale: create, a first and a second lock, commit, claim."""
    me, alice = w3.eth.accounts[0], w3.eth.accounts[1]
    rows: list[tuple[str, int]] = []
    platform_token = deploy(w3, "PlatformToken", "P", "P", 10**30)
    project = deploy(w3, "PlatformToken", "Project", "PRJ", 10**30)
    pad = _deploy_gas(w3, rows, "Launchpad", platform_token.address)
    _gas(w3, project.functions.approve(pad.address, 2**256 - 1), me)
    _gas(w3, platform_token.functions.transfer(alice, 10**24), me)
    _gas(w3, platform_token.functions.approve(pad.address, 2**256 - 1), alice)
    t = _round_time(w3)
    rows.append(("launchpad createSale", _gas(w3, pad.functions.createSale(
        project.address, E18 // 2, 10**24, 2 * E18, t + 100, t + 200, t + 200, t + 300, t + 300), me)))
    _next_window(w3, 100)
    rows.append(("launchpad lock (first)", _gas(w3, pad.functions.lock(1, 100 * E18), alice)))
    rows.append(("launchpad lock (again)", _gas(w3, pad.functions.lock(1, 100 * E18), alice)))
    _next_window(w3, 100)
    rows.append(("launchpad commit", _gas(w3, pad.functions.commit(1, 300 * E18), alice)))
    _next_window(w3, 100)
    rows.append(("launchpad claim", _gas(w3, pad.functions.claim(1), alice)))
    return rows


def settlement_rows(w3: Any) -> list[tuple[str, int]]:
    """Gas per fill for batches of 1, 10 and 100 fills between two traders (fresh orders each fill), and for a batch
    of 100 in which each sell order has ten fills."""
    from chain.node import derive_accounts  # the dev keys of the test mnemonic
    from contracts.settlement import PRICE_SCALE, Order, fill_tuple, settle_args, sign_order

    keys = {a.checksum: a.key.to_bytes()
            for a in derive_accounts("test test test test test test test test test test test junk", 3)}
    me, alice, bob = w3.eth.accounts[0], w3.eth.accounts[1], w3.eth.accounts[2]
    base = deploy(w3, "PlatformToken", "Base", "BASE", 10**30)
    quote = deploy(w3, "PlatformToken", "Quote", "QUOTE", 10**30)
    platform_token = deploy(w3, "PlatformToken", "P", "P", 10**30)
    vault = deploy(w3, "SettlementVault", platform_token.address, 2_500, 100)
    for user in (alice, bob):
        for token in (base, quote):
            _gas(w3, token.functions.transfer(user, 10**27), me)
            _gas(w3, token.functions.approve(vault.address, 2**256 - 1), user)
            _gas(w3, vault.functions.deposit(token.address, 10**27), user)
    chain_id = w3.eth.chain_id
    rows = []
    nonce = 0
    for size in (1, 10, 100):
        fills = []
        for _ in range(size):
            nonce += 1
            sell = Order(alice, base.address, quote.address, False, 10 * E18, 2 * PRICE_SCALE, FAR, nonce, 30)
            buy = Order(bob, base.address, quote.address, True, 10 * E18, 2 * PRICE_SCALE, FAR, nonce, 30)
            fills.append(fill_tuple(sell, buy, sign_order(sell, keys[alice], chain_id, vault.address),
                                    sign_order(buy, keys[bob], chain_id, vault.address), 10 * E18, E18 // 100,
                                    E18 // 100))
        gas = _gas(w3, vault.functions.settle(*settle_args(nonce, fills, platform_token.address)), me)
        rows.append((f"settle batch of {size}: gas per fill", gas // size))
    fills = []  # ten sell orders, each taken by ten buy orders: each sell order is listed and checked once
    for _ in range(10):
        nonce += 1
        sell = Order(alice, base.address, quote.address, False, 100 * E18, 2 * PRICE_SCALE, FAR, nonce, 30)
        sell_signature = sign_order(sell, keys[alice], chain_id, vault.address)
        for _ in range(10):
            nonce += 1
            buy = Order(bob, base.address, quote.address, True, 10 * E18, 2 * PRICE_SCALE, FAR, nonce, 30)
            fills.append(fill_tuple(sell, buy, sell_signature, sign_order(buy, keys[bob], chain_id, vault.address),
                                    10 * E18, E18 // 100, E18 // 100))
    gas = _gas(w3, vault.functions.settle(*settle_args(nonce, fills, platform_token.address)), me)
    rows.append(("settle batch of 100, 10 fills per sell order: gas per fill", gas // 100))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", help="JSON-RPC URL; default: an in-process bourse node")
    ap.add_argument("--json", action="store_true", help="print the rows as one JSON object")
    a = ap.parse_args()
    if a.url:
        w3 = Web3(Web3.HTTPProvider(a.url))
    else:
        from chain import Node, NodeConfig
        from chain.provider import BourseProvider

        w3 = Web3(BourseProvider(Node(NodeConfig(accounts=3))))
    rows = measure(w3)
    if a.json:
        print(json.dumps({"rows": [{"operation": name, "gas": gas} for name, gas in rows]}))
        return
    width = max(len(r[0]) for r in rows)
    print(f"{'operation':<{width}}  {'gas':>10}")
    for name, gas in rows:
        print(f"{name:<{width}}  {gas:>10,}")


if __name__ == "__main__":
    main()

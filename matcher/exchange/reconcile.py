"""`bourse reconcile`: the exchange's ledger against the vault's balances, to the wei.

The exchange reports its ledger as of the last block its follower applied, plus what is in flight (fills not yet
settled at that block, withdrawals not yet paid). Expected on-chain balance = ledger - in-flight effects; the vault
is read at that same block. Accounts come from the ledger, the in-flight list and every Deposit the vault logged.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any

from wallet.rpc import Rpc

from .vault import VaultClient


@dataclass(frozen=True)
class Difference:
    account: str
    asset: str
    token: str
    ledger: int  # expected on chain, from the ledger
    chain: int

    def line(self) -> str:
        delta = self.chain - self.ledger
        return (f"{self.account} {self.asset}: ledger expects {self.ledger} wei on chain, vault holds {self.chain} "
                f"({'+' if delta > 0 else ''}{delta})")


def fetch_ledger(exchange_url: str, admin_token: str) -> dict[str, Any]:
    """The exchange's ledger snapshot (an operator endpoint: `admin_token` is the exchange's admin.token)."""
    request = urllib.request.Request(exchange_url.rstrip("/") + "/admin/ledger",
                                     headers={"Authorization": f"Bearer {admin_token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())  # type: ignore[no-any-return]


def reconcile(ledger: dict[str, Any], rpc: Rpc) -> list[Difference]:
    vault = VaultClient(rpc, ledger["vault"])
    block = int(ledger["asOfBlock"])
    expected: dict[tuple[str, str], int] = {}
    tokens: dict[str, str] = {}
    for row in ledger["balances"]:
        expected[(row["account"], row["asset"])] = expected.get((row["account"], row["asset"]), 0) + int(row["total"])
        tokens[row["asset"]] = row["token"]
    for row in ledger["inFlight"]:
        key = (row["account"], row["asset"])
        expected[key] = expected.get(key, 0) - int(row["delta"])
        tokens[row["asset"]] = row["token"]
    by_token = {token: asset for asset, token in tokens.items()}
    if block >= 0:
        for event in vault.events(int(ledger.get("fromBlock", 0)), block):  # the exchange follows from there
            if event.name == "Deposit" and event.args["token"] in by_token:
                expected.setdefault((event.args["user"], by_token[event.args["token"]]), 0)
    differences = []
    for (account, asset), amount in sorted(expected.items()):
        on_chain = vault.balance_of(account, tokens[asset], block) if block >= 0 else 0
        if on_chain != amount:
            differences.append(Difference(account, asset, tokens[asset], amount, on_chain))
    return differences

"""Memory stays flat as the chain grows (the issue's bound: +300 MB per 100,000 transfers).

CI runs a bounded version (5,000 transfers, the same per-transfer budget of 3 KB);
`-m slow` runs the full 100,000.
"""

from __future__ import annotations

import gc

import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from chain import Node, NodeConfig
from chain.transactions import decode_raw

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
BUDGET_PER_TX = 300 * 1024 * 1024 // 100_000


def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def _grow(n: int) -> int:
    node = Node(NodeConfig(accounts=1))
    warm = 500
    for nonce in range(n + warm):
        if nonce == warm:
            gc.collect()
            start = _rss()
        raw = bytes(Account.sign_transaction({
            "type": 2, "chainId": 31337, "nonce": nonce, "gas": 21_000, "maxFeePerGas": 10**11,
            "maxPriorityFeePerGas": 10**9, "value": 1, "to": to_checksum_address("0x%040x" % (0xBEEF00 + nonce % 100)),
        }, KEY).raw_transaction)
        node.submit(decode_raw(raw, 31337))
    gc.collect()
    growth = _rss() - start
    node.close()
    return growth


def test_memory_growth_per_transfer_stays_within_budget() -> None:
    n = 5_000
    assert _grow(n) < n * BUDGET_PER_TX


@pytest.mark.slow
def test_memory_growth_over_100k_transfers_stays_under_300_mb() -> None:
    assert _grow(100_000) < 300 * 1024 * 1024

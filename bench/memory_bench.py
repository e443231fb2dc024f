#!/usr/bin/env python3
"""Memory growth of an in-process node over N automined transfers (RSS before/after)."""

from __future__ import annotations

import argparse
import resource
import time

from eth_account import Account
from eth_utils import to_checksum_address

from chain import Node, NodeConfig
from chain.transactions import decode_raw

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--data-dir", default=None)
    a = ap.parse_args()
    node = Node(NodeConfig(accounts=1, data_dir=a.data_dir))
    start = rss_mb()
    t0 = time.perf_counter()
    batch = 1000
    for base in range(0, a.n, batch):
        raws = [bytes(Account.sign_transaction({
            "type": 2, "chainId": 31337, "nonce": base + i, "gas": 21_000, "maxFeePerGas": 10**11,
            "maxPriorityFeePerGas": 10**9, "value": 1, "to": to_checksum_address("0x%040x" % (0xBEEF0000 + i % 100)),
        }, KEY).raw_transaction) for i in range(min(batch, a.n - base))]
        for raw in raws:
            node.submit(decode_raw(raw, 31337))
        if (base // batch) % 10 == 0:
            print(f"{base + len(raws):>7} txs  block {node.backend.head.number:>7}  rss {rss_mb():7.1f} MB", flush=True)
    print(f"done: {a.n} automined transfers in {time.perf_counter() - t0:.0f}s (incl. signing); "
          f"rss {start:.1f} -> {rss_mb():.1f} MB (+{rss_mb() - start:.1f} MB)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Memory growth of an in-process node over N automined transfers (RSS before/after)."""

from __future__ import annotations

import argparse
import json
import resource
import sys
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
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object (progress on stderr)")
    a = ap.parse_args()
    progress = sys.stderr if a.json else sys.stdout
    samples = []
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
            samples.append({"txs": base + len(raws), "block": node.backend.head.number, "rss_mb": round(rss_mb(), 1)})
            print(f"{base + len(raws):>7} txs  block {node.backend.head.number:>7}  rss {rss_mb():7.1f} MB",
                  file=progress, flush=True)
    seconds, end = time.perf_counter() - t0, rss_mb()
    if a.json:
        print(json.dumps({"transfers": a.n, "seconds": round(seconds, 1), "rss_start_mb": round(start, 1),
                          "rss_end_mb": round(end, 1), "samples": samples}))
        return
    print(f"done: {a.n} automined transfers in {seconds:.0f}s (incl. signing); "
          f"rss {start:.1f} -> {end:.1f} MB (+{end - start:.1f} MB)")


if __name__ == "__main__":
    main()

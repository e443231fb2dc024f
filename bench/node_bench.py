#!/usr/bin/env python3
"""Node benchmark: automined transfers/s, ERC-20 transfers/s, eth_call/s, eth_blockNumber/s, deploy latency.

Works against any JSON-RPC node given its URL (bourse node, anvil, hardhat):

    python bench/node_bench.py --url http://127.0.0.1:8545 [--label bourse] [--n 2000] [--reps 3]

Transactions are signed before the clock starts and sent one after another
with consecutive nonces through eth_sendRawTransaction; the clock stops when
the last receipt is available. Prints a table of medians over --reps runs.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from eth_abi import encode
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # test...junk, index 0
TOKEN = json.loads((Path(__file__).parent / "contracts" / "Token.json").read_text())
TRANSFER = function_signature_to_4byte_selector("transfer(address,uint256)")
BALANCE_OF = function_signature_to_4byte_selector("balanceOf(address)")


class Rpc:
    """Keep-alive HTTP/1.1 JSON-RPC on a raw socket, so the node's cost dominates."""

    def __init__(self, url: str) -> None:
        u = urlparse(url)
        self.addr = (u.hostname or "127.0.0.1", u.port or 80)
        self.head = (f"POST {u.path or '/'} HTTP/1.1\r\nHost: {self.addr[0]}\r\n"
                     "Content-Type: application/json\r\nContent-Length: ").encode()
        self.sock = socket.create_connection(self.addr)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.id = 0

    def __call__(self, method: str, params: list | None = None):  # type: ignore[no-untyped-def]
        self.id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.id, "method": method, "params": params or []}).encode()
        self.sock.sendall(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lower = head.lower()
        i = lower.find(b"content-length:")
        n = int(lower[i + 15:lower.find(b"\r\n", i) if lower.find(b"\r\n", i) > 0 else None])
        while len(rest) < n:
            rest += self.sock.recv(65536)
        self.buf = rest[n:]
        reply = json.loads(rest[:n])
        if reply.get("error"):
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]


def sign_all(chain_id: int, nonce: int, n: int, to, data, gas: int):  # type: ignore[no-untyped-def]
    return ["0x" + bytes(Account.sign_transaction({
        "type": 2, "chainId": chain_id, "nonce": nonce + i, "gas": gas, "maxFeePerGas": 100 * 10**9,
        "maxPriorityFeePerGas": 10**9, "value": 0 if data(i) else 1, "data": data(i), **({"to": to(i)} if to(i) else {}),
    }, KEY).raw_transaction).hex() for i in range(n)]


def receipt(rpc: Rpc, tx_hash: str) -> dict:
    while True:
        r = rpc("eth_getTransactionReceipt", [tx_hash])
        if r:
            return r
        time.sleep(0.0005)


def timed_send(rpc: Rpc, raws: list[str]) -> float:
    t0 = time.perf_counter()
    last = None
    for raw in raws:
        last = rpc("eth_sendRawTransaction", [raw])
    r = receipt(rpc, last)
    assert int(r["status"], 16) == 1, r
    return len(raws) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8545")
    ap.add_argument("--label", default="node")
    ap.add_argument("--n", type=int, default=2000, help="transactions per transfer run")
    ap.add_argument("--n-calls", type=int, default=5000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object (progress on stderr)")
    ap.add_argument("--grow", type=int, default=0,
                    help="after the first table, mine this many more transfer blocks (untimed) and measure again")
    a = ap.parse_args()
    rpc = Rpc(a.url)
    me = Account.from_key(KEY).address
    chain_id = int(rpc("eth_chainId"), 16)
    nonce = lambda: int(rpc("eth_getTransactionCount", [me, "pending"]), 16)  # noqa: E731
    deploy = bytes.fromhex(TOKEN["bytecode"][2:]) + encode(["string", "string", "uint256"], ["Bench", "BNC", 10**30])
    token = to_checksum_address(receipt(rpc, rpc("eth_sendRawTransaction", sign_all(
        chain_id, nonce(), 1, lambda i: None, lambda i: deploy, 1_500_000)))["contractAddress"])
    recipient = lambda i: to_checksum_address("0x%040x" % (0xBEEF0000 + i % 100))  # noqa: E731
    report: dict[str, Any] = {"label": a.label, "url": a.url, "cores": os.cpu_count(), "measurements": []}

    def measure() -> None:
        results: dict[str, list[float]] = {}
        start_block = int(rpc("eth_blockNumber"), 16)
        for _ in range(a.reps):
            results.setdefault("value transfers/s", []).append(
                timed_send(rpc, sign_all(chain_id, nonce(), a.n, recipient, lambda i: b"", 21_000)))
            results.setdefault("ERC-20 transfers/s", []).append(timed_send(rpc, sign_all(
                chain_id, nonce(), a.n // 2, lambda i: token,
                lambda i: TRANSFER + encode(["address", "uint256"], [recipient(i), 1]), 100_000)))
            call = {"to": token, "data": "0x" + (BALANCE_OF + encode(["address"], [me])).hex()}
            t0 = time.perf_counter()
            for _ in range(a.n_calls):
                rpc("eth_call", [call, "latest"])
            results.setdefault("eth_call/s", []).append(a.n_calls / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            for _ in range(a.n_calls):
                rpc("eth_blockNumber")
            results.setdefault("eth_blockNumber/s", []).append(a.n_calls / (time.perf_counter() - t0))
            lat = []
            for raw in sign_all(chain_id, nonce(), 5, lambda i: None, lambda i: deploy, 1_500_000):
                t0 = time.perf_counter()
                receipt(rpc, rpc("eth_sendRawTransaction", [raw]))
                lat.append((time.perf_counter() - t0) * 1000)
            results.setdefault("deploy latency ms", []).append(statistics.median(lat))
        end_block = int(rpc("eth_blockNumber"), 16)
        load = os.getloadavg()
        report["measurements"].append({
            "start_block": start_block, "end_block": end_block, "reps": a.reps,
            "load_avg": [round(x, 2) for x in load],
            "metrics": {metric: {"median": round(statistics.median(v), 1), "min": round(min(v), 1),
                                 "max": round(max(v), 1)} for metric, v in results.items()}})
        if a.json:
            return
        print(f"\n{a.label} at {a.url}  (blocks {start_block}..{end_block}, median of {a.reps}, "
              f"load avg {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores)")
        print(f"{'metric':<22}{'median':>12}{'min':>12}{'max':>12}")
        for metric, values in results.items():
            print(f"{metric:<22}{statistics.median(values):>12.1f}{min(values):>12.1f}{max(values):>12.1f}", flush=True)

    measure()
    if a.grow:
        done = 0
        while done < a.grow:
            batch = min(2000, a.grow - done)
            timed_send(rpc, sign_all(chain_id, nonce(), batch, recipient, lambda i: b"", 21_000))
            done += batch
        print(f"\n(grew the chain by {a.grow} transfer blocks)", file=sys.stderr if a.json else sys.stdout)
        measure()
    if a.json:
        print(json.dumps(report))

if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Tracing benchmark: how long debug_traceTransaction takes with each tracer on a transaction of about 1,000,000
gas, and how much memory the struct logger's answer holds (memory capture is off by default, as in geth).

Two clocks per tracer: in-process through BourseProvider (the answer decoded into Python objects, as web3.py
would), and over HTTP until the last byte of the answer arrived (what the node takes; the client's own JSON
decoding is left out).

    python bench/trace_bench.py [--gas 1000000]

Runs an in-process node; needs vyper (a test extra) to compile the tracing fixture.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import time
import tracemalloc
import warnings
from pathlib import Path

from web3 import Web3

from chain import Node, NodeConfig
from chain.provider import BourseProvider
from chain.server import ServerThread

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "chain" / "fixtures" / "trace_fixture.vy"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gas", type=int, default=1_000_000, help="About how much gas the traced transaction uses.")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    import vyper
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = vyper.compile_code(FIXTURE.read_text(), output_formats=["abi", "bytecode"])
    node = Node(NodeConfig(predeploy=False, accounts=1))
    w3 = Web3(BourseProvider(node))
    sender = w3.eth.accounts[0]
    factory = w3.eth.contract(abi=out["abi"], bytecode=out["bytecode"])
    contract = w3.eth.contract(address=w3.eth.wait_for_transaction_receipt(
        factory.constructor().transact({"from": sender}))["contractAddress"], abi=out["abi"])
    n = 1
    while True:  # the loop count that burns about --gas
        used = contract.functions.burn(n).estimate_gas({"from": sender})
        if used >= args.gas or n >= 100_000:
            break
        n = max(n + 1, n * args.gas // used)
    receipt = w3.eth.wait_for_transaction_receipt(contract.functions.burn(n).transact({"from": sender,
                                                                                     "gas": used * 2}))
    tx_hash = "0x" + receipt["transactionHash"].hex().removeprefix("0x")
    start = time.perf_counter()
    w3.provider.make_request("debug_traceTransaction", [tx_hash, {"tracer": "noopTracer"}])
    replay = time.perf_counter() - start
    figures: dict[str, object] = {"gas_used": receipt["gasUsed"], "load_avg": [round(x, 2) for x in os.getloadavg()],
                                  "replay_s": round(replay, 3), "tracers": []}
    if not args.json:
        print(f"trace bench: one transaction of {receipt['gasUsed']:,} gas (burn({n})), load avg "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; its replay alone (noopTracer) {replay:.2f} s")
    server = ServerThread(node).start()
    for label, options in (("struct logger", {}), ("struct logger, memory on", {"enableMemory": True}),
                           ("callTracer", {"tracer": "callTracer"}), ("prestateTracer", {"tracer": "prestateTracer"})):
        gc.collect()
        over_http = _http_seconds(server, tx_hash, {**options, "timeout": "60s"})
        gc.collect()
        start = time.perf_counter()
        reply = w3.provider.make_request("debug_traceTransaction", [tx_hash, {**options, "timeout": "60s"}])
        elapsed = time.perf_counter() - start
        tracemalloc.start()  # a second run for memory: tracemalloc slows what it watches
        w3.provider.make_request("debug_traceTransaction", [tx_hash, {**options, "timeout": "600s"}])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result = reply["result"]
        steps = len(result.get("structLogs", [])) if isinstance(result, dict) else 0
        size = len(json.dumps(result))
        figures["tracers"].append({"tracer": label, "seconds": round(elapsed, 3),  # type: ignore[attr-defined]
                                   "http_seconds": round(over_http, 3), "peak_mib": round(peak / 2**20, 1),
                                   "answer_mib": round(size / 2**20, 2), "steps": steps})
        if not args.json:
            print(f"{label:<26} {elapsed:6.2f} s (HTTP {over_http:5.2f} s)   peak {peak / 2**20:6.1f} MiB   "
                  f"answer {size / 2**20:5.1f} MiB" + (f"   {steps:,} steps" if steps else ""))
    if args.json:
        print(json.dumps(figures))
    server.stop()
    node.close()


def _http_seconds(server: ServerThread, tx_hash: str, options: dict[str, object]) -> float:
    """The trace over HTTP, timed until the whole answer has arrived (not decoded)."""
    connection = http.client.HTTPConnection(server.host, server.server.port, timeout=600)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "debug_traceTransaction", "params": [tx_hash, options]})
    start = time.perf_counter()
    connection.request("POST", "/", body, {"Content-Type": "application/json"})
    data = connection.getresponse().read()
    elapsed = time.perf_counter() - start
    connection.close()
    assert b'"result"' in data[:100] or b'"result"' in data[-200:], data[:200]
    return elapsed


if __name__ == "__main__":
    main()

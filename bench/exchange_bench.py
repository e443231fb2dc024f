#!/usr/bin/env python3
"""Exchange benchmark: signed orders accepted per second through the REST API - each signed by its maker
(EIP-712), and placed with an API key (HMAC-SHA256, the exchange signs with the key's agent) - and fills settled per
second on `bourse node` in batches of 100, with the gas per fill. Rate limits are off for the run.

By default it starts `bourse up` in its own process (so client and server do not share a GIL) and drives it from
here with keep-alive HTTP connections. Orders are signed before the clock starts.

    python bench/exchange_bench.py [--orders 2000] [--fills 1000] [--connections 4] [--markets N]

With --markets N it starts `bourse up --markets N` and spreads the orders over the N demo markets D<i>/BRS: the
makers bid for D<i> with BRS inside the demo quotes, the takers (the demo maker, which holds every D<i>) sell into
those bids.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matcher.client import ExchangeClient  # noqa: E402
from wallet.rpc import Rpc  # noqa: E402
from eth_utils import keccak  # noqa: E402

ALICE = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
BOB = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"
DAVE = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"  # the demo maker of `up --markets`


def start_stack(data: str, port: int, node_port: int, signer_port: int, markets: int = 0
                ) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen([sys.executable, "-m", "bourse.cli", "up", "--data-dir", data, "--port", str(port),
                             "--node-port", str(node_port), "--signer-port", str(signer_port),
                             "--markets", str(markets),
                             "--batch-interval", "0.5", "--weight-per-minute", "0", "--orders-per-10s", "0",
                             "--orders-per-day", "0", "--raw-requests-per-5m", "0", "--max-open-orders", "1000000"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    exchange = rpc = ""
    for line in proc.stdout:
        if line.startswith("Exchange API"):
            exchange = re.search(r"(http://\S+)/api/v3", line).group(1)  # type: ignore[union-attr]
        if line.startswith("Node (JSON-RPC"):
            rpc = line.split()[-1]
        if line.startswith("Try it"):
            break
    return proc, exchange, rpc


def encoded(host: str, body: Any) -> bytes:
    """POST /api/v3/order as it goes on the wire. A body is a JSON object, or (form text, headers)."""
    if isinstance(body, tuple):
        text, headers = body
    else:
        text, headers = json.dumps(body), {"Content-Type": "application/json"}
    data = text.encode()
    lines = ["POST /api/v3/order HTTP/1.1", f"Host: {host}", f"Content-Length: {len(data)}",
             *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def read_response(sock: socket.socket, pending: bytes) -> tuple[int, bytes, bytes]:
    """(status, body, what came after it) of one HTTP/1.1 response with a Content-Length."""
    while b"\r\n\r\n" not in pending:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the exchange closed the connection")
        pending += chunk
    head, _, rest = pending.partition(b"\r\n\r\n")
    status = int(head[9:12])
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the exchange closed the connection")
        rest += chunk
    return status, rest[:length], rest[length:]


def post_all(url: str, bodies: list[Any], connections: int) -> tuple[float, list[float]]:
    """Send every body as POST /api/v3/order over `connections` keep-alive connections, one request in flight on
    each; (seconds, latencies). Requests are encoded before the clock starts and answers read with as little
    client work as possible (raw sockets): the figure is the exchange's, not the load generator's."""
    parsed = urlparse(url)
    host = f"{parsed.hostname}:{parsed.port}"
    latencies: list[float] = []
    lock = threading.Lock()
    chunks = [[encoded(host, b) for b in bodies[i::connections]] for i in range(connections)]
    start = threading.Barrier(connections + 1)

    def worker(chunk: list[bytes]) -> None:
        sock = socket.create_connection((parsed.hostname, parsed.port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        mine, pending = [], b""
        start.wait()
        for request in chunk:
            started = time.perf_counter()
            sock.sendall(request)
            status, payload, pending = read_response(sock, pending)
            if status != 200:
                raise RuntimeError(f"order refused: {payload[:200]!r}")
            mine.append(time.perf_counter() - started)
        sock.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    start.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - started, sorted(latencies)


def hmac_bodies(made: dict[str, str], prices: list[str], symbols: list[str] | None = None,
                side: str = "SELL") -> list[tuple[str, dict[str, str]]]:
    """LIMIT orders signed Binance's way with an API key (timestamps valid for the 60 s recvWindow)."""
    import hashlib
    import hmac
    from urllib.parse import urlencode
    out = []
    now = int(time.time() * 1000)
    for i, price in enumerate(prices):
        symbol = symbols[i % len(symbols)] if symbols else "BRSWBNB"
        query = urlencode({"symbol": symbol, "side": side, "type": "LIMIT", "timeInForce": "GTC",
                           "quantity": "1", "price": price, "newOrderRespType": "ACK", "recvWindow": 60000,
                           "timestamp": now})
        signature = hmac.new(made["secretKey"].encode(), query.encode(), hashlib.sha256).hexdigest()
        out.append((f"{query}&signature={signature}", {"X-MBX-APIKEY": made["apiKey"],
                                                       "Content-Type": "application/x-www-form-urlencoded"}))
    return out


def wrap_and_deposit(client: ExchangeClient, rpc_url: str, wbnb_units: int) -> None:
    from eth_utils import function_signature_to_4byte_selector

    from wallet.transactions import build_transaction, send_signed, sign_transaction
    rpc = Rpc(rpc_url)
    token = client.market("BRSWBNB")["quoteToken"]
    send_signed(rpc, sign_transaction(build_transaction(rpc, client.address, token, wbnb_units,
                                                        function_signature_to_4byte_selector("deposit()")),
                                      client.key))  # type: ignore[arg-type]
    client.deposit("WBNB", str(wbnb_units // 10**18))


BATCH_SETTLED = "0x" + keccak(b"BatchSettled(uint256,uint256,uint256)").hex()


def part_cpu(supervisor: int) -> dict[str, float]:
    """CPU seconds each part of `bourse up` (python -m bourse.child <part>, a child of `supervisor`) has used."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError):
            continue
        if int(fields[1]) == supervisor and b"bourse.child" in argv:
            found[argv[argv.index(b"bourse.child") + 1].decode()] = (int(fields[11]) + int(fields[12])) / ticks
    return found


class SettledFills:
    """Fills the vault settled or skipped since a block (its BatchSettled events), each poll reading only the
    blocks mined since the last one, so that watching takes little of the node's time."""

    def __init__(self, rpc: Rpc, vault: str, from_block: int) -> None:
        self.rpc, self.vault, self.next_block, self.count = rpc, vault, from_block, 0

    def poll(self) -> int:
        head = int(self.rpc.call("eth_blockNumber"), 16)
        if head >= self.next_block:  # else no block since: a range starting past the head is an error
            logs = self.rpc.call("eth_getLogs", {"address": self.vault, "fromBlock": hex(self.next_block),
                                                 "toBlock": hex(head), "topics": [BATCH_SETTLED]})
            self.count += sum(int(log["data"][2:66], 16) + int(log["data"][66:130], 16) for log in logs)
            self.next_block = head + 1
        return self.count


def all_trades(client: ExchangeClient, symbol: str) -> list[dict[str, Any]]:
    """Every trade of the client's account in `symbol`, a page (1,000, the most myTrades gives) at a time."""
    trades: list[dict[str, Any]] = []
    while True:
        page = client.my_trades(symbol, from_id=trades[-1]["id"] + 1 if trades else 0, limit=1000)
        trades += page
        if len(page) < 1000:
            return trades


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=2000, help="resting orders to place (orders/s phase)")
    parser.add_argument("--fills", type=int, default=1000, help="taker orders that each fill one maker")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--markets", type=int, default=0, help="spread the orders over N demo markets")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bourse-bench-") as data:  # the stack's data dir, removed after
        run(args, data)


def run(args: argparse.Namespace, data: str) -> None:
    progress("starting bourse up")
    proc, url, rpc_url = start_stack(data, args.port, args.port + 1, args.port + 2, args.markets)
    try:
        alice, bob = ExchangeClient(url, ALICE, rpc_url), ExchangeClient(url, BOB, rpc_url)
        alice.deposit("BRS", "100000")
        if args.markets:
            symbols = [f"D{i}BRS" for i in range(1, args.markets + 1)]
            taker = ExchangeClient(url, DAVE, rpc_url)  # holds every D<i> in the vault already
            prices = [f"{9910 + i % 90:d}" for i in range(args.orders)]  # 0.9910 .. 0.9999: inside the quotes
            makers = [alice.order_body(symbols[i % len(symbols)], "BUY", "LIMIT", quantity="1",
                                       price=f"0.{p}", time_in_force="GTC")
                      for i, p in enumerate(prices)]
            takers = [taker.order_body(symbols[i % len(symbols)], "SELL", "LIMIT", quantity="1", price="0.9901",
                                       time_in_force="IOC") for i in range(args.fills)]
            while alice.balances().get("BRS", (0, 0))[0] == 0:
                time.sleep(0.1)
        else:
            symbols = ["BRSWBNB"]
            taker = bob
            wrap_and_deposit(bob, rpc_url, 1000 * 10**18)
            while alice.balances().get("BRS", (0, 0))[0] == 0 or bob.balances().get("WBNB", (0, 0))[0] == 0:
                time.sleep(0.1)
            # makers: one lot each at rising prices; takers: IOC buys of one lot at a price that reaches any maker
            makers = [alice.order_body("BRSWBNB", "SELL", "LIMIT", quantity="1", price=f"0.{1000 + i % 900:06d}",
                                       time_in_force="GTC") for i in range(args.orders)]
            takers = [bob.order_body("BRSWBNB", "BUY", "LIMIT", quantity="1", price="0.002000", time_in_force="IOC")
                      for _ in range(args.fills)]
        def exchange_cpu() -> float:
            return part_cpu(proc.pid).get("exchange", 0.0)

        cpu_start = exchange_cpu()
        progress(f"placing {len(makers)} signed orders")
        seconds, latencies = post_all(url, makers, args.connections)
        rate = len(makers) / seconds
        signed_cpu = exchange_cpu() - cpu_start  # the exchange's CPU per order: steadier than a rate on a busy box
        p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]
        api_key = alice.create_api_key(label="bench")
        if args.markets:
            keyed = hmac_bodies(api_key, [f"0.{9200 + i % 500:d}" for i in range(args.orders)], symbols, "BUY")
        else:
            keyed = hmac_bodies(api_key, [f"0.{1900 + i % 90:06d}" for i in range(args.orders)])
        cpu_start = exchange_cpu()
        progress(f"placing {len(keyed)} API-key orders")
        key_seconds, key_latencies = post_all(url, keyed, args.connections)
        key_rate = len(keyed) / key_seconds
        key_cpu = exchange_cpu() - cpu_start
        key_p50, key_p99 = key_latencies[len(key_latencies) // 2], key_latencies[int(len(key_latencies) * 0.99)]

        rpc = Rpc(rpc_url)
        first_block = int(rpc.call("eth_blockNumber"), 16) + 1
        started, cpu_before = time.perf_counter(), part_cpu(proc.pid)
        progress(f"sending {len(takers)} taker orders, then waiting for their fills to settle")
        taker_seconds, _ = post_all(url, takers, args.connections)
        used = symbols[:args.fills]
        # watch the vault's BatchSettled logs on the node (cheap), not the exchange's trade lists: polling those
        # would take the exchange's (and, under `bourse up`, the node's) CPU from the settlement being measured
        vault = taker.info["settlementVault"]
        watch = SettledFills(rpc, vault, first_block)
        while watch.poll() < args.fills:
            time.sleep(0.02)
        settle_seconds = time.perf_counter() - started
        lag = settle_seconds - taker_seconds  # how far settlement trails the fills: ~one batch when it keeps up
        cpu = {part: used - cpu_before.get(part, 0.0) for part, used in part_cpu(proc.pid).items()}
        deadline = time.monotonic() + 60  # the vault has settled them; the exchange records the last receipt next
        while True:
            trades = [t for symbol in used for t in all_trades(taker, symbol)]
            confirmed = [t for t in trades if t["settlement"] == "CONFIRMED"]
            if len(confirmed) >= args.fills or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        batches = {t["txHash"] for t in confirmed}
        gas = sum(int(rpc.receipt(h)["gasUsed"], 16) for h in batches)
        figures = {
            "orders": len(makers), "fills": len(takers), "markets": max(1, args.markets),
            "connections": args.connections, "load_avg": round(os.getloadavg()[0], 2),
            "signed_orders": {"per_s": round(rate), "p50_ms": round(p50 * 1000, 2), "p99_ms": round(p99 * 1000, 2),
                              "exchange_cpu_us": round(signed_cpu / len(makers) * 1e6)},
            "api_key_orders": {"per_s": round(key_rate), "p50_ms": round(key_p50 * 1000, 2),
                               "p99_ms": round(key_p99 * 1000, 2),
                               "exchange_cpu_us": round(key_cpu / len(keyed) * 1e6)},
            "fills_created_per_s": round(len(takers) / taker_seconds), "taker_seconds": round(taker_seconds, 2),
            "fills_settled_per_s": round(len(confirmed) / settle_seconds), "fills_settled": len(confirmed),
            "batches": len(batches), "settle_seconds": round(settle_seconds, 2),
            "settled_after_last_taker_s": round(lag, 2), "gas_per_fill": gas // max(1, len(confirmed)),
            "cpu_while_settling_s": {part: round(seconds, 2) for part, seconds in sorted(cpu.items())},
        }
        print(json.dumps(figures) if args.json else table(figures))
    finally:
        proc.terminate()
        proc.wait(30)


def progress(text: str) -> None:
    """What the bench is doing, on stderr (stdout carries only the figures)."""
    sys.stderr.write(f"exchange bench: {text}...\n")
    sys.stderr.flush()


def table(f: dict[str, Any]) -> str:
    signed, keyed = f["signed_orders"], f["api_key_orders"]
    where = f"{f['markets']} markets" if f["markets"] > 1 else "1 market"
    return "\n".join([
        f"exchange bench: {f['orders']} orders, {f['fills']} fills, {where}, {f['connections']} connections, "
        f"load avg {f['load_avg']:.2f}",
        f"{'signed orders accepted (REST)':<34}{signed['per_s']:>10,} /s   p50 {signed['p50_ms']:6.2f} ms   p99 "
        f"{signed['p99_ms']:6.2f} ms   exchange CPU {signed['exchange_cpu_us']:4} us/order",
        f"{'API-key orders accepted (HMAC)':<34}{keyed['per_s']:>10,} /s   p50 {keyed['p50_ms']:6.2f} ms   p99 "
        f"{keyed['p99_ms']:6.2f} ms   exchange CPU {keyed['exchange_cpu_us']:4} us/order",
        f"{'fills created (taker orders)':<34}{f['fills_created_per_s']:>10,} /s   ({f['fills']} in "
        f"{f['taker_seconds']:.1f} s)",
        f"{'fills settled on chain':<34}{f['fills_settled_per_s']:>10,} /s   ({f['fills_settled']} fills in "
        f"{f['batches']} batches, {f['settle_seconds']:.2f} s from the first taker order, "
        f"{f['settled_after_last_taker_s']:.2f} s after the last)",
        f"{'gas per fill':<34}{f['gas_per_fill']:>10,}",
        f"{'CPU while settling':<34}" + ", ".join(f"{part} {seconds:.2f} s"
                                                  for part, seconds in f["cpu_while_settling_s"].items())
        + f" (of {f['settle_seconds']:.2f} s)"])


if __name__ == "__main__":
    main()

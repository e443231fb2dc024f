"""bench/exchange_bench.py runs end to end on a small load: its --json figures are complete and every fill it made
settled (a bench that rots is found here, not when someone needs its numbers). No figure is compared with a speed."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def three_free_ports() -> int:
    """A port p with p, p+1 and p+2 free (the bench's exchange, node and signer)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + 2 > 65535:
            continue
        try:
            for port in (base, base + 1, base + 2):
                with socket.socket() as taken:
                    taken.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no three consecutive free ports")


def test_the_exchange_bench_reports_every_figure_and_settles_every_fill() -> None:
    run = subprocess.run([sys.executable, "bench/exchange_bench.py", "--orders", "60", "--fills", "30", "--json",
                          "--port", str(three_free_ports())], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(run.stdout)
    assert figures["fills_settled"] == figures["fills"] == 30 and figures["batches"] >= 1
    assert figures["gas_per_fill"] > 0 and figures["settled_after_last_taker_s"] >= 0
    for phase in ("signed_orders", "api_key_orders"):
        assert figures[phase]["per_s"] > 0 and figures[phase]["p99_ms"] >= figures[phase]["p50_ms"] > 0
    assert set(figures["cpu_while_settling_s"]) == {"exchange", "node", "signer"}
    assert "placing 60 signed orders" in run.stderr  # progress on stderr, figures alone on stdout

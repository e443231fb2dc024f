"""bench/matcher_bench.py runs end to end on a small stream: --json carries both runs' figures (the bench itself
asserts the journaled and plain engines end in the same state). No figure is compared with a speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_matcher_bench_reports_both_runs_as_json() -> None:
    run = subprocess.run([sys.executable, "bench/matcher_bench.py", "--ops", "3000", "--resting", "50", "--markets",
                          "2", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    runs = json.loads(run.stdout)["runs"]
    assert [r["markets"] for r in runs] == [2, 1] and all(r["commands"] == 3000 for r in runs)
    for r in runs:
        for journal in ("journal_off", "journal_on"):
            figures = r[journal]
            assert figures["ops_per_s"] > 0 and figures["p999_us"] >= figures["p99_us"] >= figures["p50_us"] > 0
            assert 0 < figures["trades_per_command"] < 1
    assert "of one market's throughput" in run.stderr

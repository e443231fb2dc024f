"""The compiled engine and its Python sources give the same results, and the sources run whenever they are not
what was compiled (an edit in an editable install) or BOURSE_PURE_PYTHON is set."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from matcher import compiled

ROOT = Path(__file__).resolve().parents[2]

FLOW_DIGEST = textwrap.dedent("""
    import hashlib
    from matcher import Engine
    from matcher.compiled import is_compiled
    from matcher.flow import random_flow
    from matcher.market import Asset, MarketSpec
    market = MarketSpec("BRSWBNB", Asset("BRS", "0x" + "b1" * 20, 18), Asset("WBNB", "0x" + "b2" * 20, 18),
                        tick_size=10**14, lot_size=10**16, min_notional=10**14, maker_fee_bps=10, taker_fee_bps=20)
    h = hashlib.sha256()
    for seed in range(16):
        engine = Engine([market])
        for command in random_flow(market, seed, 400, spread=seed % 31):
            r = engine.process(command)
            h.update(repr((r.code, r.order_id, r.reason, r.events)).encode())
        h.update(engine.state_hash().encode())
    print(is_compiled(), h.hexdigest())
""")


def _run(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "BOURSE_PURE_PYTHON"}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env={**environment, **env}, capture_output=True,
                          text=True, timeout=120, check=True)


def test_compiled_and_source_engines_give_the_same_events_and_states() -> None:
    if not compiled.is_compiled():
        pytest.skip("this install did not compile the engine (no C compiler or mypyc): only the sources run")
    built = _run(FLOW_DIGEST, ROOT).stdout.split()
    sources = _run(FLOW_DIGEST, ROOT, BOURSE_PURE_PYTHON="1").stdout.split()
    assert built[0] == "True" and sources[0] == "False"
    assert built[1] == sources[1]


def test_edited_sources_run_instead_of_a_stale_build(tmp_path: Path) -> None:
    if not compiled.is_compiled():
        pytest.skip("this install did not compile the engine: there is no build to go stale")
    copy = tmp_path / "matcher"
    shutil.copytree(ROOT / "matcher", copy, ignore=shutil.ignore_patterns("__pycache__", "exchange"))
    probe = "import matcher, matcher.compiled as c; print(matcher.__file__, c.is_compiled())"
    where, running_compiled = _run(probe, tmp_path).stdout.split()
    assert where.startswith(str(tmp_path)) and running_compiled == "True"  # an exact copy of the build runs compiled
    with open(copy / "fees.py", "a") as source:
        source.write("\n# an edit the build does not have\n")
    edited = _run(probe, tmp_path)
    assert edited.stdout.split()[1] == "False"
    assert "do not match the sources" in edited.stderr


def test_pure_python_switch_and_missing_build(tmp_path: Path) -> None:
    copy = tmp_path / "matcher"
    shutil.copytree(ROOT / "matcher", copy, ignore=shutil.ignore_patterns("__pycache__", "exchange", "*.so",
                                                                          "_built_from.py"))
    probe = "import matcher, matcher.compiled as c; print(c.is_compiled(), c.choose_sources())"
    assert _run(probe, tmp_path).stdout.strip() == "False not compiled"
    assert _run(probe, ROOT, BOURSE_PURE_PYTHON="1").stdout.strip() == "False BOURSE_PURE_PYTHON is set"


def test_a_dropped_engine_is_freed_and_results_are_not_tracked_by_the_collector() -> None:
    """A compiled build keeps results and event records out of the garbage collector (mypyc's `acyclic`): that is
    sound only while none of them can be part of a reference cycle. An engine dropped after random flow, with
    results kept and read, must be freed whole by the collector (its orders included); and in a compiled build a
    result is not tracked."""
    import gc

    from matcher import Engine
    from matcher.book import Order
    from matcher.flow import random_flow
    from matcher.market import Asset, MarketSpec

    market = MarketSpec("GCPROBEWBNB", Asset("GCPROBE", "0x" + "c1" * 20, 18), Asset("WBNB", "0x" + "b2" * 20, 18),
                        tick_size=10**14, lot_size=10**16, min_notional=10**14, maker_fee_bps=10, taker_fee_bps=20)

    def probe_orders() -> int:
        return sum(1 for o in gc.get_objects() if type(o) is Order and o.symbol == market.symbol)

    engine = Engine([market])
    kept = []
    for i, command in enumerate(random_flow(market, 5, 2_000)):
        result = engine.process(command)
        if i % 3 == 0:
            result.events  # typed, and kept with its records
            kept.append(result)
    assert engine.orders and probe_orders() > 0
    assert gc.is_tracked(kept[-1]) is not compiled.is_compiled()
    del engine, result
    kept.clear()
    for _ in range(3):  # an order held by a record outside the collector's view is freed on a later pass
        gc.collect()
    assert probe_orders() == 0

"""schemathesis (in its own environment) fuzzes every operation of /openapi.json against a running exchange: no
server errors, responses and status codes as documented, malformed requests refused, 405s with `Allow`. The
market-data operations must also take every request their schema allows. (Signed operations cannot: a request
with a random signature is rightly refused, so that one check is left out for them.)"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from matcher.exchange.ratelimits import RateLimits
from bourse.stack import Stack
from tests.tools import ROOT

SCHEMATHESIS = ROOT / ".tools" / "schemathesis-4.32.5" / "bin" / "python"  # .ci/run installs it
MARKET_DATA = r"^/api/v3/(klines|uiKlines|aggTrades|historicalTrades|depth|trades|avgPrice|time|ping)$"

pytestmark = pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis 4.32.5 is not installed (.ci/run "
                                                                  "installs it into .tools)")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(Path(tmp_path_factory.mktemp("stack")), batch_interval=0.2,
                    rate_limits=RateLimits(0, 0, 0, 0)).start()  # a fuzzer sends far more than 6000 weight a minute
    yield running
    running.stop()


def schemathesis(stack: Stack, *args: str) -> str:
    out = subprocess.run([str(SCHEMATHESIS), "-m", "schemathesis.cli", "run", f"{stack.exchange_url}/openapi.json",
                          "--max-examples", "10", "--seed", "1", *args], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
    return out.stdout


def test_every_operation_conforms_to_the_spec(stack: Stack) -> None:
    out = schemathesis(stack, "--exclude-checks", "positive_data_acceptance")
    counted = re.search(r"(\d+) generated, (\d+) passed", out)
    assert counted and counted.group(1) == counted.group(2) and int(counted.group(1)) > 500, out[-3000:]


def test_market_data_takes_every_request_its_schema_allows(stack: Stack) -> None:
    out = schemathesis(stack, "--include-path-regex", MARKET_DATA)
    assert "No issues found" in out

"""Binance's own client libraries, unmodified, each in its own environment (both install a `binance` package):
python-binance's Client and ThreadedDepthCacheManager, and binance-connector's Spot and websocket client."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from matcher.client import ExchangeClient
from bourse.stack import Stack
from tests.tools import ROOT

from .conftest import fund

FIXTURES = Path(__file__).parent / "fixtures"
PYTHON_BINANCE = ROOT / ".tools" / "python-binance-1.0.37" / "bin" / "python"
BINANCE_CONNECTOR = ROOT / ".tools" / "binance-connector-3.13.0" / "bin" / "python"


@pytest.fixture(scope="module")
def keys(clients: dict[str, ExchangeClient]) -> dict[str, dict[str, str]]:
    """API keys of a seller (BRS) and a buyer (WBNB) for each client library: alice and bob for python-binance,
    carol and dave for binance-connector. Each library has accounts of its own because Binance's order limit (100
    per 10 s) is counted per account: sharing them, how many of the first session's orders still count against the
    second would depend on how fast the machine ran the first."""
    for seller, buyer in (("alice", "bob"), ("carol", "dave")):
        fund(clients[seller], {"BRS": "3000"})
        fund(clients[buyer], {"WBNB": "10"})
    return {name: clients[name].create_api_key(label=f"{name} for Binance's clients")
            for name in ("alice", "bob", "carol", "dave")}


def run(python: Path, script: str, *args: str) -> str:
    out = subprocess.run([str(python), str(FIXTURES / script), *args], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    return out.stdout


@pytest.mark.skipif(not PYTHON_BINANCE.exists(), reason="python-binance 1.0.37 is not installed (.ci/run installs "
                                                         "it into .tools)")
def test_python_binance_trades_and_its_depth_cache_equals_rest_depth(stack: Stack,
                                                                     keys: dict[str, dict[str, str]]) -> None:
    out = run(PYTHON_BINANCE, "python_binance_session.py", stack.exchange_url, keys["alice"]["apiKey"],
              keys["alice"]["secretKey"], keys["bob"]["apiKey"], keys["bob"]["secretKey"])
    for check in ("exchange info ok", "orders ok 200", "depth cache ok", "klines and aggregate trades ok",
                  "tickers ok", "account ok"):
        assert check in out, out


@pytest.mark.skipif(not BINANCE_CONNECTOR.exists(), reason="binance-connector 3.13.0 is not installed (.ci/run "
                                                           "installs it into .tools)")
def test_binance_connector_spot_and_diff_book_depth(stack: Stack, keys: dict[str, dict[str, str]]) -> None:
    out = run(BINANCE_CONNECTOR, "binance_connector_session.py", stack.exchange_url, keys["carol"]["apiKey"],
              keys["carol"]["secretKey"], keys["dave"]["apiKey"], keys["dave"]["secretKey"])
    for check in ("market data ok", "trading ok", "diff book depth ok", "user stream ok"):
        assert check in out, out

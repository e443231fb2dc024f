"""The Uniswap v2 / PancakeSwap swap tables pass exactly: the expected output succeeds, one wei more hits K."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts.deploy import at, deploy
from contracts.predeploy import address_of

from .conftest import reverts, send

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "uniswap_v2_swap_cases.json"


def _cases() -> list[Any]:
    if not VECTORS.exists():
        return [pytest.param(None, None, None, marks=pytest.mark.skip(reason=f"vectors folder missing: {VECTORS}"))]
    data = json.loads(VECTORS.read_text())
    out = []
    # the 0.25% PancakeSwap v2 set is computed by the vector collector, not upstream: run it too
    for case_set in [*data["sets"], data["derived_by_collector_not_upstream"]]:
        denominator = case_set["fee_denominator"]
        fee_bps = (denominator - case_set["fee_numerator_kept"]) * 10_000 // denominator
        for kind in ("getInputPrice", "optimistic"):
            for row in case_set.get(kind, []):
                out.append(pytest.param(fee_bps, kind, row, id=f"{case_set['name']}-{row['test']}"))
    return out


def _pair_with_reserves(w3: Any, fee_bps: int, amount0: int, amount1: int) -> tuple[Any, Any, Any, str]:
    me = w3.eth.accounts[0]
    factory = deploy(w3, "AmmFactory", address_of("AmmPair"), fee_bps, me)
    a = deploy(w3, "PlatformToken", "A", "A", 10**30)
    b = deploy(w3, "PlatformToken", "B", "B", 10**30)
    send(w3, factory.functions.createPair(a.address, b.address), me)
    pair = at(w3, "AmmPair", factory.functions.getPair(a.address, b.address).call())
    token0, token1 = (a, b) if pair.functions.token0().call() == a.address else (b, a)
    send(w3, token0.functions.transfer(pair.address, amount0), me)
    send(w3, token1.functions.transfer(pair.address, amount1), me)
    send(w3, pair.functions.mint(me), me)
    return pair, token0, token1, me


@pytest.mark.parametrize("fee_bps,kind,row", _cases())
def test_swap_table_row_is_exact(w3: Any, fee_bps: int, kind: str, row: dict[str, str]) -> None:
    pair, token0, _token1, me = _pair_with_reserves(w3, fee_bps, int(row["token0Amount"]), int(row["token1Amount"]))
    if kind == "getInputPrice":
        send(w3, token0.functions.transfer(pair.address, int(row["swapAmount"])), me)
        out = int(row["expectedOutputAmount"])
        reverts(w3, pair.functions.swap(0, out + 1, me, b""), me, "pair: K")
        send(w3, pair.functions.swap(0, out, me, b""), me)
    else:
        send(w3, token0.functions.transfer(pair.address, int(row["inputAmount"])), me)
        out = int(row["outputAmount"])
        reverts(w3, pair.functions.swap(out + 1, 0, me, b""), me, "pair: K")
        send(w3, pair.functions.swap(out, 0, me, b""), me)

"""The settler is woken by fills, not by a timer: the core tells it of each durable command's fills, and it wakes
once a batch's worth waits or the batch in flight has its receipt (whose outcome it then records). And the gas limit
it may send a batch with unsimulated."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from matcher.exchange.settler import FRESH_WORD_GAS, InFlight, Settler
from matcher.model import Side, TimeInForce

from .test_core import core_at, place

HOUR = 3600.0  # a wait that ends only if something wakes it (each test bounds it far below)


class QuietVault:
    """What the settler asks a vault at start, and nothing more: these tests send no batch."""
    address = "0x" + "0a" * 20

    class rpc:  # noqa: N801 - the shape of wallet.rpc.Rpc the settler reads
        @staticmethod
        def chain_id() -> int:
            return 31337

    def last_batch_id(self) -> int:
        return 0

    def platform_token(self) -> str:
        return "0x" + "b1" * 20


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Any, Settler]:
    core = core_at(tmp_path / "x.sqlite3")
    settler = Settler(core, QuietVault(), None, "0x" + "0e" * 20, batch_size=3, batch_interval=HOUR)  # type: ignore
    core.announcers.append(settler.hear)
    core.deposit("alice", "BRS", 10**20, "tx:1", 5)
    core.deposit("bob", "WBNB", 10**20, "tx:2", 5)
    for nonce in range(1, 5):
        place(core, "alice", Side.SELL, 10, 2000 + nonce, nonce)
    return core, settler


def woken(settler: Settler, within: float) -> bool:
    async def wait() -> bool:
        try:
            await asyncio.wait_for(settler.wait_for_work(HOUR), within)
        except asyncio.TimeoutError:
            return False
        return True
    return asyncio.run(wait())


def test_a_batch_worth_of_fills_wakes_the_settler_and_fewer_do_not(setup: tuple[Any, Settler]) -> None:
    core, settler = setup
    assert settler.fills_waiting == 0  # the deposits and resting orders made no fill

    async def run() -> None:
        waiting = asyncio.ensure_future(settler.wait_for_work(HOUR))
        await asyncio.sleep(0.05)
        place(core, "bob", Side.BUY, 10, 2001, 1, TimeInForce.IOC)
        await asyncio.sleep(0.1)
        assert settler.fills_waiting == 1 and not waiting.done()
        place(core, "bob", Side.BUY, 20, 2003, 2, TimeInForce.IOC)  # one order, two fills: a batch's worth
        await asyncio.wait_for(waiting, 10)
        assert settler.fills_waiting == 3

    asyncio.run(run())
    assert woken(settler, 10)  # and a wait that starts with a batch's worth heard of ends at once


def test_a_look_at_the_ledger_resets_the_count(setup: tuple[Any, Settler]) -> None:
    core, settler = setup
    place(core, "bob", Side.BUY, 20, 2002, 1, TimeInForce.IOC)
    settler.fills_waiting = 50  # say it heard of fills that were then reversed
    assert asyncio.run(settler._settle_due()) is False  # two fills, waited less than the batch interval
    assert settler.fills_waiting == 2 and not woken(settler, 0.2)
    place(core, "bob", Side.BUY, 10, 2003, 2, TimeInForce.IOC)
    assert woken(settler, 10)


def test_the_receipt_of_the_batch_in_flight_wakes_the_settler_which_records_it(setup: tuple[Any, Settler]) -> None:
    _, settler = setup

    async def run() -> InFlight | None:
        receipt: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        settler.in_flight = InFlight({"batch_id": 1}, 0, asyncio.ensure_future(receipt))
        waiting = asyncio.ensure_future(settler.wait_for_work(HOUR))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        receipt.set_result(None)  # sent, not mined yet: recorded as such (the next pass looks again)
        await asyncio.wait_for(waiting, 10)
        return settler.in_flight

    assert asyncio.run(run()) is None


def test_the_learnt_gas_limit_allows_each_nonce_word_a_first_write(setup: tuple[Any, Settler]) -> None:
    """Makers whose nonces are spread mark a word per order, each maybe for the first time (a zero-to-nonzero store):
    a limit learnt from batches that marked few words ran such a batch out of gas."""
    _, settler = setup
    settler.simulate_next, settler.gas_per_fill, settler._block_gas_limit = False, 25_000, 30_000_000
    few, spread = settler._learnt_gas_limit(100, 2), settler._learnt_gas_limit(100, 200)
    assert few == 50_000 + 100 * 25_000 * 3 // 2 + 2 * FRESH_WORD_GAS
    assert spread is not None and spread - few == 198 * FRESH_WORD_GAS and FRESH_WORD_GAS >= 22_100 - 5_000
    settler._block_gas_limit = 6_000_000  # more than 90 % of a block: simulated instead
    assert settler._learnt_gas_limit(100, 2) is not None and settler._learnt_gas_limit(100, 200) is None

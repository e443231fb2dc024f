"""secp256k1 work in the worker process (matcher/exchange/curve_worker.py): recovering signers and signing with an
agent's key give the same answers as on the loop; the work of one turn of the loop goes as one batch; the loop
does the work itself when the worker cannot start or dies - what was owed to the dead worker included."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from typing import Any

import pytest
from coincurve import PrivateKey
from eth_account import Account

from matcher.exchange.curve_worker import (COUNT, CurveWorker, Recover, Sign, Work, answer, do_here, record,
                                           recover_address, run_here, run_off_loop)
from matcher.exchange.signed import sign_digest, split_signature

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def works(n: int) -> list[tuple[Work, bytes | None]]:
    """n pieces of work and what each must give: recoveries (every third to no key), signatures (one key not
    valid)."""
    cases: list[tuple[Work, bytes | None]] = []
    for i in range(n):
        digest = os.urandom(32)
        if i % 4 == 3:
            key = os.urandom(32) if i % 8 == 3 else N.to_bytes(32, "big")  # n itself is not a valid key
            expected = PrivateKey(key).sign_recoverable(digest, hasher=None) if i % 8 == 3 else None
            cases.append((Sign(digest, key), expected))
        elif i % 4 == 2:
            cases.append((Recover(digest, (27, (5).to_bytes(32, "big"), (1).to_bytes(32, "big"))), None))
        else:
            account = Account.create()
            cases.append((Recover(digest, split_signature(sign_digest(digest, account.key))),
                          bytes.fromhex(account.address[2:])))
    return cases


def run(check: Any) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(check(loop))
    finally:
        loop.close()


def test_the_worker_does_a_turns_work_in_one_batch_as_the_loop_would() -> None:
    cases = works(16)

    async def check(loop: asyncio.AbstractEventLoop) -> tuple[list[Any], int, bool]:
        worker = CurveWorker()
        worker.start(loop)
        try:
            answers = await asyncio.gather(*[worker.do(work) for work, _ in cases])  # asked in one turn
            assert await worker.do(cases[0][0]) == cases[0][1]  # and in a later one
            return answers, worker.batches, worker.worker_failed
        finally:
            worker.close()

    answers, batches, failed = run(check)
    assert not failed
    assert answers == [expected for _, expected in cases] == [do_here(work) for work, _ in cases]
    assert recover_address(cases[0][0].digest, cases[0][0].signature) == cases[0][1]  # type: ignore[union-attr]
    assert batches == 2


def test_steps_give_the_same_result_on_and_off_the_loop() -> None:
    cases = works(8)

    def steps() -> Any:
        results = []
        for work, _ in cases:
            results.append((yield work))
        return results

    async def check(loop: asyncio.AbstractEventLoop) -> list[Any]:
        worker = CurveWorker()
        worker.start(loop)
        try:
            return await run_off_loop(steps(), worker)  # type: ignore[no-any-return]
        finally:
            worker.close()

    assert run(check) == run_here(steps()) == [expected for _, expected in cases]


def test_a_dead_worker_leaves_its_work_to_the_loop(caplog: pytest.LogCaptureFixture) -> None:
    cases = works(8)

    async def check(loop: asyncio.AbstractEventLoop) -> tuple[list[Any], list[Any], bool]:
        worker = CurveWorker()
        worker.start(loop)
        assert await worker.do(cases[0][0]) == cases[0][1]  # it is up
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGSTOP)  # stopped: what is sent now stays owed...
        owed = [worker.do(work) for work, _ in cases]
        await asyncio.sleep(0.1)
        assert not any(f.done() for f in owed)
        os.kill(worker.pid, signal.SIGKILL)  # ...until it dies, and the loop does it
        first = await asyncio.wait_for(asyncio.gather(*owed), 10)
        later = await asyncio.gather(*[worker.do(work) for work, _ in cases])
        failed = worker.worker_failed
        worker.close()
        return first, later, failed

    with caplog.at_level(logging.WARNING, "bourse.exchange.curve_worker"):
        first, later, failed = run(check)
    assert failed
    assert first == later == [expected for _, expected in cases]
    assert "doing its work on the event loop instead" in caplog.text


def test_a_worker_that_cannot_start_leaves_the_work_to_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    cases = works(4)

    async def check(loop: asyncio.AbstractEventLoop) -> tuple[list[Any], bool]:
        worker = CurveWorker()
        worker.start(loop)
        answers = await asyncio.gather(*[worker.do(work) for work, _ in cases])
        worker.close()
        return answers, worker.worker_failed

    answers, failed = run(check)
    assert failed and answers == [expected for _, expected in cases]


def test_the_worker_answers_its_records_and_exits_when_its_input_ends() -> None:
    """The worker's own protocol, and what happens when the exchange is killed: its input ends and it exits."""
    cases = works(8)
    worker = subprocess.Popen([sys.executable, "-m", "matcher.exchange.curve_worker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    assert worker.stdin is not None and worker.stdout is not None
    records = b"".join(record(work) for work, _ in cases)
    worker.stdin.write(COUNT.pack(len(cases)) + records)
    worker.stdin.flush()
    expected = answer(records)
    assert worker.stdout.read(len(expected)) == expected
    assert expected[:21] == b"\x01" + cases[0][1]  # type: ignore[operator]
    worker.stdin.close()
    assert worker.wait(timeout=30) == 0


async def until(condition: Any, seconds: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_a_dead_worker_is_started_again_after_a_back_off(caplog: pytest.LogCaptureFixture) -> None:
    cases = works(4)

    async def check(loop: asyncio.AbstractEventLoop) -> None:
        worker = CurveWorker(restart_after=(0.05, 0.2))
        worker.start(loop)
        try:
            assert await worker.do(cases[0][0]) == cases[0][1]
            first = worker.pid
            assert first is not None
            os.kill(first, signal.SIGKILL)
            await until(lambda: worker.worker_failed)
            await until(lambda: not worker.worker_failed)  # started again
            assert worker.starts == 2 and worker.pid not in (None, first)
            batches = worker.batches
            assert await asyncio.gather(*[worker.do(work) for work, _ in cases]) == [e for _, e in cases]
            assert worker.batches == batches + 1  # answered by the new worker
        finally:
            worker.close()

    with caplog.at_level(logging.WARNING, "bourse.exchange.curve_worker"):
        run(check)
    assert "the secp256k1 worker started again" in caplog.text


def test_a_stuck_worker_is_killed_its_work_done_here_and_it_is_started_again() -> None:
    cases = works(4)

    async def check(loop: asyncio.AbstractEventLoop) -> None:
        worker = CurveWorker(restart_after=(0.05, 0.2), answer_within=0.3)
        worker.start(loop)
        try:
            assert await worker.do(cases[0][0]) == cases[0][1]
            stuck = worker.pid
            assert stuck is not None
            os.kill(stuck, signal.SIGSTOP)
            answers = await asyncio.wait_for(asyncio.gather(*[worker.do(work) for work, _ in cases]), 30)
            assert answers == [e for _, e in cases]  # done here once the worker was taken for stuck
            await until(lambda: not worker.worker_failed and worker.starts == 2)
            assert worker.pid != stuck
            assert not os.path.exists(f"/proc/{stuck}")  # killed and reaped
        finally:
            worker.close()

    run(check)


def test_a_closed_worker_is_not_started_again() -> None:
    async def check(loop: asyncio.AbstractEventLoop) -> int:
        worker = CurveWorker(restart_after=(0.05, 0.2))
        worker.start(loop)
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        await until(lambda: worker.worker_failed)
        worker.close()
        await asyncio.sleep(0.3)
        return worker.starts

    assert run(check) == 1

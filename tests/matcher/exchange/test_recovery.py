"""Signature recovery in the worker process (matcher/exchange/recovery.py): the same answers as on the loop, the
recoveries of one turn of the loop sent as one batch, and the loop doing them itself when the worker cannot start
or dies - what was owed to the dead worker included."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from typing import Any

import pytest
from eth_account import Account

from matcher.exchange.recovery import Recoverer, recover_address
from matcher.exchange.signed import sign_digest, split_signature


def signed(n: int) -> list[tuple[bytes, Any, bytes | None]]:
    """n (digest, signature, signer) cases; every third signature recovers to no key."""
    cases = []
    for i in range(n):
        digest = os.urandom(32)
        if i % 3 == 2:
            cases.append((digest, (27, (5).to_bytes(32, "big"), (1).to_bytes(32, "big")), None))
            continue
        account = Account.create()
        parts = split_signature(sign_digest(digest, account.key))
        cases.append((digest, parts, bytes.fromhex(account.address[2:])))
    return cases


def run(recoverer_test: Any) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(recoverer_test(loop))
    finally:
        loop.close()


def test_the_worker_answers_a_turns_recoveries_in_one_batch_as_the_loop_would() -> None:
    cases = signed(12)

    async def check(loop: asyncio.AbstractEventLoop) -> tuple[list[Any], int, bool]:
        recoverer = Recoverer()
        recoverer.start(loop)
        try:
            answers = await asyncio.gather(*[recoverer.recover(d, s) for d, s, _ in cases])  # asked in one turn
            more = await recoverer.recover(cases[0][0], cases[0][1])  # and a later turn's
            assert more == cases[0][2]
            return answers, recoverer.batches, recoverer.worker_failed
        finally:
            recoverer.close()

    answers, batches, failed = run(check)
    assert not failed
    assert answers == [expected for _, _, expected in cases]
    assert answers == [recover_address(d, s) for d, s, _ in cases]
    assert batches == 2


def test_a_dead_worker_leaves_its_work_to_the_loop(caplog: pytest.LogCaptureFixture) -> None:
    cases = signed(6)

    async def check(loop: asyncio.AbstractEventLoop) -> tuple[list[Any], list[Any], bool]:
        recoverer = Recoverer()
        recoverer.start(loop)
        assert await recoverer.recover(cases[0][0], cases[0][1]) == cases[0][2]  # it is up
        assert recoverer.pid is not None
        os.kill(recoverer.pid, signal.SIGSTOP)  # stopped: what is sent now stays owed...
        owed = [recoverer.recover(d, s) for d, s, _ in cases]
        await asyncio.sleep(0.1)
        assert not any(f.done() for f in owed)
        os.kill(recoverer.pid, signal.SIGKILL)  # ...until it dies, and the loop answers it
        first = await asyncio.wait_for(asyncio.gather(*owed), 10)
        later = await asyncio.gather(*[recoverer.recover(d, s) for d, s, _ in cases])
        failed = recoverer.worker_failed
        recoverer.close()
        return first, later, failed

    with caplog.at_level(logging.WARNING, "bourse.exchange.recovery"):
        first, later, failed = run(check)
    assert failed
    assert first == later == [expected for _, _, expected in cases]
    assert "recovering signatures on the event loop instead" in caplog.text


def test_a_worker_that_cannot_start_leaves_the_work_to_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    cases = signed(3)

    async def check(loop: asyncio.AbstractEventLoop) -> tuple[list[Any], bool]:
        recoverer = Recoverer()
        recoverer.start(loop)
        answers = await asyncio.gather(*[recoverer.recover(d, s) for d, s, _ in cases])
        recoverer.close()
        return answers, recoverer.worker_failed

    answers, failed = run(check)
    assert failed and answers == [expected for _, _, expected in cases]


def test_the_worker_answers_its_records_and_exits_when_its_input_ends() -> None:
    """The worker's own protocol, and what happens when the exchange is killed: its input ends and it exits."""
    import subprocess

    from matcher.exchange.recovery import ANSWERED, COUNT

    cases = signed(3)
    worker = subprocess.Popen([sys.executable, "-m", "matcher.exchange.recovery"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    assert worker.stdin is not None and worker.stdout is not None
    worker.stdin.write(COUNT.pack(3) + b"".join(d + r + s_ + bytes((v,)) for d, (v, r, s_), _ in cases))
    worker.stdin.flush()
    answers = worker.stdout.read(3 * ANSWERED)
    assert answers == b"".join(b"\x00" + bytes(20) if e is None else b"\x01" + e for _, _, e in cases)
    worker.stdin.close()
    assert worker.wait(timeout=30) == 0

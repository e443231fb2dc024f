"""secp256k1 work off the event loop: recovering who signed an order, signing an API-key order with its agent's key.

Both are libsecp256k1 calls of ~30-45 us here, all of it on the event loop, which is what bounds order intake
(the machine's other core sat ~40 % idle under the exchange bench). `CurveWorker` hands the work asked for in one
turn of the loop to a worker process (`python -m matcher.exchange.curve_worker`) in one write and reads the
answers back in one: a process rather than a thread, so the worker never waits for the loop's GIL nor makes the
loop wait for it. Records are fixed-size per kind (see `KINDS`) and answered in order. An agent's private key
travels to the worker on the anonymous pipe between the exchange and its own child (the same user; the exchange
holds the key in memory already), and is used there for that one signature, never kept or written.

If the worker cannot start, dies, or keeps a batch unanswered for `ANSWER_WITHIN` (it is then killed), all it owed
and everything until it is started again (after a back-off, `RESTART_AFTER`) is done on the loop: the answers are
the same either way (RFC 6979 signatures are deterministic). The worker exits when its input ends, so it never
outlives the exchange, SIGKILL included.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from typing import Any, Union

from coincurve import PublicKey

from contracts.secp import keccak, sign_recoverable

log = logging.getLogger("bourse.exchange.curve_worker")

Signature = tuple[int, bytes, bytes]  # (v, r, s), as signed.split_signature gives it


@dataclass(frozen=True)
class Recover:
    """Who signed `digest`: the 20 address bytes, or None if the signature recovers to no key."""
    digest: bytes
    signature: Signature


@dataclass(frozen=True)
class Sign:
    """`digest` signed with `key`: r || s || recovery id (65 bytes), or None if the key is not valid."""
    digest: bytes
    key: bytes


Work = Union[Recover, Sign]
KINDS = {b"R": (97, 21), b"S": (64, 66)}  # kind: (record size after the kind byte, answer size)
COUNT = struct.Struct("<I")
MAX_BATCH = 1024  # records in one write (a turn of the loop rarely has more than its connections)
ANSWER_WITHIN = 2.0  # seconds a batch may wait for its answers before the worker is taken for stuck (~1 ms usual)
RESTART_AFTER = (1.0, 60.0)  # a failed worker is started again after 1 s, then 2, 4 ... at most 60 between tries


def recover_address(digest: bytes, signature: Signature) -> bytes | None:
    """The 20 address bytes that signed `digest`, or None if the signature recovers to no key."""
    v, r, s = signature
    try:
        public = PublicKey.from_signature_and_message(r + s + bytes((v - 27,)), digest, hasher=None)
    except Exception:  # r or s out of range, or a signature that recovers to no point
        return None
    return keccak(public.format(compressed=False)[1:])[12:]


def sign_digest(digest: bytes, key: bytes) -> bytes | None:
    try:
        return sign_recoverable(key, digest)
    except ValueError:
        return None


def do_here(work: Work) -> bytes | None:
    """The work done on the caller's thread."""
    if isinstance(work, Recover):
        return recover_address(work.digest, work.signature)
    return sign_digest(work.digest, work.key)


def record(work: Work) -> bytes:
    if isinstance(work, Recover):
        v, r, s = work.signature
        return b"R" + work.digest + r + s + bytes((v,))
    return b"S" + work.digest + work.key


def answer(records: bytes) -> bytes:
    """The worker's answers to a batch of records: a flag byte (1: done) and the result, zero-padded."""
    out = bytearray()
    at = 0
    while at < len(records):
        kind = records[at:at + 1]
        size, answer_size = KINDS[kind]
        body = records[at + 1:at + 1 + size]
        at += 1 + size
        if kind == b"R":
            found = recover_address(body[:32], (body[96], body[32:64], body[64:96]))
        else:
            found = sign_digest(body[:32], body[32:64])
        out += b"\x00" + bytes(answer_size - 1) if found is None else b"\x01" + found
    return bytes(out)


def parse_answer(work: Work, raw: bytes | bytearray) -> bytes | None:
    if not raw[0]:
        return None
    return bytes(raw[1:21]) if isinstance(work, Recover) else bytes(raw[1:66])


def answer_size(work: Work) -> int:
    return KINDS[b"R"][1] if isinstance(work, Recover) else KINDS[b"S"][1]


Pending = list[tuple[Work, "asyncio.Future[bytes | None]"]]


class CurveWorker:
    """secp256k1 work for the event loop, batched per turn and done by the worker process (or, failing it, here)."""

    def __init__(self, restart_after: tuple[float, float] = RESTART_AFTER,
                 answer_within: float = ANSWER_WITHIN) -> None:
        self._restart_after, self._answer_within = restart_after, answer_within
        self._process: subprocess.Popen[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._batch: Pending = []
        self._sent: deque[Pending] = deque()
        self._answers = bytearray()
        self._outgoing = bytearray()  # written to the worker as its input pipe takes it
        self.worker_failed = False  # until a restart, the work is done on the loop
        self.batches = 0  # batches the worker answered
        self.starts = 0  # worker processes started
        self._delay = restart_after[0]  # before the next restart
        self._timer: asyncio.TimerHandle | None = None  # the restart, or the watch on the oldest unanswered batch
        self._sent_at: deque[float] = deque()  # loop time each unanswered batch was sent
        self._closed = False

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop, self._timer = loop, None
        if self._closed:
            return
        try:
            self._process = subprocess.Popen([sys.executable, "-m", "matcher.exchange.curve_worker"],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            self.starts += 1
            assert self._process.stdout is not None and self._process.stdin is not None
            os.set_blocking(self._process.stdout.fileno(), False)
            os.set_blocking(self._process.stdin.fileno(), False)
            loop.add_reader(self._process.stdout.fileno(), self._read)
        except (OSError, NotImplementedError, RuntimeError) as exc:
            self._fail(f"the secp256k1 worker did not start ({exc})")
            return
        if self.worker_failed:
            log.warning("the secp256k1 worker started again")
        self.worker_failed = False

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def do(self, work: Work) -> asyncio.Future[bytes | None]:
        """A future of `do_here(work)`, sent to the worker at the end of this turn of the loop."""
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[bytes | None] = loop.create_future()
        if self._process is None or self.worker_failed:
            future.set_result(do_here(work))
            return future
        if not self._batch:
            loop.call_soon(self._send)
        self._batch.append((work, future))
        return future

    def _send(self) -> None:
        batch, self._batch = self._batch[:MAX_BATCH], self._batch[MAX_BATCH:]
        if self._batch:
            assert self._loop is not None
            self._loop.call_soon(self._send)
        if not batch:
            return
        if self.worker_failed or self._process is None:
            self._answer_here([batch])
            return
        self._sent.append(batch)
        assert self._loop is not None
        self._sent_at.append(self._loop.time())
        if self._timer is None:
            self._timer = self._loop.call_later(self._answer_within, self._watch)
        pending = bool(self._outgoing)
        self._outgoing += COUNT.pack(len(batch)) + b"".join(record(work) for work, _ in batch)
        if not pending:
            self._write()

    def _write(self) -> None:
        """As much of the outgoing bytes as the pipe takes now; the rest when it is writable again."""
        assert self._process is not None and self._process.stdin is not None and self._loop is not None
        fd = self._process.stdin.fileno()
        try:
            written = os.write(fd, self._outgoing)
        except BlockingIOError:
            written = 0
        except OSError as exc:
            self._fail(f"the secp256k1 worker stopped taking work ({exc})")
            return
        del self._outgoing[:written]
        if self._outgoing:
            self._loop.add_writer(fd, self._write)
        else:
            self._loop.remove_writer(fd)

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        try:
            data = os.read(self._process.stdout.fileno(), 65536)
        except BlockingIOError:
            return
        except OSError as exc:
            self._fail(f"the secp256k1 worker's answers could not be read ({exc})")
            return
        if not data:
            self._fail("the secp256k1 worker exited")
            return
        self._answers += data
        while self._sent:
            batch = self._sent[0]
            sizes = [answer_size(work) for work, _ in batch]
            if len(self._answers) < sum(sizes):
                return
            self._sent.popleft()
            self._sent_at.popleft()
            self.batches += 1
            self._delay = self._restart_after[0]  # it works: a later failure starts the back-off again
            at = 0
            for (work, future), size in zip(batch, sizes):
                if not future.done():
                    future.set_result(parse_answer(work, self._answers[at:at + size]))
                at += size
            del self._answers[:at]

    def _answer_here(self, batches: Any) -> None:
        for batch in batches:
            for work, future in batch:
                if not future.done():
                    future.set_result(do_here(work))

    def _watch(self) -> None:
        """A worker that keeps a batch longer than `answer_within` is stuck: it is killed and its work done here."""
        self._timer = None
        if not self._sent_at or self._loop is None:
            return
        waited = self._loop.time() - self._sent_at[0]
        if waited >= self._answer_within:
            self._fail(f"the secp256k1 worker did not answer within {self._answer_within:g} s")
        else:
            self._timer = self._loop.call_later(self._answer_within - waited, self._watch)

    def _fail(self, why: str) -> None:
        """Do on the loop what the worker owed, and everything until it is started again (after a back-off)."""
        if not self.worker_failed:
            log.warning("%s: doing its work on the event loop instead", why)
        self.worker_failed = True
        self._stop_process(kill=True)
        owed, self._sent, self._sent_at = list(self._sent), deque(), deque()
        self._answers = bytearray()
        self._answer_here(owed)
        if self._timer is not None:
            self._timer.cancel()
        if self._loop is not None and not self._closed:
            loop = self._loop
            self._timer = loop.call_later(self._delay, self.start, loop)
            self._delay = min(self._delay * 2, self._restart_after[1])

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._answer_here([self._batch, *self._sent])
        self._batch, self._sent, self._sent_at = [], deque(), deque()
        self._stop_process()

    def _stop_process(self, kill: bool = False) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        self._outgoing = bytearray()
        if self._loop is not None and process.stdout is not None and process.stdin is not None:
            try:
                self._loop.remove_reader(process.stdout.fileno())
                self._loop.remove_writer(process.stdin.fileno())
            except (ValueError, RuntimeError):  # a closed loop or file
                pass
        for stream in (process.stdin, process.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        if kill:  # failed: it may be stopped or stuck, and nothing it might still say is wanted
            process.kill()
        try:
            process.wait(timeout=5)  # its input closed: it exits
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def run_off_loop(steps: Any, worker: CurveWorker) -> Any:
    """Drive a generator that yields `Work` and is sent each result, its work done by `worker`; its return value."""
    try:
        work = next(steps)
        while True:
            work = steps.send(await worker.do(work))
    except StopIteration as done:
        return done.value


def run_here(steps: Any) -> Any:
    """The same, the work done on the caller's thread."""
    try:
        work = next(steps)
        while True:
            work = steps.send(do_here(work))
    except StopIteration as done:
        return done.value


def serve(source: Any, sink: Any) -> None:
    """The worker: read batches until its input ends, answer each in order."""
    while True:
        head = _read_exactly(source, COUNT.size)
        if head is None:
            return
        (count,) = COUNT.unpack(head)
        records = bytearray()
        for _ in range(count):
            kind = _read_exactly(source, 1)
            if kind is None or kind not in KINDS:
                return  # the end of the input, or not this protocol: stop
            body = _read_exactly(source, KINDS[kind][0])
            if body is None:
                return
            records += kind + body
        out = memoryview(answer(bytes(records)))
        while out:
            out = out[sink.write(out):]


def _read_exactly(source: Any, size: int) -> bytes | None:
    data = bytearray()
    while len(data) < size:
        chunk = source.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


if __name__ == "__main__":
    try:
        serve(os.fdopen(0, "rb", buffering=0), os.fdopen(1, "wb", buffering=0))
    except (BrokenPipeError, KeyboardInterrupt):
        pass

"""Who signed an order: secp256k1 public-key recovery, in a worker process beside the event loop.

Recovering the signer of a signed order costs ~30 us of libsecp256k1 here, a tenth of what the exchange spends on
the order, all of it on the event loop, which is what bounds order intake (the machine's other core sat ~40 % idle
under the exchange bench). `Recoverer` hands the recoveries asked for in one turn of the loop to a worker process
(`python -m matcher.exchange.recovery`) in one write, and gets the answers back in one read: a process rather
than a thread, so the worker never waits for the loop's GIL nor makes the loop wait for it. Records are fixed
size (digest, r, s, v in; a flag and 20 address bytes out), answered in order. If the worker cannot start or dies,
every recovery it owed, and every one after, is done on the loop as before: the answers are the same either way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
import subprocess
import sys
from collections import deque
from typing import Any

from coincurve import PublicKey

from contracts.settlement import keccak

log = logging.getLogger("bourse.exchange.recovery")

ASKED = 97  # digest 32, r 32, s 32, v 1 (27 or 28)
ANSWERED = 21  # 1 if recovered, then the 20 address bytes (zeros if not)
COUNT = struct.Struct("<I")
MAX_BATCH = 1024  # recoveries in one write (a turn of the loop rarely has more than its connections)

Signature = tuple[int, bytes, bytes]  # (v, r, s), as signed.split_signature gives it


def recover_address(digest: bytes, signature: Signature) -> bytes | None:
    """The 20 address bytes that signed `digest`, or None if the signature recovers to no key."""
    v, r, s = signature
    try:
        public = PublicKey.from_signature_and_message(r + s + bytes((v - 27,)), digest, hasher=None)
    except Exception:  # r or s out of range, or a signature that recovers to no point
        return None
    return keccak(public.format(compressed=False)[1:])[12:]


def answer(asked: bytes) -> bytes:
    """The worker's answer to one batch of records."""
    out = bytearray()
    for at in range(0, len(asked), ASKED):
        record = asked[at:at + ASKED]
        found = recover_address(record[:32], (record[96], record[32:64], record[64:96]))
        out += b"\x00" + bytes(20) if found is None else b"\x01" + found
    return bytes(out)


class Recoverer:
    """Recoveries for the event loop, batched per turn and answered by the worker process (or, failing it, here)."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._batch: list[tuple[bytes, Signature, asyncio.Future[bytes | None]]] = []
        self._sent: deque[list[tuple[bytes, Signature, asyncio.Future[bytes | None]]]] = deque()
        self._answers = bytearray()
        self._outgoing = bytearray()  # written to the worker as its input pipe takes it
        self.worker_failed = False  # from then on, recoveries run on the loop
        self.batches = 0  # batches the worker answered

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        try:
            self._process = subprocess.Popen([sys.executable, "-m", "matcher.exchange.recovery"],
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            assert self._process.stdout is not None and self._process.stdin is not None
            os.set_blocking(self._process.stdout.fileno(), False)
            os.set_blocking(self._process.stdin.fileno(), False)
            loop.add_reader(self._process.stdout.fileno(), self._read)
        except (OSError, NotImplementedError, RuntimeError) as exc:
            self._fail(f"the signature-recovery worker did not start ({exc})")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def recover(self, digest: bytes, signature: Signature) -> asyncio.Future[bytes | None]:
        """A future of `recover_address(digest, signature)`, sent to the worker at the end of this turn."""
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[bytes | None] = loop.create_future()
        if self._process is None or self.worker_failed:
            future.set_result(recover_address(digest, signature))
            return future
        if not self._batch:
            loop.call_soon(self._send)
        self._batch.append((digest, signature, future))
        return future

    def _send(self) -> None:
        batch, self._batch = self._batch[:MAX_BATCH], self._batch[MAX_BATCH:]
        if self._batch:
            assert self._loop is not None
            self._loop.call_soon(self._send)
        if not batch:
            return
        if self.worker_failed or self._process is None or self._process.stdin is None:
            self._answer_here([batch])
            return
        self._sent.append(batch)
        pending = bool(self._outgoing)
        self._outgoing += COUNT.pack(len(batch)) + b"".join(d + r + s + bytes((v,)) for d, (v, r, s), _ in batch)
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
            self._fail(f"the signature-recovery worker stopped taking work ({exc})")
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
            self._fail(f"the signature-recovery worker's answers could not be read ({exc})")
            return
        if not data:
            self._fail("the signature-recovery worker exited")
            return
        self._answers += data
        while self._sent and len(self._answers) >= ANSWERED * len(self._sent[0]):
            batch = self._sent.popleft()
            answers, self._answers = self._answers[:ANSWERED * len(batch)], self._answers[ANSWERED * len(batch):]
            self.batches += 1
            for at, (_, _, future) in enumerate(batch):
                record = answers[at * ANSWERED:(at + 1) * ANSWERED]
                if not future.done():
                    future.set_result(bytes(record[1:]) if record[0] else None)

    def _answer_here(self, batches: Any) -> None:
        for batch in batches:
            for digest, signature, future in batch:
                if not future.done():
                    future.set_result(recover_address(digest, signature))

    def _fail(self, why: str) -> None:
        """Answer on the loop what the worker owed, and everything from now on."""
        if not self.worker_failed:
            log.warning("%s: recovering signatures on the event loop instead", why)
        self.worker_failed = True
        self._stop_process()
        owed, self._sent = list(self._sent), deque()
        self._answers = bytearray()
        self._answer_here(owed)

    def close(self) -> None:
        self._answer_here([self._batch, *self._sent])
        self._batch, self._sent = [], deque()
        self._stop_process()

    def _stop_process(self) -> None:
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
        try:
            process.wait(timeout=5)  # its input closed: it exits
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve(source: Any, sink: Any) -> None:
    """The worker: read batches until its input ends, answer each in order."""
    while True:
        head = _read_exactly(source, COUNT.size)
        if head is None:
            return
        (count,) = COUNT.unpack(head)
        asked = _read_exactly(source, count * ASKED)
        if asked is None:
            return
        out = memoryview(answer(asked))
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

"""HTTP connections served by a thread on each CPU core, so a client is answered on the core it asks from.

A JSON-RPC client asks, waits, and asks again. With one serving thread (an event loop), the node sleeps on one core
while the client runs on another, and every request and every reply is a wakeup across cores; on a virtual machine
that costs more than the request. On this project's 2-core VM a do-nothing Python server answered one keep-alive
client 14,000-16,000 times a second from one thread, 45,000-57,000 with a thread pinned to each core, and a perf
profile of the node under one client had 70 % of its CPU in the kernel's wakeup paths.

So the event loop (transport.py) accepts every connection and answers its first requests, and the connection of a
light client moves here (client_pace.py; a one-request client never starts a thread, a heavy one is better served by
the loop and goes back to it): it gets a thread pinned to each core the process may use (up to `MAX_PINNED_CORES`;
on a larger machine one unpinned thread), all waiting (poll) for its next bytes. When a request arrives every waiter
wakes, the one on the client's core first (the client is blocked on the answer, so its core is free); it takes the
request under the connection's lock and answers it, and the others find nothing to read and wait again. Requests are
handled on these threads: the node's methods are thread-safe (the node lock), as for the in-process provider and the
interval miner; a request for a method that waits on the event loop (eth_sendRawTransactionSync) is answered there,
as before, while its connection's threads wait. A WebSocket upgrade hands the connection back to the event loop,
which serves every WebSocket, as it serves HTTP connections beyond `max_connections`.

The limits are those of the event loop's transport: a request must arrive whole within `request_timeout` (408), a
keep-alive connection idle for `idle_timeout` is closed, and a client that takes no bytes of an answer for
`request_timeout` is dropped (the event loop's equivalent is `max_send_buffer` bytes unsent).
"""

from __future__ import annotations

import logging
import os
import queue
import select
import socket
import threading
import time
from typing import Any, Callable

from . import client_pace
from .http_wire import HttpError, other_reply, reply, rpc_error, take_request
from .transport import Limits

log = logging.getLogger("bourse.http_threads")
MAX_PINNED_CORES = 4  # more waiters per request than this cost more than the wakeups they save
MAX_CONNECTIONS = 256  # beyond this many at once, more HTTP connections stay on the event loop
MAX_IDLE_THREADS = 16  # threads kept waiting for the next connection, on each core
READ_SIZE = 256 * 1024
_READABLE = select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR


def serving_cores() -> list[int | None]:
    """The cores a connection's threads are pinned to: each the process may use, or one unpinned thread."""
    try:
        cores = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return [None]
    return list(cores) if 1 < len(cores) <= MAX_PINNED_CORES else [None]


class Connection:
    """One HTTP connection and the threads serving it."""

    def __init__(self, owner: ThreadedHttp, sock: socket.socket, threads: int, initial: bytes) -> None:
        self.owner, self.sock, self.limits = owner, sock, owner.limits
        self.lock = threading.Lock()
        self.buffer = bytearray()
        self.initial = initial  # bytes the event loop read (the start of the next request): answered first
        self.pace = client_pace.Pace()  # how soon the client asks again after an answer
        self.done = False  # closed, or handed to the event loop: every thread leaves
        self.handed_off = False
        self.idle_since = time.monotonic()  # the idle clock counts from here while nothing is buffered
        self.request_since = 0.0  # the request clock: the first byte of the unfinished request in the buffer
        self._wake_read, self._wake_write = os.pipe()
        self._running = threads
        self.finished = threading.Event()  # set by the last of its threads to leave

    # -- on each of its threads -----------------------------------------------------------
    def serve(self) -> None:
        """Serve until the connection is finished (each of its threads runs this, one on each core)."""
        poller = select.poll()
        poller.register(self.sock, _READABLE)
        poller.register(self._wake_read, select.POLLIN)
        try:
            with self.lock:
                initial, self.initial = self.initial, b""
                if initial and not self._received(initial):
                    return
            while True:
                poller.poll(self._wait_ms())
                with self.lock:
                    if self.done or not self._step():
                        return
        except Exception:  # never leave a client hanging on a bug: log it and close
            log.exception("serving an HTTP connection failed")
            with self.lock:
                self._close()
        finally:
            self.leave()

    def leave(self) -> None:
        """One of its threads is done with it; the last one out closes the descriptors."""
        with self.lock:
            self._running -= 1
            last = self._running == 0
        if last:
            os.close(self._wake_read)
            os.close(self._wake_write)
            if not self.handed_off:
                self.sock.close()
            self.owner.forget(self)
            self.finished.set()

    def _wait_ms(self) -> int:
        """Until the idle or the request clock runs out (read without the lock: a stale answer only wakes early)."""
        if self.buffer:
            ends = self.request_since + self.limits.request_timeout
        else:
            ends = self.idle_since + self.limits.idle_timeout
        return max(0, int((ends - time.monotonic()) * 1000) + 1)

    def _step(self) -> bool:
        """Read what arrived and answer every complete request; False once the connection is finished."""
        try:
            data = self.sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return self._check_clocks()  # woken by a timeout, or another thread took the bytes
        except OSError:
            self._close()
            return False
        if not data:
            self._close()  # the client closed
            return False
        return self._received(data)

    def _received(self, data: bytes) -> bool:
        if not self.buffer:
            self.pace.asked()
            if self.pace.leave_threads():  # not a light client: answered sooner from the event loop
                self._hand_off(data, client_pace.HOLD)
                return False
            self.request_since = time.monotonic()
        self.buffer += data
        try:
            while self.buffer and not self.done:
                request = take_request(self.buffer, self.owner.cors_origins)
                if request is None:
                    break
                if request.is_upgrade:
                    self._hand_off(request.head + bytes(self.buffer), 0)
                    return False
                self._send(self._answer(request))
                self.pace.answered()
                if not request.keep_alive:
                    self._close()
                    return False
                self.request_since = self.idle_since = time.monotonic()
        except HttpError as exc:  # a JSON-RPC error object too, for clients that read only the body
            try:
                self._send(reply(exc.status, rpc_error(str(exc)), False, self.owner.cors_origins, exc.origin))
            except _Dropped:
                pass
            self._close()
            return False
        except _Dropped:
            self._close()
            return False
        return True

    def _answer(self, request: Any) -> bytes:
        owner = self.owner
        if request.method != "POST":
            return other_reply(request, owner.info, owner.pages, owner.cors_origins)
        answer = owner.handle(request.body)
        return reply(200, b"" if answer is None else answer, request.keep_alive, owner.cors_origins, request.origin)

    def _check_clocks(self) -> bool:
        now = time.monotonic()
        if self.buffer and now - self.request_since >= self.limits.request_timeout:
            try:
                self._send(reply(408, rpc_error("request not completed in time"), False, self.owner.cors_origins,
                                 None))
            except _Dropped:
                pass
            self._close()
            return False
        if not self.buffer and now - self.idle_since >= self.limits.idle_timeout:
            self._close()
            return False
        return True

    def _send(self, data: bytes) -> None:
        """Send all of `data`; _Dropped if the client takes none of it for `request_timeout` seconds."""
        view = memoryview(data)
        waiter: select.poll | None = None
        while view:
            try:
                view = view[self.sock.send(view):]
                continue
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                raise _Dropped() from None
            if waiter is None:
                waiter = select.poll()
                waiter.register(self.sock, select.POLLOUT)
            if not waiter.poll(int(self.limits.request_timeout * 1000)):
                log.warning("dropping a client that stopped reading (%d bytes unsent)", len(view))
                raise _Dropped()

    # -- ending -------------------------------------------------------------------------
    def _hand_off(self, data: bytes, hold: int) -> None:
        """Give the connection back to the event loop, with the bytes read (and requests to go before it may
        move here again)."""
        self.handed_off = True
        self._finish()
        self.owner.adopt(self.sock, data, hold)

    def _close(self) -> None:
        if not self.done:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._finish()

    def _finish(self) -> None:
        """Every thread leaves (the others are woken to see it); the last one out closes the descriptors."""
        if not self.done:
            self.done = True
            os.write(self._wake_write, b"x")

    def close(self) -> None:
        with self.lock:
            self._close()


class _Dropped(Exception):
    """The client stopped reading its answers."""


class ThreadedHttp:
    """Serves HTTP connections the event loop hands over, each on a thread on each core (see the module).

    The threads are kept between connections (up to `max_idle` waiting on each core), so moving a connection costs
    no thread start."""

    def __init__(self, handle: Callable[[bytes], "bytes | None"], info: Callable[[], bytes], pages: Any,
                 cors_origins: tuple[str, ...], limits: Limits, adopt: Callable[[socket.socket, bytes, int], None],
                 cores: list[int | None] | None = None, max_connections: int = MAX_CONNECTIONS,
                 max_idle: int = MAX_IDLE_THREADS) -> None:
        self.handle = handle  # a POST body -> the reply body (None: a notification), called on a connection thread
        self.info, self.pages, self.cors_origins, self.limits = info, pages, cors_origins, limits
        self.adopt = adopt  # give a socket, the bytes read from it and a hold back to the event loop (thread-safe)
        self.cores = serving_cores() if cores is None else cores
        self.max_connections, self.max_idle = max_connections, max_idle
        self.connections: set[Connection] = set()
        self._lock = threading.Lock()
        self._jobs: dict[int | None, queue.SimpleQueue[Connection | None]] = {
            core: queue.SimpleQueue() for core in self.cores}  # the next connection for a waiting thread (None: leave)
        self._idle = {core: 0 for core in self.cores}  # threads waiting on each core's queue
        self.threads: set[threading.Thread] = set()
        self.stopping = False

    def take(self, sock: socket.socket, initial: bytes) -> bool:
        """Serve `sock` from now on, starting with `initial`; False (nothing taken) when full or stopping."""
        with self._lock:
            if self.stopping or len(self.connections) >= self.max_connections:
                return False
            connection = Connection(self, sock, len(self.cores), initial)
            self.connections.add(connection)
            started = [core for core in self.cores if not self._reuse(core, connection)]
        failed = 0
        for core in started:
            thread = threading.Thread(target=self._work, args=(core, connection), daemon=True,
                                      name=f"bourse-http-{'any' if core is None else core}")
            with self._lock:
                self.threads.add(thread)
            try:
                thread.start()
            except RuntimeError:  # no more threads: served by those that started
                log.warning("cannot start a thread for an HTTP connection")
                with self._lock:
                    self.threads.discard(thread)
                failed += 1
        if failed == len(self.cores):  # none did: closed
            connection.close()
        for _ in range(failed):
            connection.leave()
        return True

    def _reuse(self, core: int | None, connection: Connection) -> bool:
        """Give `connection` to a thread waiting on `core`, if there is one (under the lock)."""
        if not self._idle[core]:
            return False
        self._idle[core] -= 1
        self._jobs[core].put(connection)
        return True

    def _work(self, core: int | None, connection: Connection | None) -> None:
        """One thread on `core`: serve a connection, then wait for the next (or leave, past `max_idle`)."""
        if core is not None:
            try:
                os.sched_setaffinity(0, {core})
            except OSError:  # the core was taken away (cgroup): run where the scheduler puts us
                pass
        try:
            while connection is not None:
                connection.serve()
                with self._lock:
                    if self.stopping or self._idle[core] >= self.max_idle:
                        return
                    self._idle[core] += 1
                connection = self._jobs[core].get()
        finally:
            with self._lock:
                self.threads.discard(threading.current_thread())

    def forget(self, connection: Connection) -> None:
        with self._lock:
            self.connections.discard(connection)

    def stop(self, wait: float = 5.0) -> None:
        """Close every connection and end the threads."""
        with self._lock:
            self.stopping = True
            connections = list(self.connections)
            for core, waiting in self._idle.items():
                for _ in range(waiting):
                    self._jobs[core].put(None)
                self._idle[core] = 0
        for connection in connections:
            connection.close()
        deadline = time.monotonic() + wait
        for connection in connections:
            connection.finished.wait(max(0.0, deadline - time.monotonic()))

"""How long a client takes between an answer and its next request: where its connection is best served.

A light client (a loop that asks, waits and asks again) comes back within microseconds; it is answered fastest by a
thread on its own core (http_threads.py), since it sleeps while the node works. A heavy one (web3.py, ethers: a few
hundred microseconds of its own work a request) keeps its core busy; there a thread on its core waits for it and
evicts its caches, and the event loop on another core answers it sooner (measured on the 2-core VM: web3.py 1,930-
2,050 requests/s from the loop against 1,610-1,790 from threads, a node.js fetch loop 4,030-4,340 against
3,570-3,720; a raw-socket loop 15,000 against 30,000). So a connection moves to the threads when its client has
come back quickly for a while, and back to the loop when it no longer does; the two bounds keep it from flapping.
"""

from __future__ import annotations

import time

LIGHT = 100e-6  # a mean gap below this (seconds): serve it on the client's core
HEAVY = 300e-6  # a mean gap above this: serve it from the event loop
SAMPLES = 16  # gaps seen before deciding, after each move


class Pace:
    """A running mean of one connection's gaps between an answer and the next request."""

    def __init__(self) -> None:
        self.mean = 0.0
        self.seen = 0
        self._answered_at = 0.0  # 0: no answer waiting for a next request

    def answered(self) -> None:
        self._answered_at = time.perf_counter()

    def asked(self) -> None:
        """A request starts arriving (none was buffered)."""
        if self._answered_at:
            gap = time.perf_counter() - self._answered_at
            self.mean = gap if not self.seen else self.mean + (gap - self.mean) / 4
            self.seen += 1
            self._answered_at = 0.0

    @property
    def light(self) -> bool:
        return self.seen >= SAMPLES and self.mean < LIGHT

    @property
    def heavy(self) -> bool:
        return self.seen >= SAMPLES and self.mean > HEAVY

"""How long a client takes between an answer and its next request: where its connection is best served.

A light client (a loop that asks, waits and asks again) comes back within microseconds; it is answered fastest by a
thread on its own core (http_threads.py), since it sleeps while the node works. A heavy one (web3.py, ethers: a few
hundred microseconds of its own work a request) keeps its core busy; there a thread on its core waits for it and
evicts its caches, and the event loop on another core answers it sooner (measured on the 2-core VM: web3.py 1,930-
2,050 requests/s from the loop against 1,610-1,790 from threads, a node.js fetch loop 4,030-4,340 against
3,570-3,720; a raw-socket loop 15,000 against 30,000).

Seen from the event loop a gap includes two wakeups across cores (a raw-socket loop's gaps are 50-150 us there,
a node.js fetch loop's 210-260 us, web3.py's ~500 us), so the loop only shortlists: a connection whose median gap
is below `TRY_BELOW` tries the threads. There a gap is the client's own time (a raw-socket loop's ~20 us): a
connection whose median gap is above `STAY_BELOW` goes back to the loop and does not try again for `HOLD`
requests, so a client that does not gain spends one request in hundreds on the trial.
"""

from __future__ import annotations

import time

TRY_BELOW = 300e-6  # seconds: from the loop, a median gap below this tries the connection threads
STAY_BELOW = 100e-6  # on the threads, a median gap above this goes back to the loop
HOLD = 4096  # requests a connection back from the threads stays on the loop before trying again
SAMPLES = 16  # gaps in each judgement (the median of each 16: a pause for garbage collection is one gap, not a trend)


class Pace:
    """One connection's gaps between an answer and the next request, judged by the median of every `SAMPLES`."""

    def __init__(self, hold: int = 0) -> None:
        self.median = 0.0
        self.judged = False  # a median of SAMPLES gaps is known
        self.hold = hold  # requests to go before `try_threads` may say yes
        self._gaps: list[float] = []
        self._answered_at = 0.0  # 0: no answer waiting for a next request

    def answered(self) -> None:
        self._answered_at = time.perf_counter()

    def asked(self) -> None:
        """A request starts arriving (none was buffered)."""
        if self._answered_at:
            gaps = self._gaps
            gaps.append(time.perf_counter() - self._answered_at)
            self._answered_at = 0.0
            self.hold -= 1
            if len(gaps) >= SAMPLES:
                gaps.sort()
                self.median, self.judged = gaps[len(gaps) // 2], True
                gaps.clear()

    def try_threads(self) -> bool:
        """Seen from the event loop: a light client, maybe."""
        return self.judged and self.hold <= 0 and self.median < TRY_BELOW

    def leave_threads(self) -> bool:
        """Seen from the connection threads: not a light client."""
        return self.judged and self.median > STAY_BELOW

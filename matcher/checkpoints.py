"""WAL checkpoints off the writer's thread.

In WAL mode each commit appends pages to the -wal file, and by default the
committing connection copies them back into the database once the file passes
1,000 pages: that commit then writes and syncs megabytes while the exchange's
event loop waits (the tail of its order latency). Here a thread with its own
connection does it instead (a PASSIVE checkpoint never blocks the writer),
woken by the journal every few commits; the writer's own automatic checkpoint
stays as a backstop at a larger size, should this thread fall behind. The
thread ends when nothing has woken it for a while and starts again when woken,
so an idle or forgotten journal holds no thread. Durability is unchanged: a
commit is in the WAL before it is acknowledged, checkpointed or not.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("bourse.matcher.checkpoints")

IDLE_SECONDS = 5.0  # the thread ends after this long without a wake-up
BACKSTOP_PAGES = 10_000  # the writer checkpoints itself past this many WAL pages (SQLite's default is 1,000)


class Checkpointer:
    def __init__(self, path: str) -> None:
        self.path = path
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.checkpoints = 0  # completed, for tests and curiosity

    def poke(self) -> None:
        """Ask for a checkpoint soon (cheap: the writer calls this every few commits)."""
        self._wake.set()
        thread = self._thread
        if thread is None or not thread.is_alive():
            with self._lock:
                if not self._closed and (self._thread is None or not self._thread.is_alive()):
                    self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
                    self._thread.start()

    def close(self) -> None:
        """Stop the thread (the writer's connection checkpoints once more as it closes)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while self._wake.wait(IDLE_SECONDS) and not self._closed:
                self._wake.clear()
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.checkpoints += 1
                except sqlite3.Error:  # the backstop checkpoints instead; say so once per failure
                    log.warning("background WAL checkpoint of %s failed", self.path, exc_info=True)
        finally:
            db.close()

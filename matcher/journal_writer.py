"""Group commits written on a thread of their own, while the engine goes on with the next commands.

A group commit's SQLite work (the insert, the commit's WAL writes: most of it
system calls) runs with the GIL released, so on a thread of its own it
overlaps the engine's next commands on another core, as exchange-core's
journaling stage runs beside its matching stage. The journal hands over each
full group, already encoded; the thread writes whatever has queued up since
its last commit as one row, in one statement: each time a thread takes the
GIL back from a busy one it waits for the switch interval (5 ms), so the
fewer statements, the more groups each commit carries. Nothing is acknowledged
from a group until `Journal.flush()` has waited for this thread: durability
is unchanged, only when the write happens.

The connection is the journal's: this thread uses it only between
`submit` and the end of `wait()`, and the journal touches it only after
`wait()`. A failed write stops the thread's writes (a later group must not
land after a lost one); its groups go back to the journal with the error.
"""

from __future__ import annotations

import atexit
import logging
import sqlite3
import threading
import weakref
from typing import Callable

log = logging.getLogger("bourse.matcher.journal_writer")

# (last_seq, first_seq, the group's commands as JSON text): a row of `command_groups`. Only text: what this
# thread frees it frees holding the GIL, and a group's command tuples would keep the engine waiting.
Group = tuple[int, int, str]
IDLE_SECONDS = 5.0  # the thread ends after this long without a group
INSERT = "INSERT INTO command_groups VALUES (?, ?, ?)"  # a group's row (the journal's own flush too)


_RUNNING: weakref.WeakSet[GroupWriter] = weakref.WeakSet()  # writers whose thread runs


@atexit.register
def _write_before_exit() -> None:
    """At a normal exit, the groups handed over are still written (the thread is a daemon: it would be stopped),
    as they were when a full group was committed on the engine's thread."""
    for writer in list(_RUNNING):
        failed = writer.wait()
        if failed is not None:
            log.error("the journal's last groups could not be written: %s", failed[0])


class GroupWriter:
    def __init__(self, db: sqlite3.Connection, committed: Callable[[int], None],
                 merge: Callable[[list[Group]], Group]) -> None:
        self._db = db
        self._merge = merge  # consecutive groups as one row
        self._committed = committed  # called on this thread after each commit, with how many groups it held
        self._cond = threading.Condition()
        self._queue: list[Group] = []
        self._busy = False  # writing a batch taken from the queue
        self._failed: tuple[BaseException, list[Group]] | None = None
        self._closed = False
        self._thread: threading.Thread | None = None  # started by a group; ends when idle (IDLE_SECONDS)

    def submit(self, group: Group) -> None:
        """Queue a group for the next commit (returns at once)."""
        with self._cond:
            self._queue.append(group)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
                self._thread.start()
                _RUNNING.add(self)
            elif not self._busy:
                self._cond.notify()

    @property
    def busy(self) -> bool:
        """Whether groups wait to be committed (or are being committed)."""
        return self._busy or bool(self._queue)

    @property
    def failed(self) -> bool:
        """Whether a write failed (`wait()` tells the error)."""
        return self._failed is not None

    def wait(self) -> tuple[BaseException, list[Group]] | None:
        """Wait until every submitted group is committed. Returns None, or the error that stopped the writes and
        every group not written (in order), once: the writer then takes new groups again."""
        with self._cond:
            while self._busy or (self._queue and self._failed is None):
                thread = self._thread
                if thread is None or not thread.is_alive():  # (it ends only idle or closed: never, short of a bug)
                    self._failed = (RuntimeError("the journal's writer thread stopped"), [])
                    self._busy = False
                    break
                self._cond.wait(1.0)
            failed, self._failed = self._failed, None
            if failed is not None:
                failed = (failed[0], failed[1] + self._queue)
                self._queue = []
            return failed

    def close(self) -> None:
        """Stop the thread once it has written what it was given (`wait()` first to see whether that failed)."""
        with self._cond:
            self._closed = True
            thread = self._thread
            self._cond.notify_all()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        db, cond = self._db, self._cond
        while True:
            with cond:
                while not self._queue or self._failed is not None:
                    if self._closed or (not cond.wait(IDLE_SECONDS) and not self._queue):
                        self._thread = None  # (the next group starts another)
                        _RUNNING.discard(self)
                        return
                batch, self._queue = self._queue, []
                self._busy = True
            error: BaseException | None = None
            try:  # one row, one statement (kept prepared): each statement waits for the GIL once more
                db.execute(INSERT, self._merge(batch))
            except BaseException as exc:  # the journal's owner sees it at its next append or flush
                error = exc
            else:
                try:
                    self._committed(len(batch))
                except Exception:  # (bookkeeping: the rows are committed)
                    log.exception("after a journal commit")
            with cond:
                self._busy = False
                if error is not None:
                    self._failed = (error, batch)
                cond.notify_all()

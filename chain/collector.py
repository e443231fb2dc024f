"""Python's cyclic garbage collector, paused around work that makes very many short-lived acyclic objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a trace runs: a struct log is a few hundred thousand small
    acyclic objects (an entry, its stack list, its strings per step), and as they pile up the collector walks
    them again and again — half the time of a large trace. They hold no cycles, so nothing is lost by waiting;
    the collector resumes as it was afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

"""Where a revert happened, in source: the failing frames from the one that reverted first outwards, each as
`file:line: code` when the node knows the contract (`chain.sources`), else as its address and pc."""

from __future__ import annotations

from collections import deque
from typing import Any

from ..sources import SourceRegistry
from .hooks import Frame, Tracer


HISTORY = 512  # pcs kept per frame: the code that builds a revert is often unmapped, the statement before it is


class RevertTracer(Tracer):
    """Remembers each frame's recent pcs, and those of its caller when each child frame started."""

    wants_steps = True

    def __init__(self) -> None:
        self.root: Frame | None = None
        self._open: list[Frame] = []

    def enter(self, frame: Frame) -> None:
        parent = self._open[-1] if self._open else None
        frame.call_pcs = list(parent.pcs) if parent is not None else []  # type: ignore[attr-defined]
        frame.pcs = deque(maxlen=HISTORY)  # type: ignore[attr-defined]
        if self.root is None:
            self.root = frame
        self._open.append(frame)

    def exit(self, frame: Frame) -> None:
        self._open.pop()

    def step(self, frame: Frame, pc: int, op: int, gas: int) -> None:
        frame.pcs.append(pc)  # type: ignore[attr-defined]

    def stack(self, registry: SourceRegistry) -> list[str]:
        """Innermost first; empty when nothing failed or no frame's code is known."""
        if self.root is None or self.root.error is None:
            return []
        path = [self.root]
        while path[-1].children and path[-1].children[-1].error is not None:
            path.append(path[-1].children[-1])  # it failed because the last call it made failed
        lines, known = [], False
        for depth, frame in enumerate(reversed(path)):
            history = frame.pcs if depth == 0 else path[len(path) - depth].call_pcs  # type: ignore[attr-defined]
            creating = frame.kind in ("CREATE", "CREATE2")
            info = None if creating else registry.lookup(_code(frame))
            pc = next((pc for pc in reversed(history) if pc in info.pcs), None) if info is not None else None
            if info is not None and pc is not None:
                known = True
                lines.append(info.frame(pc))
            else:
                last = history[-1] if history else None
                lines.append(f"{'constructor at' if creating else 'at'} 0x{bytes(frame.to).hex()}"
                             + (f" (pc {last})" if last is not None else ""))
        return lines if known else []


def _code(frame: Frame) -> bytes:
    computation: Any = frame.computation
    try:
        return bytes(computation.code._raw_code_bytes)
    except AttributeError:
        return b""

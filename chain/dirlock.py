"""An exclusive lock on a data dir, so two nodes never write one chain. Released when the node closes or its
process dies (an flock, which the kernel drops with the process, SIGKILL included)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .errors import ChainError


class DataDirInUse(ChainError):
    pass


class DirLock:
    def __init__(self, directory: Path, what: str = "bourse node") -> None:
        self.path = Path(directory) / ".lock"
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(self._fd, 32).decode(errors="replace").strip() or "?"
            os.close(self._fd)
            self._fd = None
            raise DataDirInUse(f"{directory} is in use by another {what} (pid {holder}); stop it or choose another "
                               "--data-dir") from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, str(os.getpid()).encode())

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

"""Atomic file writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

SECRET_FILE_MODE = 0o600
SECRET_DIR_MODE = 0o700


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) with mode 0700; tighten an existing folder to 0700."""
    path.mkdir(mode=SECRET_DIR_MODE, parents=True, exist_ok=True)
    os.chmod(path, SECRET_DIR_MODE)
    return path


def write_atomic(path: Path, data: bytes, mode: int = SECRET_FILE_MODE,
                 check: Callable[[Path], None] | None = None) -> None:
    """Write `data` to a temporary file beside `path`, fsync, run `check` on it, then rename over `path`.

    If `check` raises, the temporary file is removed and `path` is untouched.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if check is not None:
            check(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


ADMIN_TOKEN_ENV = "BOURSE_ADMIN_TOKEN"


def read_token(path: Path | None, env: str = ADMIN_TOKEN_ENV, what: str = "the exchange's admin token") -> str:
    """A bearer token from `path` (a token file), else from the environment variable `env`; never an argument."""
    from .errors import WalletError
    if path is not None:
        try:
            token = Path(path).read_text().strip()
        except OSError as exc:
            raise WalletError(f"cannot read {what} from {path}: {exc.strerror}") from None
    else:
        token = os.environ.get(env, "").strip()
        if not token:
            raise WalletError(f"{what} is needed: pass --admin-token-file (the exchange's data dir holds "
                              f"admin.token) or set ${env}")
    if not token:
        raise WalletError(f"{what} in {path} is empty")
    return token


class ExclusiveLock:
    """An exclusive flock on `path` (created 0600 with the holder's pid), so two processes never write the same
    data dir or audit log. The kernel drops it when the process dies, SIGKILL included."""

    def __init__(self, path: Path, what: str) -> None:
        import fcntl

        from .errors import WalletError
        self.path = Path(path)
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, SECRET_FILE_MODE)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(self._fd, 32).decode(errors="replace").strip() or "?"
            os.close(self._fd)
            self._fd = None
            raise WalletError(f"{what} is in use by another process (pid {holder}); stop it first") from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, str(os.getpid()).encode())

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

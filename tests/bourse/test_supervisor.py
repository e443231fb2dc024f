"""`bourse up` runs the node, the signer and the exchange as processes: one that stops stops all with a message,
one that cannot start is reported in one line, and no part outlives the supervisor, even killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tools import free_port

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def children_of(pid: int) -> dict[int, list[bytes]]:
    """The processes whose parent is `pid`, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid:
            found[int(entry.name)] = argv
    return found


def parts_of(pid: int) -> dict[str, int]:
    """The supervisor's part processes by name (`python -m bourse.child <name>`)."""
    return {argv[argv.index(b"bourse.child") + 1].decode(): child for child, argv in children_of(pid).items()
            if b"bourse.child" in argv}


def curve_worker_of(exchange: int) -> list[int]:
    """The exchange's secp256k1 worker process (`python -m matcher.exchange.curve_worker`)."""
    return [child for child, argv in children_of(exchange).items() if b"matcher.exchange.curve_worker" in argv]


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def wait_gone(pids: list[int], seconds: float = 60) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if alive(p)]


def start_up(data: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "bourse.cli", "up", "--data-dir", str(data),
                             "--port", str(free_port()), "--node-port", str(free_port()),
                             "--signer-port", str(free_port())], cwd=ROOT, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Try it:"):
            return proc
    proc.kill()
    pytest.fail(f"bourse up did not start: {proc.communicate()[1][-3000:]}")


def test_each_part_is_a_process_and_one_that_dies_stops_the_others_with_a_message(tmp_path: Path) -> None:
    proc = start_up(tmp_path / "up")
    try:
        parts = parts_of(proc.pid)
        assert set(parts) == {"node", "signer", "exchange"}
        worker = curve_worker_of(parts["exchange"])
        assert len(worker) == 1
        os.kill(parts["exchange"], signal.SIGKILL)
        _, stderr = proc.communicate(timeout=90)
        assert proc.returncode == 1
        assert "error: the exchange stopped: no message (killed by SIGKILL); stopping the other parts" in stderr
        assert "Traceback" not in stderr
        assert wait_gone(list(parts.values()) + worker) == []  # the worker too: its input pipe closed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_no_part_outlives_a_killed_supervisor_and_the_data_dir_resumes(tmp_path: Path) -> None:
    proc = start_up(tmp_path / "up")
    parts = parts_of(proc.pid)
    assert set(parts) == {"node", "signer", "exchange"}
    proc.kill()
    proc.wait()
    assert wait_gone(list(parts.values())) == []  # each saw its stdin close
    again = start_up(tmp_path / "up")  # the lock and the ports are free again; the chain resumes
    try:
        assert set(parts_of(again.pid)) == {"node", "signer", "exchange"}
        again.send_signal(signal.SIGINT)
        _, stderr = again.communicate(timeout=90)
        assert again.returncode == 0, stderr
    finally:
        if again.poll() is None:
            again.kill()
            again.wait()


def test_a_part_that_cannot_start_is_one_line_and_stops_what_started(tmp_path: Path) -> None:
    data = tmp_path / "up"
    data.mkdir()
    (data / "exchange").write_text("not a folder")  # the exchange cannot create its data dir
    run = subprocess.run([sys.executable, "-m", "bourse.cli", "up", "--data-dir", str(data),
                          "--port", str(free_port()), "--node-port", str(free_port()),
                          "--signer-port", str(free_port())], cwd=ROOT, env=ENV, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 1
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: the exchange could not start: ") and "(exit code 1)" in lines[-1], lines
    assert "Traceback" not in run.stderr and not run.stdout.strip()

"""`bourse up` as a real process: it prints every URL and contract, and its ready-to-run example works."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.tools import free_port

ROOT = Path(__file__).resolve().parents[3]
# `bourse` as `python -m bourse.cli` runs it, dumping every thread's stack on SIGUSR1
DUMPS_STACKS_ON_SIGUSR1 = ("import faulthandler, signal, sys; faulthandler.register(signal.SIGUSR1, all_threads=True); "
                           "sys.argv[0] = 'bourse'; from bourse.cli import main; main()")


def test_bourse_up_starts_the_stack_and_the_printed_example_trades_and_settles(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ports = [str(free_port()) for _ in range(3)]
    proc = subprocess.Popen([sys.executable, "-m", "bourse.cli", "up", "--data-dir", str(tmp_path / "up"),
                             "--port", ports[0], "--node-port", ports[1], "--signer-port", ports[2],
                             "--batch-interval", "0.2"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        banner = []
        for line in proc.stdout:
            banner.append(line)
            if line.startswith("  python -m matcher.examples.trade"):
                break
        text = "".join(banner)
        for expected in (f"http://127.0.0.1:{ports[1]}", f"http://127.0.0.1:{ports[2]}",
                         f"http://127.0.0.1:{ports[0]}/api/v3", "Settlement vault", "Test USDT", "BRSWBNB",
                         "WBNBUSDT"):
            assert expected in text, expected
        example = banner[-1].split()
        run = subprocess.run([sys.executable, *example[1:]], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=180)
        assert run.returncode == 0, run.stderr
        assert "settled on chain" in run.stdout and "CONFIRMED" in run.stdout
        assert "admin.token" in text
        reconcile = [sys.executable, "-m", "bourse.cli", "reconcile", "--exchange", f"http://127.0.0.1:{ports[0]}",
                     "--rpc-url", f"http://127.0.0.1:{ports[1]}"]
        refused = subprocess.run(reconcile, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1 and "admin token" in refused.stderr and "Traceback" not in refused.stderr
        token_file = str(tmp_path / "up" / "exchange" / "admin.token")
        reconciled = subprocess.run([*reconcile, "--admin-token-file", token_file], cwd=ROOT, env=env,
                                    capture_output=True, text=True, timeout=60)
        assert reconciled.returncode == 0 and "agree" in reconciled.stdout, reconciled.stdout + reconciled.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)  # drains its output: a full pipe would block its exit
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_second_stack_on_the_same_data_dir_is_refused_and_the_first_runs_on(tmp_path: Path) -> None:
    from bourse.stack import Stack
    from wallet.errors import WalletError
    first = Stack(tmp_path / "up", batch_interval=3600, persistent_chain=True).start()
    try:
        with pytest.raises(WalletError, match=r"in use by another process \(pid \d+\)"):
            Stack(tmp_path / "up", batch_interval=3600, persistent_chain=True).start()
        assert first.node.backend.head.number >= 0 and first.exchange.error is None
    finally:
        first.stop()
    resumed = Stack(tmp_path / "up", batch_interval=3600, persistent_chain=True).start()
    try:
        assert resumed.resumed and "(resumed)" in resumed.banner()
    finally:
        resumed.stop()


def test_bourse_up_without_a_data_dir_removes_its_temporary_folder_on_exit(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ports = [str(free_port()) for _ in range(3)]
    # started with SIGINT ignored, as a shell starts a background job: Ctrl-C must still stop it
    proc = subprocess.Popen([sys.executable, "-c", DUMPS_STACKS_ON_SIGUSR1, "up", "--port", ports[0],
                             "--node-port", ports[1], "--signer-port", ports[2]], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert proc.stdout is not None
    data = None
    for line in proc.stdout:
        if line.startswith("Data "):
            data = Path(line.split()[1])
        if line.startswith("Try it:"):
            break
    assert data is not None and data.is_dir()
    proc.send_signal(signal.SIGINT)
    try:
        proc.communicate(timeout=60)  # reading what it still prints: a full pipe would block its exit
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)  # every thread's stack, to see what holds the exit up
        time.sleep(2)
        proc.kill()
        _, stderr = proc.communicate()
        pytest.fail(f"bourse up did not exit within 60 s of SIGINT; its threads:\n{stderr[-20000:]}")
    assert proc.returncode == 0 and not data.exists()

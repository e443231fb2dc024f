"""`bourse up` as processes: the node, the policy signer and the exchange each in its own process (`bourse.child`),
so py-evm mining and order intake do not share one interpreter lock. The supervisor starts them in order, wires
them by URL, prints the banner, forwards what they log (each line prefixed with the part's name), and stops them
all, the exchange first and the node last: on Ctrl-C or SIGTERM, and when any one of them stops, saying which and
why. Each part also stops by itself when the supervisor is gone (its stdin closes)."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from matcher.demo import DEMO_USERS

from .banner import Running, banner
from .errors import BourseError
from .parts import UpSettings, claim_data_dir, markets_of, prepare_demo

START_TIMEOUT = 600.0  # seconds a part may take to serve: a resumed chain or a long journal is replayed first
STOP_TIMEOUT = 30.0


class Part:
    """One child process: its first report on stdout says it serves; its stderr is forwarded, the last line kept
    for the message if it stops."""

    def __init__(self, name: str, args: list[str], config: dict[str, Any] | None = None) -> None:
        self.name = name
        self.last_line = ""
        self._reports: queue.Queue[str | None] = queue.Queue()
        self._serving = False  # once it serves, what it prints is forwarded, not read as reports
        self.proc = subprocess.Popen([sys.executable, "-m", "bourse.child", *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)  # Ctrl-C reaches the supervisor, which stops in order
        assert self.proc.stdin is not None and self.proc.stdout is not None and self.proc.stderr is not None
        if config is not None:
            self.proc.stdin.write(json.dumps(config) + "\n")
            self.proc.stdin.flush()  # stdin stays open: its closing tells the part that the supervisor is gone
        threading.Thread(target=self._forward_stderr, args=(self.proc.stderr,), daemon=True).start()
        threading.Thread(target=self._read_stdout, args=(self.proc.stdout,), daemon=True).start()

    def _forward_stderr(self, stream: IO[str]) -> None:
        for line in stream:
            if line.strip():
                self.last_line = line.strip()
                if line.startswith("error: "):
                    continue  # the supervisor's own message says it, with the part's name
                sys.stderr.write(f"[{self.name}] {line}")
                sys.stderr.flush()

    def _read_stdout(self, stream: IO[str]) -> None:
        for line in stream:
            if self._serving:  # after start-up: the node's console.log lines
                sys.stderr.write(f"[{self.name}] {line}")
                sys.stderr.flush()
            else:
                self._reports.put(line.strip())
        self._reports.put(None)

    def serving(self, progress: Callable[[str], None], timeout: float = START_TIMEOUT) -> str:
        """Wait until the part serves; its first plain line or its JSON `url`. BourseError if it stops first."""
        while True:
            try:
                line = self._reports.get(timeout=timeout)
            except queue.Empty:
                raise BourseError(f"the {self.name} did not start within {timeout:.0f} s") from None
            if line is None:
                self.proc.wait()
                raise BourseError(f"the {self.name} could not start: {self.why()}")
            if not line.startswith("{"):
                break
            report = json.loads(line)
            if "progress" in report:
                progress(report["progress"])
                continue
            line = report["url"]
            break
        self._serving = True
        return line

    def why(self) -> str:
        code = self.proc.returncode
        how = f"killed by {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
        return f"{self.last_line.removeprefix('error: ') or 'no message'} ({how})"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass


class Supervisor:
    """Starts, watches and stops the parts of `bourse up`; the same interface as the in-process `Stack`."""

    def __init__(self, root: Path, settings: UpSettings) -> None:
        self.root, self.settings = Path(root), settings
        self.parts: list[Part] = []
        self._stopped = threading.Event()

    def start(self, progress: Callable[[str], None] = lambda step: None) -> Supervisor:
        """Start every part in order; if one fails, what started is stopped again and BourseError says why."""
        try:
            return self._start(progress)
        except BaseException:
            self.stop()
            raise

    def _start(self, progress: Callable[[str], None]) -> Supervisor:
        from chain.config import DEFAULT_MNEMONIC
        from chain.node import derive_accounts
        from wallet.rpc import Rpc
        settings = self.settings
        self._lock, self.resumed = claim_data_dir(self.root, settings)
        progress("starting the node" + (" (resuming its chain)" if self.resumed else ""))
        node_args = ["node", "--quiet", "--host", settings.host, "--port", str(settings.node_port)]
        if settings.persistent_chain:
            node_args += ["--data-dir", str(self.root / "chain")]
        self.rpc_url = self._start_part("node", node_args, None, progress)
        accounts = derive_accounts(DEFAULT_MNEMONIC, DEMO_USERS + 1)  # the node's dev accounts
        chain_id = int(Rpc(self.rpc_url).call("eth_chainId"), 16)
        self.demo = prepare_demo(self.rpc_url, self.root, settings, progress)
        self.markets = markets_of(self.demo, settings)
        self.operator = accounts[0].checksum
        self.demo_keys = [(a.checksum, "0x" + a.key.to_bytes().hex()) for a in accounts[1:3]]
        progress("starting the policy signer")
        shared = {"root": str(self.root), "settings": asdict(settings)}
        self.signer_url = self._start_part("signer", ["signer"], {
            **shared, "operator_key": accounts[0].key.to_bytes().hex(), "chain_id": chain_id}, progress)
        progress("starting the exchange (recovering its journal)")
        self.exchange_url = self._start_part("exchange", ["exchange"], {
            **shared, "rpc_url": self.rpc_url, "signer_url": self.signer_url, "operator": self.operator,
            "demo": self.demo, "maker_key": accounts[DEMO_USERS].key.to_bytes().hex()}, progress)
        return self

    def _start_part(self, name: str, args: list[str], config: dict[str, Any] | None,
                    progress: Callable[[str], None]) -> str:
        part = Part(name, args, config)
        self.parts.append(part)
        return part.serving(progress)

    @property
    def admin_token_file(self) -> Path:
        return self.root / "exchange" / "admin.token"

    def banner(self) -> str:
        with urllib.request.urlopen(f"{self.exchange_url}/bourse/v1/settlement", timeout=30) as response:
            backlog = json.load(response)
        return banner(Running(self.rpc_url, self.signer_url, self.exchange_url, self.root, self.resumed, self.demo,
                              self.markets, self.operator, self.demo_keys, backlog))

    def wait(self) -> None:
        """Until stopped; BourseError as soon as any part stops by itself."""
        while not self._stopped.wait(0.5):
            for part in self.parts:
                if part.proc.poll() is not None:
                    raise BourseError(f"the {part.name} stopped: {part.why()}; stopping the other parts")

    def stop(self) -> None:
        self._stopped.set()
        for part in reversed(self.parts):  # the exchange first, the node last
            part.stop()
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.release()

"""Third-party tools the interoperability tests drive (Foundry's cast and anvil), and free ports."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT.parent / "shared" / "vectors"


def tool(name: str) -> str | None:
    """Path of `cast`/`anvil`: on PATH, or where .ci/run installs them from npm."""
    found = shutil.which(name) or str(ROOT / f".tools/node_modules/@foundry-rs/{name}-linux-amd64/bin/{name}")
    return found if Path(found).exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_rpc(url: str, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'
    while True:
        try:
            request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=2):
                return
        except urllib.error.HTTPError:  # an HTTP answer, even 401, means the server is up
            return
        except OSError:
            if time.time() > deadline:
                raise TimeoutError(f"no JSON-RPC at {url} after {timeout}s") from None
            time.sleep(0.1)


@contextlib.contextmanager
def running_anvil(*args: str) -> Iterator[str]:
    """A fresh anvil (default mnemonic and chain id 31337); yields its URL."""
    anvil = tool("anvil")
    assert anvil is not None
    port = free_port()
    proc = subprocess.Popen([anvil, "--port", str(port), "--silent", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_rpc(url)
        yield url
    finally:
        proc.kill()
        proc.wait()


APE_VERSIONS = "eth-ape==0.8.51 ape-foundry==0.8.12"  # .ci/run installs these into .tools/ape-<versions>


def ape_python() -> str | None:
    """Python of the environment .ci/run installs eth-ape and ape-foundry into (they pin their own web3 stack, so
    they live apart from the project's)."""
    folder = ROOT / ".tools" / ("ape-" + APE_VERSIONS.replace(" ", "-").replace("==", "-"))
    python = folder / "bin" / "python"
    return str(python) if python.exists() else None

"""One part of `bourse up` in its own process, as the supervisor starts it:

    python -m bourse.child node <bourse node options>   # the node: `bourse node --quiet` itself
    python -m bourse.child signer                        # settings as one JSON line on stdin
    python -m bourse.child exchange                      # settings as one JSON line on stdin

The signer's key and the exchange's settings come on stdin, never in argv (which every user of the machine can read).
A part reports on stdout: the node its URL (`bourse node --quiet`), the others JSON lines - `{"progress": ...}`
while starting, then `{"url": ...}` once it serves. Every part stops on SIGINT or SIGTERM, and when its stdin
closes: the supervisor is gone (even killed with SIGKILL), so no part outlives it. A part that fails prints one line
`error: ...` on stderr and exits 1.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from .parts import UpSettings, markets_of, seed_liquidity, start_exchange, start_signer


def read_config() -> dict[str, Any]:
    """The first line on stdin, read from the descriptor itself: no buffered reader that a watching thread would
    hold at exit."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(0, 1)
        if not chunk:
            sys.exit("error: no settings on stdin (a part of `bourse up` is started by it)")
        data += chunk
    return json.loads(data)


def stop_when_stdin_closes() -> None:
    def watch() -> None:
        while os.read(0, 65536):
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="bourse-supervisor-watch", daemon=True).start()


def report(**message: Any) -> None:
    print(json.dumps(message), flush=True)


def serve_until_stopped(server: Any, failed: Any = lambda: None) -> None:
    """Block until SIGINT or SIGTERM (or `failed()` returns a reason, which ends the process with exit 1)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())
    reason = None
    while not stop.wait(0.5):
        reason = failed()
        if reason:
            break
    server.stop()
    if reason:
        sys.exit(f"error: {reason}")


def run_signer(config: dict[str, Any]) -> None:
    root, settings = Path(config["root"]), UpSettings(**config["settings"])
    server = start_signer(root, settings, bytes.fromhex(config["operator_key"]), config["chain_id"])
    report(url=server.url)
    serve_until_stopped(server)


def run_exchange(config: dict[str, Any]) -> None:
    root, settings = Path(config["root"]), UpSettings(**config["settings"])
    demo = config["demo"]
    rpc_url = config["rpc_url"]
    exchange = start_exchange(root, settings, rpc_url, config["signer_url"], config["operator"],
                              markets_of(demo, settings))
    try:
        seed_liquidity(exchange, root, demo, bytes.fromhex(config["maker_key"]), rpc_url,
                       lambda step: report(progress=step))
    except BaseException:
        exchange.stop()
        raise
    gc.collect()
    gc.freeze()  # what start-up built, out of the collector's way
    report(url=exchange.url)
    serve_until_stopped(exchange, lambda: exchange.error and f"the exchange stopped: {exchange.error}")


def main(argv: list[str]) -> None:
    if argv[:1] == ["node"]:
        stop_when_stdin_closes()
        from .cli import main as bourse
        bourse(["node", *argv[1:]], prog_name="bourse")
        return
    if argv not in (["signer"], ["exchange"]):
        sys.exit("error: usage: python -m bourse.child node <options> | signer | exchange")
    config = read_config()
    stop_when_stdin_closes()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from .cli import KNOWN_ERRORS, os_error_line
    try:
        (run_signer if argv == ["signer"] else run_exchange)(config)
    except KNOWN_ERRORS as exc:
        sys.exit(f"error: {exc}")
    except OSError as exc:
        sys.exit(f"error: {os_error_line(exc)}")
    except Exception as exc:
        if os.environ.get("BOURSE_DEBUG"):
            raise
        sys.exit(f"error: unexpected {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main(sys.argv[1:])

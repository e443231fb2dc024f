"""Run a `bourse` command with every socket operation forbidden (an audit hook), to prove it stays offline.

Usage: python offline_child.py <bourse args...>; exit code 97 if the command tried to use the network.
"""

from __future__ import annotations

import sys

ATTEMPTS: list[str] = []
NETWORK_EVENTS = {"socket.connect", "socket.getaddrinfo", "socket.bind", "socket.sendto", "socket.gethostbyname",
                  "urllib.Request", "http.client.connect"}


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event in NETWORK_EVENTS:
        ATTEMPTS.append(f"{event} {args!r}")
        raise OSError(f"offline test: {event} is forbidden")


if __name__ == "__main__":
    sys.addaudithook(_hook)
    from bourse.cli import main

    try:
        main(sys.argv[1:], standalone_mode=False)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    except Exception as exc:  # noqa: BLE001 - report and fail
        print(f"error: {exc}", file=sys.stderr)
        code = 1
    if ATTEMPTS:
        print("NETWORK ATTEMPTED: " + "; ".join(ATTEMPTS), file=sys.stderr)
        sys.exit(97)
    sys.exit(code)

"""Crash-test child: journal a deterministic flow, print each acknowledged sequence number."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from matcher.flow import random_flow  # noqa: E402
from matcher.journal import JournaledEngine  # noqa: E402
from tests.matcher.conftest import MARKET  # noqa: E402


def main() -> None:
    path, seed, count, commit_every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    journaled = JournaledEngine.open(path, [MARKET], commit_every=commit_every)
    done = journaled.seq
    for i, command in enumerate(random_flow(MARKET, seed, count)):
        if i < done:
            continue  # already journaled before an earlier kill
        seq, _ = journaled.submit(command)
        if seq % commit_every == 0:
            journaled.journal.flush()
            print(seq, flush=True)  # acknowledged only once durable
        if seq % 500 == 0:
            journaled.snapshot()


if __name__ == "__main__":
    main()

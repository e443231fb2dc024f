"""The follower asks the node only for the vault events it applies (FOLLOWED): every event its handler acts on
must be among them, or the node would never send it."""

from __future__ import annotations

import inspect
import re

from matcher.exchange.follower import FOLLOWED, FOLLOWED_TOPICS, Follower
from matcher.exchange.vault import EVENTS, TOPIC_OF


def test_every_vault_event_the_follower_handles_is_one_it_asks_for() -> None:
    source = inspect.getsource(Follower._handle)
    handled = set(re.findall(r'event\.name == "(\w+)"', source))
    for group in re.findall(r"event\.name in \(([^)]*)\)", source):
        handled |= set(re.findall(r'"(\w+)"', group))
    handled.discard("Listed")  # the listing vote's, fetched from that contract
    assert {"Deposit", "Withdraw", "OrderCancelled"} <= handled  # the pattern still finds them
    assert handled == set(FOLLOWED)
    assert FOLLOWED_TOPICS == [[TOPIC_OF[name] for name in FOLLOWED]] and set(FOLLOWED) <= set(EVENTS)

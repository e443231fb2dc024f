"""Shared test settings: hypothesis runs a bounded number of examples by default.

HYPOTHESIS_PROFILE=thorough runs the property tests for much longer (soak).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from chain import Node, NodeConfig
from chain.server import ServerThread

pytest_plugins = ["tests.browser"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Each phase's report on the test item (`item.rep_call`), so fixtures can see whether the test failed."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{report.when}", report)


settings.register_profile("ci", max_examples=12, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module")
def http_node() -> Iterator[tuple[Node, ServerThread]]:
    """A node with five dev accounts served over real HTTP/WebSocket, one per test module."""
    node = Node(NodeConfig(accounts=5))
    server = ServerThread(node).start()
    yield node, server
    server.stop()
    node.close()

"""The pytest plugin's fixtures and their per-test isolation."""

from __future__ import annotations

pytest_plugins = ["pytester"]


def test_fixtures_are_isolated_by_snapshots(pytester) -> None:  # type: ignore[no-untyped-def]
    pytester.makepyfile(
        """
        def test_a(w3, accounts):
            a, b = accounts[0].checksum, accounts[1].checksum
            w3.eth.send_transaction({"from": a, "to": b, "value": 5})
            assert w3.eth.block_number == 1

        def test_b(w3, bourse_node):
            assert w3.eth.block_number == 0
            assert bourse_node.backend.head.number == 0
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)

"""Calls, estimates and transactions leave no reference cycles: an overlay (the throw-away state under each of them)
is freed when dropped, not when the cyclic collector next runs. With cycles, each call's overlay, its dicts and
journal piled up between collections (17 objects per eth_call, ~80 per transaction), and a collection paused the
node for milliseconds."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from eth.exceptions import Revert

from chain import Node, NodeConfig
from chain.execution import PENDING
from chain.provider import BourseProvider
from chain.rpc.params import CallRequest
from chain.state import Overlay
from contracts.predeploy import address_of


@pytest.fixture
def overlays(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[weakref.ref[Overlay]]]:
    made: list[weakref.ref[Overlay]] = []
    init = Overlay.__init__

    here = threading.get_ident()

    def recording(self: Overlay, base: Any) -> None:
        init(self, base)
        if threading.get_ident() == here:  # not another test's node, serving in a thread
            made.append(weakref.ref(self))

    monkeypatch.setattr(Overlay, "__init__", recording)
    gc.collect()
    gc.disable()  # only reference counting frees anything from here on
    try:
        yield made
    finally:
        gc.enable()


def test_calls_and_transactions_free_their_overlays(overlays: list[weakref.ref[Overlay]]) -> None:
    node = Node(NodeConfig())
    rpc = BourseProvider(node)
    me = rpc.call("eth_accounts", [])["result"][0]
    token = address_of("PlatformToken")
    balance_of = {"from": me, "to": token, "data": "0x70a08231" + me[2:].lower().rjust(64, "0")}
    transfer = {"from": me, "to": token, "data": "0xa9059cbb" + "00" * 12 + "11" * 20 + "00" * 31 + "01"}
    overlays.clear()  # the node's own start-up
    assert int(rpc.call("eth_call", [balance_of, "latest"])["result"], 16) > 0
    assert int(rpc.call("eth_estimateGas", [transfer])["result"], 16) > 21_000
    sent = rpc.call("eth_sendTransaction", [transfer])["result"]
    assert rpc.call("eth_getTransactionReceipt", [sent])["result"]["status"] == "0x1"
    too_much = CallRequest(to=bytes.fromhex(token[2:]), sender=bytes.fromhex(me[2:]),
                           data=bytes.fromhex("a9059cbb" + "00" * 12 + "11" * 20 + "ff" * 32))
    for run in (node.executor.run, node.executor._message_call):  # as estimates and eth_call run it
        result = run(too_much, PENDING, None)
        assert result is not None and isinstance(result.error, Revert)  # a revert: its error's traceback too
    del result
    assert len(overlays) >= 5
    alive = [ref for ref in overlays if ref() is not None]
    assert alive == []
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector would free, kept to look at (other threads' garbage too)
    try:
        gc.collect()
        spoofs = [o for o in gc.garbage if getattr(o, "__qualname__", "").startswith("SpoofAttributes.")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert spoofs == []  # py-evm's spoofed sender (from_=) is a cycle: calls and estimates do without it

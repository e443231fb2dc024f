"""Vault log queries against nodes that cap eth_getLogs: paged by range, refused ranges halved, and a recovering
settler's search for its batch going backwards from the head."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode

from matcher.exchange.vault import TOPIC_OF, VaultClient
from wallet.errors import RpcError

VAULT = "0x" + "11" * 20


def batch_log(block: int, batch_id: int) -> dict[str, Any]:
    return {"address": VAULT, "topics": [TOPIC_OF["BatchSettled"], "0x" + batch_id.to_bytes(32, "big").hex()],
            "data": "0x" + encode(["uint256", "uint256"], [3, 0]).hex(), "blockNumber": hex(block),
            "transactionHash": "0x" + block.to_bytes(32, "big").hex(), "logIndex": "0x0"}


class CappedNode:
    """eth_getLogs over a fixed set of logs, refusing ranges wider than `cap` blocks the way BSC words it."""

    def __init__(self, logs: list[dict[str, Any]], cap: int, message: str = "exceed maximum block range: {cap}",
                 code: int = -32000) -> None:
        self.logs, self.cap, self.message, self.code = logs, cap, message, code
        self.ranges: list[tuple[int, int]] = []

    def call(self, method: str, *params: Any) -> Any:
        assert method == "eth_getLogs"
        query = params[0]
        start, end = int(query["fromBlock"], 16), int(query["toBlock"], 16)
        if end - start + 1 > self.cap:
            raise RpcError(method, self.message.format(cap=self.cap), self.code)
        self.ranges.append((start, end))
        topics = query.get("topics") or []
        return [log for log in self.logs if start <= int(log["blockNumber"], 16) <= end
                and all(t is None or t == log["topics"][i] for i, t in enumerate(topics))]


def test_events_are_fetched_in_ranges_and_a_refused_range_is_halved() -> None:
    node = CappedNode([batch_log(b, b) for b in (3, 1_999, 2_000, 4_500, 9_999)], cap=700)
    vault = VaultClient(node, VAULT, log_range=2_000)  # type: ignore[arg-type]
    events = vault.events(0, 9_999)
    assert [e.block for e in events] == [3, 1_999, 2_000, 4_500, 9_999]
    assert all(end - start + 1 <= 700 for start, end in node.ranges)
    covered = sorted(node.ranges)
    assert covered[0][0] == 0 and covered[-1][1] == 9_999
    assert all(a[1] + 1 == b[0] for a, b in zip(covered, covered[1:]))  # no gap, no overlap


@pytest.mark.parametrize("message, code", [("query returned more than 10000 results", -32005),
                                           ("Log response size exceeded.", -32602), ("block range too large", None)])
def test_the_usual_refusals_are_recognised(message: str, code: int | None) -> None:
    node = CappedNode([batch_log(42, 7)], cap=10, message=message, code=code)  # type: ignore[arg-type]
    assert [e.args["batchId"] for e in VaultClient(node, VAULT).events(0, 100)] == [7]  # type: ignore[arg-type]


def test_other_errors_are_not_retried() -> None:
    node = CappedNode([], cap=10, message="execution aborted (timeout = 5s)")
    with pytest.raises(RpcError, match="timeout"):
        VaultClient(node, VAULT).events(0, 100)  # type: ignore[arg-type]


def test_newest_event_searches_back_from_the_head() -> None:
    node = CappedNode([batch_log(150, 9), batch_log(40_000, 9), batch_log(41_000, 10)], cap=5_000)
    vault = VaultClient(node, VAULT, log_range=1_000)  # type: ignore[arg-type]
    topics = [TOPIC_OF["BatchSettled"], "0x" + (9).to_bytes(32, "big").hex()]
    event = vault.newest_event(100, 45_000, topics)
    assert event is not None and (event.block, event.args["batchId"]) == (40_000, 9)
    assert len(node.ranges) == 6  # 45,000 back to 40,000: six ranges, not 45
    assert vault.newest_event(41_001, 45_000, topics) is None


class CallNode:
    """eth_call answered by `answers[selector]` (bytes to return, or an RpcError to raise), else by `answer`."""

    def __init__(self, answer: Any, answers: dict[str, Any] | None = None) -> None:
        self.answer, self.answers = answer, answers or {}

    def eth_call(self, to: str, data: bytes, block: str = "latest") -> bytes:
        answer = self.answers.get(data[:4].hex(), self.answer)
        if isinstance(answer, Exception):
            raise answer
        return bytes(answer)


def test_a_vault_of_another_batch_format_is_refused_with_a_clear_error() -> None:
    from eth_utils import function_signature_to_4byte_selector

    from contracts.settlement import BATCH_FORMAT
    from matcher.errors import MatcherError

    max_fills = function_signature_to_4byte_selector("MAX_FILLS()").hex()
    current = CallNode(encode(["uint256"], [BATCH_FORMAT]), {max_fills: encode(["uint256"], [128])})
    assert VaultClient(current, VAULT).max_fills() == 128  # type: ignore[arg-type]
    # the previous format (MAX_FILLS, no BATCH_FORMAT); no view at all; no code at the address; a later format
    for node in (CallNode(RpcError("eth_call", "execution reverted", 3), {max_fills: encode(["uint256"], [128])}),
                 CallNode(RpcError("eth_call", "execution reverted", 3)), CallNode(b""),
                 CallNode(encode(["uint256"], [BATCH_FORMAT + 1]))):
        with pytest.raises(MatcherError, match="batch format .*deploy the current one"):
            VaultClient(node, VAULT).max_fills()  # type: ignore[arg-type]
    with pytest.raises(RpcError):  # the node failing is not the vault's fault
        VaultClient(CallNode(RpcError("eth_call", "connection refused", -1)), VAULT).max_fills()  # type: ignore[arg-type]

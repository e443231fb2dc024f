"""The settlement vault over JSON-RPC: its events decoded, its views read, its calls encoded. Nothing here knows
which node answers (this node, anvil, BSC)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils import event_signature_to_log_topic, function_signature_to_4byte_selector, to_checksum_address

from contracts.settlement import BATCH_FORMAT, SETTLE_SIGNATURE, settle_args
from matcher.errors import MatcherError
from wallet.errors import RpcError
from wallet.rpc import Rpc

ORDER_TUPLE = "(address,address,address,bool,uint256,uint256,uint256,uint256,uint256,uint256)"  # cancelOrder's
EVENTS = {  # name: (signature, indexed types, data types, field names)
    "Deposit": ("Deposit(address,address,uint256)", ["address", "address"], ["uint256"],
                ["user", "token", "amount"]),
    "Withdraw": ("Withdraw(address,address,uint256)", ["address", "address"], ["uint256"],
                 ["user", "token", "amount"]),
    "WithdrawalRequested": ("WithdrawalRequested(address,address,uint256,uint256)", ["address", "address"],
                            ["uint256", "uint256"], ["user", "token", "amount", "unlockBlock"]),
    "OrderCancelled": ("OrderCancelled(address,bytes32)", ["address", "bytes32"], [], ["maker", "orderHash"]),
    "NonceFloorRaised": ("NonceFloorRaised(address,uint256)", ["address"], ["uint256"], ["maker", "minNonce"]),
    "FeesInPlatformToken": ("FeesInPlatformToken(address,bool)", ["address"], ["bool"], ["user", "enabled"]),
    "FeeDiscountSet": ("FeeDiscountSet(uint256)", [], ["uint256"], ["discountBps"]),
    "PlatformTokenRateSet": ("PlatformTokenRateSet(address,uint256)", ["address"], ["uint256"], ["asset", "rate"]),
    "Filled": ("Filled(bytes32,bytes32,uint256,uint256,uint256,uint256)", ["bytes32", "bytes32"],  # BatchSettled,
               ["uint256", "uint256", "uint256", "uint256"],  # in the same transaction, names the batch
               ["makerHash", "takerHash", "baseAmount", "quoteAmount", "makerFee", "takerFee"]),
    "FillSkipped": ("FillSkipped(uint256,uint256,uint8)", ["uint256"], ["uint256", "uint8"],
                    ["batchId", "index", "reason"]),
    "BatchSettled": ("BatchSettled(uint256,uint256,uint256)", ["uint256"], ["uint256", "uint256"],
                     ["batchId", "fills", "skipped"]),
    "AgentApproved": ("AgentApproved(address,address,uint256)", ["address", "address"], ["uint256"],
                      ["maker", "agent", "expiry"]),
    "AgentRevoked": ("AgentRevoked(address,address)", ["address", "address"], [], ["maker", "agent"]),
    # the listing-vote contract's (listings.py reads its logs with this client)
    "Listed": ("Listed(address,uint256,uint256)", ["address", "uint256"], ["uint256"], ["token", "roundId", "votes"]),
}
TOPICS = {"0x" + event_signature_to_log_topic(sig).hex(): name for name, (sig, *_) in EVENTS.items()}
TOPIC_OF = {name: topic for topic, name in TOPICS.items()}
SKIP_REASONS = {1: "cancelled on chain", 2: "expired", 3: "seller balance", 4: "buyer balance",
                5: "the order's agent is no longer approved"}


@dataclass(frozen=True)
class VaultEvent:
    name: str
    args: dict[str, Any]
    block: int
    tx_hash: str
    log_index: int

    @property
    def event_id(self) -> str:
        return f"{self.tx_hash}:{self.log_index}"


def decode_log(log: dict[str, Any]) -> VaultEvent | None:
    topics = log.get("topics") or []
    name = TOPICS.get(topics[0]) if topics else None
    if name is None:
        return None
    _, indexed, data_types, names = EVENTS[name]
    values = [decode([t], bytes.fromhex(topic[2:]))[0] for t, topic in zip(indexed, topics[1:], strict=True)]
    values += list(decode(data_types, bytes.fromhex(log["data"][2:]))) if data_types else []
    args = {}
    for field, value in zip(names, values, strict=True):
        args[field] = to_checksum_address(value) if isinstance(value, str) and value.startswith("0x") and \
            len(value) == 42 else ("0x" + value.hex() if isinstance(value, bytes) else value)
    return VaultEvent(name, args, int(log["blockNumber"], 16), log["transactionHash"], int(log["logIndex"], 16))


# Blocks per eth_getLogs call. Public endpoints cap the range (BSC's at 5,000 blocks, others lower) or the
# number of results; a refused range is halved until it passes.
LOG_RANGE = 2_000
_REFUSAL_WORDS = ("range", "limit", "exceed", "too many", "more than", "too large", "response size")


def _range_refused(exc: RpcError) -> bool:
    """Whether the node refused an eth_getLogs call for its size (EIP-1474 -32005, or how nodes word it)."""
    message = exc.message.lower()
    return exc.code == -32005 or any(word in message for word in _REFUSAL_WORDS)


class VaultClient:
    def __init__(self, rpc: Rpc, address: str, log_range: int = LOG_RANGE) -> None:
        self.rpc = rpc
        self.address = to_checksum_address(address)
        self.log_range = max(1, log_range)

    def block_number(self) -> int:
        return int(self.rpc.call("eth_blockNumber"), 16)

    def events(self, from_block: int, to_block: int, topics: list[Any] | None = None) -> list[VaultEvent]:
        """The vault's events in [from_block, to_block], oldest first, fetched `log_range` blocks at a time."""
        found: list[VaultEvent] = []
        for start in range(from_block, to_block + 1, self.log_range):
            found += self._events(start, min(to_block, start + self.log_range - 1), topics)
        return sorted(found, key=lambda e: (e.block, e.log_index))

    def newest_event(self, from_block: int, to_block: int, topics: list[Any]) -> VaultEvent | None:
        """The newest event matching `topics`, searched from `to_block` backwards one range at a time (what a
        recovering settler wants: the transaction it is looking for was sent recently)."""
        end = to_block
        while end >= from_block:
            start = max(from_block, end - self.log_range + 1)
            found = self._events(start, end, topics)
            if found:
                return max(found, key=lambda e: (e.block, e.log_index))
            end = start - 1
        return None

    def _events(self, start: int, end: int, topics: list[Any] | None) -> list[VaultEvent]:
        query: dict[str, Any] = {"address": self.address, "fromBlock": hex(start), "toBlock": hex(end)}
        if topics:
            query["topics"] = topics
        try:
            logs = self.rpc.call("eth_getLogs", query)
        except RpcError as exc:
            if end <= start or not _range_refused(exc):
                raise
            middle = (start + end) // 2
            return self._events(start, middle, topics) + self._events(middle + 1, end, topics)
        return [e for e in (decode_log(log) for log in logs) if e is not None]

    def receipt_events(self, receipt: dict[str, Any], names: tuple[str, ...] | None = None) -> list[VaultEvent]:
        """The vault's events in a receipt (only those named in `names`, when given: the rest are not decoded)."""
        wanted = None if names is None else {TOPIC_OF[name] for name in names}
        address = self.address.lower()
        logs = [log for log in receipt.get("logs", []) if log.get("address", "").lower() == address and
                (wanted is None or (log.get("topics") or [None])[0] in wanted)]
        return [e for e in (decode_log(log) for log in logs) if e is not None]

    def view(self, signature: str, types: list[str], args: list[Any], returns: list[str],
             block: str | int = "latest") -> Any:
        data = function_signature_to_4byte_selector(signature) + encode(types, args)
        tag = hex(block) if isinstance(block, int) else block
        values = decode(returns, self.rpc.eth_call(self.address, data, tag))
        return values[0] if len(values) == 1 else values

    def balance_of(self, user: str, token: str, block: str | int = "latest") -> int:
        return int(self.view("balanceOf(address,address)", ["address", "address"], [user, token], ["uint256"],
                             block))

    def last_batch_id(self) -> int:
        return int(self.view("lastBatchId()", [], [], ["uint256"]))

    def fee_recipient(self) -> str:
        return to_checksum_address(self.view("feeRecipient()", [], [], ["address"]))

    def max_fills(self) -> int:
        """The most fills the vault settles in one batch. MatcherError for a contract that takes batches in another
        layout than `contracts.settlement.settle_args` packs (`BATCH_FORMAT()`; a vault from before it has no such
        view), or no vault at all."""
        try:
            found = int(self.view("BATCH_FORMAT()", [], [], ["uint256"]))
        except (RpcError, DecodingError) as exc:
            if isinstance(exc, RpcError) and not _is_revert(exc):
                raise
            found = None
        if found != BATCH_FORMAT:
            raise MatcherError(
                f"the contract at {self.address} is not a settlement vault this exchange can settle on (batch format "
                f"{'none' if found is None else found}, this exchange sends {BATCH_FORMAT}: a SettlementVault from "
                "before it, or no vault); deploy the current one")
        return int(self.view("MAX_FILLS()", [], [], ["uint256"]))

    def platform_token(self) -> str:
        return to_checksum_address(self.view("platformToken()", [], [], ["address"]))

    def fee_discount_bps(self) -> int:
        return int(self.view("feeDiscountBps()", [], [], ["uint256"]))

    def platform_token_rate(self, token: str) -> int:
        return int(self.view("platformTokenRate(address)", ["address"], [token], ["uint256"]))

    def agent_expiry(self, maker: str, agent: str) -> int:
        """When `agent`'s approval to sign `maker`'s orders ends (unix seconds; 0 never approved, 1 revoked)."""
        return int(self.view("agentExpiry(address,address)", ["address", "address"], [maker, agent], ["uint256"]))

    def agent_nonce(self, maker: str) -> int:
        return int(self.view("agentNonce(address)", ["address"], [maker], ["uint256"]))

    def is_operator(self, account: str) -> bool:
        return bool(self.view("operators(address)", ["address"], [account], ["bool"]))

    def simulate(self, sender: str, data: bytes, to: str | None = None) -> str | None:
        """None if the call (to the vault, or to `to`) would succeed, else the revert message."""
        try:
            self.rpc.call("eth_call", {"from": sender, "to": to or self.address, "data": "0x" + data.hex()}, "latest")
        except RpcError as exc:
            if _is_revert(exc):
                return exc.message
            raise
        return None

    def estimate(self, sender: str, data: bytes) -> tuple[int | None, str | None]:
        """(gas, None) if the call would succeed, else (None, the revert message): a simulation that also sizes
        the transaction, so a batch runs once before it is sent, not twice."""
        try:
            gas = self.rpc.call("eth_estimateGas", {"from": sender, "to": self.address, "data": "0x" + data.hex()})
        except RpcError as exc:
            if _is_revert(exc):
                return None, exc.message
            raise
        return int(gas, 16), None


def _is_revert(exc: RpcError) -> bool:
    return exc.code in (3, -32000, -32015) or "revert" in exc.message


SETTLE_SELECTOR = function_signature_to_4byte_selector(SETTLE_SIGNATURE)


def settle_calldata(batch_id: int, fills: list[tuple[Any, ...]], platform_token: str | None = None) -> bytes:
    """settle() calldata for `fills` (contracts.settlement.fill_tuple's; `platform_token` is the vault's). Every
    order and fill is static words, so this writes them in order: eth_abi took ~13 ms for a batch of 100, on the
    settler's critical path; this gives the same bytes (tested) in a fraction."""
    batch, tokens, accounts, balances, nonce_words, orders, packed = settle_args(batch_id, fills, platform_token)
    offsets = [7 * 32]
    for length in (len(tokens), len(accounts), len(balances), len(nonce_words), 6 * len(orders)):
        offsets.append(offsets[-1] + 32 * (1 + length))
    words = [SETTLE_SELECTOR, *(n.to_bytes(32, "big") for n in (batch, *offsets))]
    for addresses in (tokens, accounts):
        words.append(len(addresses).to_bytes(32, "big"))
        words += [bytes(12) + bytes.fromhex(address[2:]) for address in addresses]
    for keys in (balances, nonce_words):
        words.append(len(keys).to_bytes(32, "big"))
        words += [key.to_bytes(32, "big") for key in keys]
    words.append(len(orders).to_bytes(32, "big"))
    for order in orders:
        words += [value.to_bytes(32, "big") for value in order[:4]]
        words += order[4:]
    words.append(len(packed).to_bytes(32, "big"))
    words += [value.to_bytes(32, "big") for fill in packed for value in fill]
    return b"".join(words)


def operator_withdraw_calldata(user: str, token: str, amount: int) -> bytes:
    return function_signature_to_4byte_selector("operatorWithdraw(address,address,uint256)") + \
        encode(["address", "address", "uint256"], [user, token, amount])


def approve_agent_calldata(agent: str, expiry: int) -> bytes:
    return function_signature_to_4byte_selector("approveAgent(address,uint256)") + encode(["address", "uint256"],
                                                                                        [agent, expiry])


def revoke_agent_calldata(agent: str) -> bytes:
    return function_signature_to_4byte_selector("revokeAgent(address)") + encode(["address"], [agent])


APPROVE_AGENT_BY_SIG = "approveAgentBySig(address,address,uint256,uint256,uint8,bytes32,bytes32)"


def approve_agent_by_sig_calldata(maker: str, agent: str, expiry: int, nonce: int, signature: str) -> bytes:
    raw = bytes.fromhex(signature.removeprefix("0x"))
    r, s, v = raw[:32], raw[32:64], raw[64]
    return function_signature_to_4byte_selector(APPROVE_AGENT_BY_SIG) + encode(
        ["address", "address", "uint256", "uint256", "uint8", "bytes32", "bytes32"],
        [maker, agent, expiry, nonce, v if v >= 27 else v + 27, r, s])

"""ots_*: Otterscan's API (level 8), so Otterscan can browse a Bourse chain, and erigon_getHeaderByNumber.

Address history comes from the node's address index (sender, recipient and created contract of every
transaction, in the same SQLite store); a contract's creator and a sender's nonce are found by binary search over
the state history, then one block is replayed, as Erigon does.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidParams, ResourceNotFound
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.registry import rpc
from ..tracing.calls import Call, CallTracer
from ..tracing.replay import replay_block, replay_transaction
from .chain_data import ChainDataApi

API_LEVEL = 8
MAX_PAGE = 100
TRANSFER, SELF_DESTRUCT, CREATE, CREATE2 = 0, 1, 2, 3


class OtsApi:
    def __init__(self, node: Node, data: ChainDataApi) -> None:
        self.node = node
        self.data = data

    @rpc("ots_getApiLevel")
    def api_level(self, params: Any) -> int:
        """The Otterscan API level this node implements."""
        p.positional(params, 0, 0, "ots_getApiLevel")
        return API_LEVEL

    @rpc("ots_hasCode")
    def has_code(self, params: Any) -> bool:
        """Whether an address holds code at a block."""
        address, block = p.positional(params, 1, 2, "ots_hasCode")
        addr = p.address(address, "address")
        with self.node.lock:
            return bool(self.node.backend.code(addr, self._number(block)))

    @rpc("ots_getInternalOperations")
    def internal_operations(self, params: Any) -> list[dict[str, Any]]:
        """Value transfers, self-destructs and creations inside a transaction (not its top-level call)."""
        (tx_hash,) = p.positional(params, 1, 1, "ots_getInternalOperations")
        tree = self._tree(p.hash32(tx_hash, "transaction hash"))
        out: list[dict[str, Any]] = []

        def walk(call: Call, depth: int) -> None:
            if depth > 0 and not call.reverted:
                kind = {"CREATE": CREATE, "CREATE2": CREATE2, "SELFDESTRUCT": SELF_DESTRUCT}.get(call.type)
                if kind is None and call.type in ("CALL", "CALLCODE") and call.value:
                    kind = TRANSFER
                if kind is not None:
                    out.append({"type": kind, "from": fmt.addr(call.sender), "to": fmt.addr(call.to),
                                "value": hex(call.value or 0)})
            if not call.reverted:
                for child in call.calls:
                    walk(child, depth + 1)

        walk(tree, 0)
        return out

    @rpc("ots_getTransactionError")
    def transaction_error(self, params: Any) -> str:
        """The revert data of a failed transaction ("0x" when it succeeded)."""
        (tx_hash,) = p.positional(params, 1, 1, "ots_getTransactionError")
        tree = self._tree(p.hash32(tx_hash, "transaction hash"))
        return "0x" + (tree.output.hex() if tree.reverted else "")

    @rpc("ots_traceTransaction")
    def trace_transaction(self, params: Any) -> list[dict[str, Any]]:
        """Every call frame of a transaction in order, with its depth (Otterscan's trace view)."""
        (tx_hash,) = p.positional(params, 1, 1, "ots_traceTransaction")
        tree = self._tree(p.hash32(tx_hash, "transaction hash"))
        out: list[dict[str, Any]] = []

        def walk(call: Call, depth: int) -> None:
            out.append({"type": call.type, "depth": depth, "from": fmt.addr(call.sender), "to": fmt.addr(call.to),
                        "value": hex(call.value) if call.value is not None else None,
                        "input": "0x" + call.input.hex(), "output": "0x" + call.output.hex()})
            for child in call.calls:
                walk(child, depth + 1)

        walk(tree, 0)
        return out

    @rpc("ots_getBlockDetails")
    def block_details(self, params: Any) -> dict[str, Any] | None:
        """A block without its transactions, their count, issuance and the fees they paid."""
        (block,) = p.positional(params, 1, 1, "ots_getBlockDetails")
        with self.node.lock:
            try:
                number = self._number(block)
            except ResourceNotFound:
                return None
            return self._details(number)

    @rpc("ots_getBlockDetailsByHash")
    def block_details_by_hash(self, params: Any) -> dict[str, Any] | None:
        """ots_getBlockDetails by block hash."""
        (block_hash,) = p.positional(params, 1, 1, "ots_getBlockDetailsByHash")
        with self.node.lock:
            number = self.node.storage.block_number_by_hash(p.hash32(block_hash, "block hash"))
            return None if number is None else self._details(number)

    @rpc("ots_getBlockTransactions")
    def block_transactions(self, params: Any) -> dict[str, Any]:
        """One page of a block's transactions with their receipts (logs left out)."""
        block, page, size = p.positional(params, 3, 3, "ots_getBlockTransactions")
        number_of_page, page_size = _page(page, "pageNumber"), _page(size, "pageSize", minimum=1)
        with self.node.lock:
            number = self._number(block)
            full = self.data._block(number, True)
            assert full is not None
            txs = full["transactions"]
            full["transactionCount"] = len(txs)
            chosen = txs[number_of_page * page_size:(number_of_page + 1) * page_size]
            full["transactions"] = chosen
            receipts = []
            for tx in chosen:
                receipt = self.data._receipt(bytes.fromhex(tx["hash"][2:]))
                receipt = {k: v for k, v in (receipt or {}).items() if k != "logs"}
                receipt["logs"] = None
                receipts.append(receipt)
            return {"fullblock": full, "receipts": receipts}

    @rpc("ots_searchTransactionsBefore")
    def search_before(self, params: Any) -> dict[str, Any]:
        """Transactions of an address in blocks before `blockNumber` (0: from the newest), newest first."""
        address, block, size = p.positional(params, 3, 3, "ots_searchTransactionsBefore")
        addr = p.address(address, "address")
        before = p.quantity(block, "blockNumber")
        page_size = _page(size, "pageSize", minimum=1)
        with self.node.lock:
            rows = self._whole_blocks(self.node.storage.address_txs(addr, before=before or None,
                                                                    limit=page_size + 1), page_size)
            last = len(self.node.storage.address_txs(addr, before=rows[-1][0], limit=1)) == 0 if rows else True
            return self._page_of(rows, first=before == 0, last=last)

    @rpc("ots_searchTransactionsAfter")
    def search_after(self, params: Any) -> dict[str, Any]:
        """Transactions of an address in blocks after `blockNumber`, returned newest first as Otterscan expects."""
        address, block, size = p.positional(params, 3, 3, "ots_searchTransactionsAfter")
        addr = p.address(address, "address")
        after = p.quantity(block, "blockNumber")
        page_size = _page(size, "pageSize", minimum=1)
        with self.node.lock:
            rows = self._whole_blocks(self.node.storage.address_txs(addr, after=after, limit=page_size + 1),
                                      page_size)
            first = len(self.node.storage.address_txs(addr, after=rows[-1][0], limit=1)) == 0 if rows else True
            return self._page_of(list(reversed(rows)), first=first, last=after == 0)

    @rpc("ots_getTransactionBySenderAndNonce")
    def by_sender_and_nonce(self, params: Any) -> str | None:
        """The hash of the sender's transaction with that nonce, or null."""
        sender, nonce = p.positional(params, 2, 2, "ots_getTransactionBySenderAndNonce")
        addr, wanted = p.address(sender, "sender"), p.quantity(nonce, "nonce")
        with self.node.lock:
            found = transaction_by_sender_and_nonce(self.node, addr, wanted)
            return None if found is None else fmt.hb(found)

    @rpc("ots_getContractCreator")
    def contract_creator(self, params: Any) -> dict[str, Any] | None:
        """The transaction and the account that created a contract, or null."""
        (address,) = p.positional(params, 1, 1, "ots_getContractCreator")
        addr = p.address(address, "address")
        with self.node.lock:
            backend = self.node.backend
            if not backend.code(addr, backend.head.number):
                return None
            lo, hi = 0, backend.head.number
            while lo < hi:
                mid = (lo + hi) // 2
                if backend.code(addr, mid):
                    hi = mid
                else:
                    lo = mid + 1
            if lo == 0:
                return None  # in genesis (a predeploy): no transaction created it
            tracers: dict[int, CallTracer] = {}

            def tracer_for(index: int, _tx: Any) -> CallTracer:
                tracers[index] = CallTracer()
                return tracers[index]

            for traced in replay_block(self.node, lo, tracer_for):
                tree = tracers[traced.index].tree(traced.gas_limit, traced.gas_used)  # type: ignore[index]
                creator = _creator_of(tree, addr)
                if creator is not None:
                    return {"hash": fmt.hb(traced.tx_hash), "creator": fmt.addr(creator)}  # type: ignore[arg-type]
            return None

    @rpc("erigon_getHeaderByNumber")
    def header_by_number(self, params: Any) -> dict[str, Any] | None:
        """A block's header fields (a block without transactions)."""
        (block,) = p.positional(params, 1, 1, "erigon_getHeaderByNumber")
        with self.node.lock:
            try:
                number = self._number(block)
            except ResourceNotFound:
                return None
            header = self.data._block(number, False)
            if header is not None:
                header.pop("transactions", None)
            return header

    # -- helpers ---------------------------------------------------------------------------------------------
    def _tree(self, tx_hash: bytes) -> Call:
        with self.node.lock:
            if self.node.storage.tx(tx_hash) is None:
                raise ResourceNotFound(f"transaction {fmt.hb(tx_hash)} not found")
            tracer = CallTracer()
            traced = replay_transaction(self.node, tx_hash, tracer)
            return tracer.tree(traced.gas_limit, traced.gas_used)

    def _number(self, value: Any) -> int:
        ref = p.block_ref(value)
        backend = self.node.backend
        return backend.resolve_hash(ref.hash) if ref.hash is not None else backend.resolve_block(ref.tag)  # type: ignore[arg-type]

    def _details(self, number: int) -> dict[str, Any]:
        block = self.data._block(number, False)
        assert block is not None
        txs = block.pop("transactions")
        block["transactionCount"] = len(txs)
        block["logsBloom"] = None  # Otterscan's shape: the bloom left out
        fees = 0
        for tx_hash in txs:
            stored = self.node.storage.tx(bytes.fromhex(tx_hash[2:]))
            if stored is not None:
                fees += stored.gas_used * stored.gas_price
        return {"block": block, "issuance": {"blockReward": "0x0", "uncleReward": "0x0", "issuance": "0x0"},
                "totalFees": hex(fees)}

    @staticmethod
    def _whole_blocks(rows: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
        """A page ends at a block boundary, as Otterscan's paging expects (a block is never split)."""
        if len(rows) <= size:
            return rows
        cut = rows[:size]
        extra = [r for r in rows[size:] if r[0] == cut[-1][0]]
        return cut + extra

    def _page_of(self, rows: list[tuple[int, int]], first: bool, last: bool) -> dict[str, Any]:
        txs, receipts = [], []
        for block, index in rows:
            found = self.node.storage.block_by_number(block)
            assert found is not None
            tx_hash = found[2][index]
            txs.append(self.data._mined_tx(tx_hash))
            receipt = self.data._receipt(tx_hash) or {}
            receipt["timestamp"] = hex(found[0].timestamp)
            receipts.append(receipt)
        return {"txs": txs, "receipts": receipts, "firstPage": first, "lastPage": last}


def _creator_of(call: Call, address: bytes) -> bytes | None:
    if call.type in ("CREATE", "CREATE2") and bytes(call.to) == address and not call.reverted:
        return call.sender
    for child in call.calls:
        found = _creator_of(child, address)
        if found is not None:
            return found
    return None


def _page(value: Any, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 10**6:
        raise InvalidParams(f"invalid {name}: expected an integer of at least {minimum}")
    return min(value, MAX_PAGE) if name == "pageSize" else value


def transaction_by_sender_and_nonce(node: Node, addr: bytes, wanted: int) -> bytes | None:
    """The hash of `addr`'s mined transaction with nonce `wanted`: a binary search for the block in which its
    nonce passed `wanted`, then that block's transactions. The caller holds the node lock."""
    backend = node.backend
    if backend.nonce(addr, backend.head.number) <= wanted:
        return None
    lo, hi = 0, backend.head.number
    while lo < hi:
        mid = (lo + hi) // 2
        if backend.nonce(addr, mid) > wanted:
            hi = mid
        else:
            lo = mid + 1
    found = node.storage.block_by_number(lo)
    assert found is not None
    from ..tracing.replay import stored_transaction
    for tx_hash in found[2]:
        stored = node.storage.tx(tx_hash)
        if stored is not None and stored.sender == addr:
            if stored_transaction(backend, tx_hash, stored.raw, stored.sender).nonce == wanted:
                return tx_hash
    return None

"""eth_* reads: blocks, transactions, receipts, logs, balances, code, storage, fees."""

from __future__ import annotations

from typing import Any

from ..blobs import GAS_PER_BLOB, blob_base_fee, max_blobs_per_block, next_excess_blob_gas
from ..errors import InvalidParams, ResourceNotFound
from ..filters import MAX_LOG_RANGE, LogQuery, log_query
from ..hashing import keccak
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.registry import rpc
from ..transactions import BLOB, Builder


class ChainDataApi:
    def __init__(self, node: Node) -> None:
        self.node = node

    # -- helpers ------------------------------------------------------------------
    def _number(self, ref: p.BlockRef) -> int:
        backend = self.node.backend
        if ref.hash is not None:
            return backend.resolve_hash(ref.hash)
        return backend.resolve_block(ref.tag)  # type: ignore[arg-type]

    def _remote(self) -> Any:
        """A fork's source of blocks at or before the fork block (None when not forking)."""
        return self.node.backend.fork_blocks

    def _block(self, number: int, full: bool) -> dict[str, Any] | None:
        remote = self._remote()
        if remote is not None and number <= remote.point.number:
            return remote.block(number, full)  # type: ignore[no-any-return]
        found = self.node.storage.block_by_number(number)
        if found is None:
            return None
        header, block_hash, tx_hashes, _ = found
        if full:
            txs: list[Any] = []
            for i, h in enumerate(tx_hashes):
                stored = self.node.storage.tx(h)
                assert stored is not None
                txs.append(fmt.tx_json(stored.raw, h, stored.sender, (block_hash, number, i, header.timestamp),
                                         header.base_fee))
        else:
            txs = [fmt.hb(h) for h in tx_hashes]
        size = len(header.encode()) + sum(len(self.node.storage.tx(h).raw) for h in tx_hashes) if full else len(
            header.encode()) + 32 * len(tx_hashes)
        return fmt.block_json(header, block_hash, txs, size)

    # -- simple reads ---------------------------------------------------------------
    @rpc("eth_blockNumber")
    def block_number(self, params: Any) -> str:
        """Number of the most recent block."""
        p.positional(params, 0, 0, "eth_blockNumber")
        return fmt.hx(self.node.backend.head.number)

    @rpc("eth_getBalance")
    def get_balance(self, params: Any) -> str:
        """Balance of an address in wei at a block."""
        address, block = p.positional(params, 1, 2, "eth_getBalance")
        with self.node.lock:
            return fmt.hx(self.node.backend.balance(p.address(address, "address"), self._number(p.block_ref(block))))

    @rpc("eth_getTransactionCount")
    def get_transaction_count(self, params: Any) -> str:
        """Nonce of an address at a block; 'pending' counts pooled transactions."""
        address, block = p.positional(params, 1, 2, "eth_getTransactionCount")
        addr = p.address(address, "address")
        ref = p.block_ref(block)
        with self.node.lock:
            nonce = self.node.backend.nonce(addr, self._number(ref))
            if ref.tag == "pending":
                nonce = self.node.pool.pending_nonce(addr, nonce)
            return fmt.hx(nonce)

    @rpc("eth_getCode")
    def get_code(self, params: Any) -> str:
        """Runtime bytecode at an address."""
        address, block = p.positional(params, 1, 2, "eth_getCode")
        with self.node.lock:
            return fmt.hb(self.node.backend.code(p.address(address, "address"), self._number(p.block_ref(block))))

    @rpc("eth_getStorageAt")
    def get_storage_at(self, params: Any) -> str:
        """One 32-byte storage slot."""
        address, slot, block = p.positional(params, 2, 3, "eth_getStorageAt")
        with self.node.lock:
            value = self.node.backend.storage_at(p.address(address, "address"), p.quantity_or_hash(slot, "slot"),
                                                 self._number(p.block_ref(block)))
        return "0x" + value.to_bytes(32, "big").hex()

    # -- blocks ------------------------------------------------------------------------
    @rpc("eth_getBlockByNumber")
    def get_block_by_number(self, params: Any) -> dict[str, Any] | None:
        """A block by number or tag, with transaction hashes or full transactions."""
        block, full = p.positional(params, 1, 2, "eth_getBlockByNumber")
        ref = p.block_ref(block)
        with self.node.lock:
            if ref.tag == "pending":
                return self._pending_block(bool(full))
            try:
                number = self._number(ref)
            except ResourceNotFound:
                return None
            return self._block(number, bool(full))

    def _pending_block(self, full: bool) -> dict[str, Any]:
        """What the next block would hold now, as anvil answers it: the hash of the header as it stands, the
        coinbase, a zero nonce (the execution-apis schema wants values where geth gives nulls)."""
        backend = self.node.backend
        ready = self.node.pool.ready(self.node.backend.pending_base_fee())
        header = backend.pending_header()
        txs: list[Any] = [fmt.tx_json(t.raw, t.hash, t.sender, None, header.base_fee) if full else fmt.hb(t.hash)
                          for t in ready]
        return fmt.block_json(header, keccak(header.encode()), txs, len(header.encode()))

    @rpc("eth_getBlockByHash")
    def get_block_by_hash(self, params: Any) -> dict[str, Any] | None:
        """A block by hash."""
        block_hash, full = p.positional(params, 1, 2, "eth_getBlockByHash")
        h = p.hash32(block_hash, "block hash")
        with self.node.lock:
            number = self.node.storage.block_number_by_hash(h)
            if number is None and self._remote() is not None:
                return self._remote().block_by_hash(h, bool(full))  # type: ignore[no-any-return]
            return None if number is None else self._block(number, bool(full))

    def _tx_count(self, number: int | None) -> str | None:
        if number is None:
            return None
        found = self.node.storage.block_by_number(number)
        return None if found is None else fmt.hx(len(found[2]))

    @rpc("eth_getBlockTransactionCountByNumber")
    def tx_count_by_number(self, params: Any) -> str | None:
        """Number of transactions in a block."""
        (block,) = p.positional(params, 1, 1, "eth_getBlockTransactionCountByNumber")
        with self.node.lock:
            try:
                return self._tx_count(self._number(p.block_ref(block)))
            except ResourceNotFound:
                return None

    @rpc("eth_getBlockTransactionCountByHash")
    def tx_count_by_hash(self, params: Any) -> str | None:
        """Number of transactions in a block, by hash."""
        (block_hash,) = p.positional(params, 1, 1, "eth_getBlockTransactionCountByHash")
        with self.node.lock:
            return self._tx_count(self.node.storage.block_number_by_hash(p.hash32(block_hash, "block hash")))

    @rpc("eth_getUncleCountByBlockNumber")
    def uncle_count_by_number(self, params: Any) -> str:
        """Always 0 after the merge."""
        p.positional(params, 1, 1, "eth_getUncleCountByBlockNumber")
        return "0x0"

    @rpc("eth_getUncleCountByBlockHash")
    def uncle_count_by_hash(self, params: Any) -> str:
        """Always 0 after the merge."""
        p.positional(params, 1, 1, "eth_getUncleCountByBlockHash")
        return "0x0"

    @rpc("eth_getUncleByBlockNumberAndIndex")
    def uncle_by_number(self, params: Any) -> None:
        """Always null after the merge."""
        p.positional(params, 2, 2, "eth_getUncleByBlockNumberAndIndex")
        return None

    @rpc("eth_getUncleByBlockHashAndIndex")
    def uncle_by_hash(self, params: Any) -> None:
        """Always null after the merge."""
        p.positional(params, 2, 2, "eth_getUncleByBlockHashAndIndex")
        return None

    # -- transactions and receipts ------------------------------------------------------
    def block(self, number: int, full: bool) -> dict[str, Any] | None:
        """Block `number` as eth_getBlockByNumber answers it (the caller holds the node lock)."""
        return self._block(number, full)

    def transaction(self, tx_hash: bytes) -> dict[str, Any] | None:
        """A mined transaction's object, or None (the caller holds the node lock)."""
        return self._mined_tx(tx_hash)

    def receipt(self, tx_hash: bytes) -> dict[str, Any] | None:
        """A mined transaction's receipt, or None (the caller holds the node lock)."""
        return self._receipt(tx_hash)

    def _mined_tx(self, tx_hash: bytes) -> dict[str, Any] | None:
        stored = self.node.storage.tx(tx_hash)
        if stored is None:
            return None
        header, block_hash, _, _ = self.node.storage.block_by_number(stored.block)  # type: ignore[misc]
        return fmt.tx_json(stored.raw, tx_hash, stored.sender, (block_hash, stored.block, stored.index,
                                                                  header.timestamp), header.base_fee)

    @rpc("eth_getTransactionByHash")
    def get_transaction_by_hash(self, params: Any) -> dict[str, Any] | None:
        """A mined or pending transaction."""
        (tx_hash,) = p.positional(params, 1, 1, "eth_getTransactionByHash")
        h = p.hash32(tx_hash, "transaction hash")
        with self.node.lock:
            mined = self._mined_tx(h)
            if mined is not None:
                return mined
            pending = self.node.pool.by_hash.get(h)
            if pending is None and self._remote() is not None:
                return self._remote().transaction(h)  # type: ignore[no-any-return]
            return None if pending is None else fmt.tx_json(pending.raw, h, pending.sender, None, None)

    def _hash_at(self, number: int | None, index: int) -> bytes | None:
        """The hash of the transaction at `index` in block `number`, if both exist."""
        if number is None:
            return None
        found = self.node.storage.block_by_number(number)
        if found is None or index >= len(found[2]):
            return None
        return found[2][index]

    def _tx_at(self, number: int | None, index: int) -> dict[str, Any] | None:
        tx_hash = self._hash_at(number, index)
        return None if tx_hash is None else self._mined_tx(tx_hash)

    @rpc("eth_getTransactionByBlockNumberAndIndex")
    def tx_by_number_and_index(self, params: Any) -> dict[str, Any] | None:
        """A transaction by block number and position."""
        block, index = p.positional(params, 2, 2, "eth_getTransactionByBlockNumberAndIndex")
        with self.node.lock:
            try:
                number = self._number(p.block_ref(block))
            except ResourceNotFound:
                return None
            return self._tx_at(number, p.quantity(index, "index"))

    @rpc("eth_getTransactionByBlockHashAndIndex")
    def tx_by_hash_and_index(self, params: Any) -> dict[str, Any] | None:
        """A transaction by block hash and position."""
        block_hash, index = p.positional(params, 2, 2, "eth_getTransactionByBlockHashAndIndex")
        with self.node.lock:
            number = self.node.storage.block_number_by_hash(p.hash32(block_hash, "block hash"))
            return self._tx_at(number, p.quantity(index, "index"))

    @rpc("eth_getRawTransactionByHash")
    def get_raw_transaction_by_hash(self, params: Any) -> str | None:
        """The signed bytes of a mined or pending transaction."""
        (tx_hash,) = p.positional(params, 1, 1, "eth_getRawTransactionByHash")
        h = p.hash32(tx_hash, "transaction hash")
        with self.node.lock:
            stored = self.node.storage.tx(h)
            if stored is not None:
                return fmt.hb(stored.raw)
            pending = self.node.pool.by_hash.get(h)
            return None if pending is None else fmt.hb(pending.raw)

    def _raw_at(self, number: int | None, index: int) -> str | None:
        tx_hash = self._hash_at(number, index)
        stored = None if tx_hash is None else self.node.storage.tx(tx_hash)
        return None if stored is None else fmt.hb(stored.raw)

    @rpc("eth_getRawTransactionByBlockNumberAndIndex")
    def raw_tx_by_number_and_index(self, params: Any) -> str | None:
        """Signed bytes of a transaction by block number and position."""
        block, index = p.positional(params, 2, 2, "eth_getRawTransactionByBlockNumberAndIndex")
        with self.node.lock:
            try:
                number = self._number(p.block_ref(block))
            except ResourceNotFound:
                return None
            return self._raw_at(number, p.quantity(index, "index"))

    @rpc("eth_getRawTransactionByBlockHashAndIndex")
    def raw_tx_by_hash_and_index(self, params: Any) -> str | None:
        """Signed bytes of a transaction by block hash and position."""
        block_hash, index = p.positional(params, 2, 2, "eth_getRawTransactionByBlockHashAndIndex")
        with self.node.lock:
            number = self.node.storage.block_number_by_hash(p.hash32(block_hash, "block hash"))
            return self._raw_at(number, p.quantity(index, "index"))

    def _receipt(self, tx_hash: bytes) -> dict[str, Any] | None:
        stored = self.node.storage.tx(tx_hash)
        if stored is None:
            return None
        found = self.node.storage.block_by_number(stored.block)
        assert found is not None
        tx = Builder.decode(stored.raw)
        out = fmt.receipt_json(stored.receipt, tx_hash, stored.sender, tx.to or None, stored.contract, found[1],
                               stored.block, stored.index, stored.gas_used, stored.gas_price, stored.first_log)
        if (tx.type_id or 0) == BLOB:
            out["blobGasUsed"] = fmt.hx(GAS_PER_BLOB * len(tx.blob_versioned_hashes))
            out["blobGasPrice"] = fmt.hx(blob_base_fee(found[0].excess_blob_gas, self.node.config.hardfork))
        return out

    @rpc("eth_getTransactionReceipt")
    def get_transaction_receipt(self, params: Any) -> dict[str, Any] | None:
        """The receipt of a mined transaction, or null."""
        (tx_hash,) = p.positional(params, 1, 1, "eth_getTransactionReceipt")
        h = p.hash32(tx_hash, "transaction hash")
        with self.node.lock:
            found = self._receipt(h)
            if found is None and self._remote() is not None and h not in self.node.pool:
                return self._remote().receipt(h)  # type: ignore[no-any-return]
            return found

    @rpc("eth_getBlockReceipts")
    def get_block_receipts(self, params: Any) -> list[dict[str, Any]] | None:
        """Every receipt of a block."""
        (block,) = p.positional(params, 1, 1, "eth_getBlockReceipts")
        with self.node.lock:
            try:
                number = self._number(p.block_ref(block))
            except ResourceNotFound:
                return None
            found = self.node.storage.block_by_number(number)
            assert found is not None
            return [r for r in (self._receipt(h) for h in found[2]) if r is not None]

    # -- logs -----------------------------------------------------------------------------
    def logs(self, query: LogQuery) -> list[dict[str, Any]]:
        storage = self.node.storage
        if query.block_hash is not None:
            number = storage.block_number_by_hash(query.block_hash)
            if number is None and self._remote() is not None:
                remote = self._remote()
                return remote.remote.call("eth_getLogs", [  # type: ignore[no-any-return]
                    {**query.as_json(), "blockHash": "0x" + query.block_hash.hex()}]) or []
            if number is None:
                raise ResourceNotFound(f"block 0x{query.block_hash.hex()} not found")
            start = end = number
        else:
            start = self._number(query.from_block)
            end = self._number(query.to_block)
        if start > end:
            raise InvalidParams(f"invalid block range: fromBlock {start} is after toBlock {end}")
        if end - start > MAX_LOG_RANGE:
            raise InvalidParams(f"block range too large: at most {MAX_LOG_RANGE} blocks per query")
        topic0s = list(query.topics[0]) if query.topics and query.topics[0] else []
        out = []
        remote = self._remote()
        if remote is not None and start <= remote.point.number:  # the part at or before the fork block
            out.extend(remote.logs(query.as_json(), start, min(end, remote.point.number)))
            start = remote.point.number + 1
        for number in storage.log_blocks(start, end, list(query.addresses), topic0s):
            found = storage.block_by_number(number)
            assert found is not None
            _, block_hash, tx_hashes, _ = found
            for index, h in enumerate(tx_hashes):
                stored = storage.tx(h)
                assert stored is not None
                for i, entry in enumerate(stored.receipt.logs):
                    if query.matches(entry.address, entry.topics):
                        out.append(fmt.log_json(entry, block_hash, number, h, index, stored.first_log + i))
        return out

    @rpc("eth_getLogs")
    def get_logs(self, params: Any) -> list[dict[str, Any]]:
        """Logs matching a filter (address, topics, block range or hash)."""
        (flt,) = p.positional(params, 1, 1, "eth_getLogs")
        with self.node.lock:
            return self.logs(log_query(flt))

    # -- fees -------------------------------------------------------------------------------
    @rpc("eth_gasPrice")
    def gas_price(self, params: Any) -> str:
        """Suggested legacy gas price: next base fee plus a 1 gwei tip, like anvil."""
        p.positional(params, 0, 0, "eth_gasPrice")
        return fmt.hx(max(self.node.backend.pending_base_fee() + 10**9, self.node.backend.min_gas_price))

    @rpc("eth_maxPriorityFeePerGas")
    def max_priority_fee(self, params: Any) -> str:
        """Suggested tip (1 gwei)."""
        p.positional(params, 0, 0, "eth_maxPriorityFeePerGas")
        return fmt.hx(10**9)

    @rpc("eth_blobBaseFee")
    def blob_base_fee(self, params: Any) -> str:
        """The blob gas price the next block charges (EIP-4844; 1 while no blobs are in demand)."""
        p.positional(params, 0, 0, "eth_blobBaseFee")
        with self.node.lock:
            return fmt.hx(self.node.backend.pending_blob_base_fee())

    @rpc("eth_feeHistory")
    def fee_history(self, params: Any) -> dict[str, Any]:
        """Base fees, gas used ratios and reward percentiles of recent blocks."""
        count, newest, percentiles = p.positional(params, 2, 3, "eth_feeHistory")
        n = min(p.quantity(count, "blockCount"), 1024)
        if percentiles is not None and (not isinstance(percentiles, list) or any(
                not isinstance(x, (int, float)) or not 0 <= x <= 100 for x in percentiles)
                or percentiles != sorted(percentiles)):
            raise InvalidParams("invalid rewardPercentiles: expected increasing numbers between 0 and 100")
        with self.node.lock:
            last = self._number(p.block_ref(newest))
            first = max(0, last - n + 1)
            base_fees, ratios, rewards, blob_fees, blob_ratios = [], [], [], [], []
            fork = self.node.config.hardfork
            max_blob_gas = max_blobs_per_block(fork) * GAS_PER_BLOB
            for number in range(first, last + 1):
                header = self.node.backend.header(number)
                base_fees.append(fmt.hx(header.base_fee))
                ratios.append(header.gas_used / header.gas_limit if header.gas_limit else 0.0)
                blob_fees.append(fmt.hx(blob_base_fee(header.excess_blob_gas, fork)))
                blob_ratios.append(header.blob_gas_used / max_blob_gas if max_blob_gas else 0.0)
                if percentiles:
                    rewards.append(self._rewards(number, header.base_fee, percentiles))
            from ..blocks import next_base_fee

            newest_header = self.node.backend.header(last)
            base_fees.append(fmt.hx(next_base_fee(newest_header)))
            blob_fees.append(fmt.hx(blob_base_fee(next_excess_blob_gas(
                newest_header.excess_blob_gas, newest_header.blob_gas_used, newest_header.base_fee, fork), fork)))
            out: dict[str, Any] = {"oldestBlock": fmt.hx(first), "baseFeePerGas": base_fees, "gasUsedRatio": ratios,
                                   "baseFeePerBlobGas": blob_fees, "blobGasUsedRatio": blob_ratios}
            if percentiles:
                out["reward"] = rewards
            if n == 0:
                out = {"oldestBlock": fmt.hx(last + 1), "baseFeePerGas": [], "gasUsedRatio": [],
                       "baseFeePerBlobGas": [], "blobGasUsedRatio": []}
            return out

    def _rewards(self, number: int, base_fee: int, percentiles: list[float]) -> list[str]:
        found = self.node.storage.block_by_number(number)
        assert found is not None
        tips = []
        for h in found[2]:
            stored = self.node.storage.tx(h)
            assert stored is not None
            tips.append((stored.gas_price - base_fee, stored.gas_used))
        if not tips:
            return ["0x0" for _ in percentiles]
        tips.sort()
        total = sum(g for _, g in tips)
        out = []
        for pct in percentiles:
            threshold = total * pct / 100
            acc = 0
            for tip, gas in tips:
                acc += gas
                if acc >= threshold:
                    out.append(fmt.hx(max(tip, 0)))
                    break
            else:
                out.append(fmt.hx(max(tips[-1][0], 0)))
        return out

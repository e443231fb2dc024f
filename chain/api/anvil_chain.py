"""anvil_* methods that steer the chain itself: metadata, chain id, rollback and reorg, detailed mining, block
timestamp intervals, the pool, logging and impersonation by signature."""

from __future__ import annotations

import secrets
from typing import Any

from .. import __version__
from ..config import MiningMode
from ..errors import InvalidParams
from ..node import Node
from ..rpc import format as fmt
from ..rpc import params as p
from ..rpc.registry import rpc
from ..transactions import PendingTx, decode_raw, normal_signature
from .anvil import AnvilApi, mine_args
from .chain_data import ChainDataApi
from .misc import default_client_version
from .transact import TransactApi


class AnvilChainApi:
    def __init__(self, node: Node, data: ChainDataApi, transact: TransactApi, anvil: AnvilApi) -> None:
        self.node, self.data, self.transact, self.anvil = node, data, transact, anvil
        self.instance_id = "0x" + secrets.token_hex(32)

    @rpc("anvil_metadata", "hardhat_metadata")
    def metadata(self, params: Any) -> dict[str, Any]:
        """Client, chain, instance and head, and the live snapshots (id -> [block number, block hash])."""
        p.positional(params, 0, 0, "anvil_metadata")
        node = self.node
        with node.lock:
            backend = node.backend
            snapshots = {}
            for sid, snap in backend.snapshots.items():
                found = node.storage.block_by_number(snap.number)
                snapshots[fmt.hx(sid)] = [snap.number, fmt.hb(found[1]) if found else None]
            return {"clientVersion": node.config.client_version or default_client_version(),
                    "clientSemver": __version__, "chainId": backend.chain_id, "instanceId": self.instance_id,
                    "latestBlockNumber": backend.head.number, "latestBlockHash": fmt.hb(backend.head_hash),
                    "forkedNetwork": node.fork_metadata(), "snapshots": snapshots}

    @rpc("anvil_setChainId", "hardhat_setChainId")
    def set_chain_id(self, params: Any) -> None:
        """Change the chain id new transactions must carry (kept with --data-dir)."""
        (chain_id,) = p.positional(params, 1, 1, "anvil_setChainId")
        value = p.quantity(chain_id, "chain id", bits=64)
        if value == 0:
            raise InvalidParams("invalid chain id: must be positive")
        with self.node.lock:
            self.node.set_chain_id(value)
        return None

    @rpc("anvil_setLoggingEnabled", "hardhat_setLoggingEnabled")
    def set_logging(self, params: Any) -> None:
        """Turn the node's printing of console.log lines and reverts on or off."""
        (enabled,) = p.positional(params, 1, 1, "anvil_setLoggingEnabled")
        self.node.logging_enabled = p.boolean(enabled, "enabled")
        return None

    # -- the pool -----------------------------------------------------------------------------
    @rpc("anvil_removePoolTransactions")
    def remove_pool_transactions(self, params: Any) -> None:
        """Drop every pooled transaction from one sender."""
        (address,) = p.positional(params, 1, 1, "anvil_removePoolTransactions")
        sender = p.address(address, "address")
        with self.node.lock:
            for tx in [t for t in self.node.pool.by_hash.values() if t.sender == sender]:
                self.node.drop_transaction(tx.hash)
        return None

    # -- mining ----------------------------------------------------------------------------------
    @rpc("anvil_mine_detailed", "evm_mine_detailed")
    def mine_detailed(self, params: Any) -> list[dict[str, Any]]:
        """evm_mine that answers with the mined blocks, transactions included."""
        (arg,) = p.positional(params, 0, 1, "evm_mine_detailed")
        blocks, timestamp = mine_args(arg)
        if blocks > 1_000:
            raise InvalidParams("invalid blocks: at most 1000 per call when the blocks are returned")
        with self.node.lock:
            mined = self.node.mine(blocks, timestamp)
            return [self.data.block(result.header.number, full=True) for result in mined]  # type: ignore[misc]

    @rpc("anvil_setBlockTimestampInterval")
    def set_timestamp_interval(self, params: Any) -> None:
        """Each new block's timestamp is the previous one's plus this many seconds."""
        (seconds,) = p.positional(params, 1, 1, "anvil_setBlockTimestampInterval")
        with self.node.lock:
            self.node.backend.timestamp_interval = p.quantity(seconds, "interval", bits=32)
        return None

    @rpc("anvil_removeBlockTimestampInterval")
    def remove_timestamp_interval(self, params: Any) -> bool:
        """Back to the clock; whether an interval was set."""
        p.positional(params, 0, 0, "anvil_removeBlockTimestampInterval")
        with self.node.lock:
            had = self.node.backend.timestamp_interval is not None
            self.node.backend.timestamp_interval = None
            return had

    @rpc("anvil_getIntervalMining", "hardhat_getIntervalMining")
    def get_interval_mining(self, params: Any) -> float | int | None:
        """Seconds between interval-mined blocks, or null when not interval mining."""
        p.positional(params, 0, 0, "anvil_getIntervalMining")
        if self.node.mode is not MiningMode.INTERVAL or not self.node.block_time:
            return None
        seconds = self.node.block_time
        return int(seconds) if float(seconds).is_integer() else seconds

    @rpc("anvil_getGenesisTime")
    def genesis_time(self, params: Any) -> int:
        """The first block's timestamp."""
        p.positional(params, 0, 0, "anvil_getGenesisTime")
        with self.node.lock:
            return self.node.backend.genesis_header().timestamp

    # -- history -----------------------------------------------------------------------------------
    @rpc("anvil_rollback")
    def rollback(self, params: Any) -> None:
        """Remove the last `depth` blocks (default 1) and what they did; their transactions are gone."""
        (depth,) = p.positional(params, 0, 1, "anvil_rollback")
        blocks = 1 if depth is None else p.quantity(depth, "depth", bits=64)
        with self.node.lock:
            head, first = self.node.backend.head.number, self.node.backend.first_number
            if blocks > head - first:
                raise InvalidParams(f"invalid depth: {blocks} is more than the {head - first} blocks after the first")
            self.node.rollback(head - blocks)
        return None

    @rpc("anvil_reorg")
    def reorg(self, params: Any) -> None:
        """Replace the last `depth` blocks with as many new ones holding the given transactions:
        {depth, tx_block_pairs: [[transaction request or raw transaction, block offset], ...]}."""
        (options,) = p.positional(params, 1, 1, "anvil_reorg")
        if not isinstance(options, dict):
            raise InvalidParams("invalid reorg options: expected {depth, tx_block_pairs}")
        depth = p.quantity(options.get("depth"), "depth", bits=64)
        pairs = options.get("tx_block_pairs") or []
        if not isinstance(pairs, list):
            raise InvalidParams("invalid tx_block_pairs: expected a list of [transaction, block offset]")
        node = self.node
        with node.lock:
            head, first = node.backend.head.number, node.backend.first_number
            if depth == 0 or depth > head - first:
                raise InvalidParams(f"invalid depth: between 1 and {head - first}")
            parsed: list[tuple[Any, int]] = []
            for i, pair in enumerate(pairs):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise InvalidParams(f"invalid tx_block_pairs[{i}]: expected [transaction, block offset]")
                offset = p.quantity(pair[1], f"tx_block_pairs[{i}] block offset", bits=64)
                if offset >= depth:
                    raise InvalidParams(f"invalid tx_block_pairs[{i}]: block offset {offset} is not below {depth}")
                parsed.append((pair[0], offset))
            mode, block_time = node.mode, node.block_time
            node.rollback(head - depth)
            node.set_mode(MiningMode.MANUAL)
            try:
                for offset in range(depth):
                    for tx, at in parsed:
                        if at == offset:
                            node.submit(self._transaction(tx))
                    node.mine(1)
            finally:
                node.set_mode(mode, block_time)
        return None

    def _transaction(self, tx: Any) -> PendingTx:
        if isinstance(tx, str):
            return decode_raw(p.data(tx, "transaction"), self.node.backend.chain_id, require_blobs=True)
        return self.transact.filled(p.call_request(tx))

    # -- impersonation by signature --------------------------------------------------------------
    @rpc("anvil_getBlobByHash")
    def get_blob_by_hash(self, params: Any) -> str | None:
        """A blob by its versioned hash (from a blob transaction this node accepted), or null."""
        (versioned_hash,) = p.positional(params, 1, 1, "anvil_getBlobByHash")
        key = p.hash32(versioned_hash, "versioned hash")
        with self.node.lock:
            blob = self.node.storage.blob(key)
        return fmt.hb(blob) if blob is not None else None

    @rpc("anvil_getBlobsByTransactionHash")
    def get_blobs_by_transaction_hash(self, params: Any) -> list[str] | None:
        """The blobs a blob transaction carried, in order, or null."""
        (tx_hash,) = p.positional(params, 1, 1, "anvil_getBlobsByTransactionHash")
        key = p.hash32(tx_hash, "transaction hash")
        with self.node.lock:
            blobs = self.node.storage.blobs_of(key)
        return [fmt.hb(blob) for blob in blobs] if blobs is not None else None

    @rpc("anvil_impersonateSignature")
    def impersonate_signature(self, params: Any) -> None:
        """Treat raw transactions carrying this 65-byte signature (r, s, v) as sent by `address`."""
        signature, address = p.positional(params, 2, 2, "anvil_impersonateSignature")
        sig = p.data(signature, "signature")
        if len(sig) != 65:
            raise InvalidParams(f"invalid signature: 65 bytes (r, s, v), got {len(sig)}")
        addr = p.address(address, "address")
        with self.node.lock:
            self.node.signature_senders[normal_signature(sig)] = addr
        return None


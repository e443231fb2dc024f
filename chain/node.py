"""The node: backend, pool, mining mode, filters and subscribers, behind one lock.

`Node` is the library entry point: `Node(NodeConfig())` is a working chain in
process; `chain.server` puts it behind HTTP/WebSocket.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from eth_account import Account
from eth_keys import keys

from .backend import FORK_LEVEL, Backend, BlockResult, Deployer
from .blobs import GAS_PER_BLOB, check_blob_count
from .config import MiningMode, NodeConfig
from .console import format_call
from .sources import SourceRegistry
from .dirlock import DirLock
from .errors import ChainError, TransactionRejected
from .execution import Executor
from .filters import Filters
from .pool import Pool
from .rpc import format as fmt
from .state import Overlay
from .storage import Storage
from .transactions import BLOB, PendingTx, calldata_floor, check_type_for_fork, intrinsic_gas

log = logging.getLogger("bourse.node")
Account.enable_unaudited_hdwallet_features()


@dataclass(frozen=True)
class DevAccount:
    address: bytes
    key: keys.PrivateKey

    @property
    def checksum(self) -> str:
        from eth_utils import to_checksum_address

        return to_checksum_address(self.address)


def derive_accounts(mnemonic: str, count: int, path: str = "m/44'/60'/0'/0/") -> list[DevAccount]:
    from eth_account.hdaccount import key_from_seed, seed_from_mnemonic

    try:
        seed = seed_from_mnemonic(mnemonic, "")
    except Exception as exc:  # eth-account's ValidationError: an unknown word, a bad checksum, a wrong length
        raise ValueError(f"invalid mnemonic: {exc}") from None
    out = []
    for i in range(count):
        key = keys.PrivateKey(key_from_seed(seed, f"{path}{i}"))
        out.append(DevAccount(key.public_key.to_canonical_address(), key))
    return out


Listener = Callable[[str, Any], None]


class Node:
    """A local chain. Thread-safe: every public method takes the node lock."""

    def __init__(self, config: NodeConfig | None = None,
                 genesis_hook: Callable[[Overlay, "Node"], None] | None = None) -> None:
        self.config = config or NodeConfig()
        self.config.validate()
        self.lock = threading.RLock()
        self.accounts = derive_accounts(self.config.mnemonic, self.config.accounts, self.config.derivation_path)
        self.keys = {a.address: a.key for a in self.accounts}
        self.impersonated: set[bytes] = set()
        self.auto_impersonate = False
        self.signature_senders: dict[bytes, bytes] = {}  # (r, s, y-parity) -> sender (anvil_impersonateSignature)
        self.logging_enabled = True  # console.log lines and reverts printed to `output`
        path = None
        self._dir_lock: DirLock | None = None
        if self.config.data_dir is not None:
            Path(self.config.data_dir).mkdir(parents=True, exist_ok=True)
            self._dir_lock = DirLock(Path(self.config.data_dir))
            path = Path(self.config.data_dir) / "chain.sqlite3"
            self.resumed = path.exists()  # the banner says whether the chain was resumed
        else:
            self.resumed = False
        self.storage = Storage(path)
        self._genesis_hook = genesis_hook
        self.backend = Backend(self.config, self.storage, self._alloc)
        self.executor = Executor(self.backend)
        self.pool = Pool(self.config.order)
        self.filters = Filters()
        self.listeners: list[Listener] = []
        self.output: Callable[[str], None] | None = None  # where console.log lines go (the CLI prints them)
        self.sources = SourceRegistry()  # contracts whose source revert traces show
        if self.config.artifacts_dir is not None:
            self.sources.load_dir(self.config.artifacts_dir)
        self.mode = self.config.mining_mode
        self.block_time = self.config.block_time
        for tx in self.backend.pool_from_storage():
            self.pool.add(tx, self.backend.nonce(tx.sender, self.backend.head.number))

    def _alloc(self, overlay: Overlay, deploy: Deployer) -> None:
        for account in self.accounts:
            overlay.set_balance(account.address, self.config.balance_wei)
        for address, balance in self.config.extra_genesis.items():
            overlay.set_balance(address, balance)
        if self.config.predeploy and self.accounts and self.config.fork_url is None:  # a fork keeps the remote's
            from contracts.predeploy import PREDEPLOYS

            owner = self.accounts[0].address
            for item in PREDEPLOYS:
                deploy(owner, bytes.fromhex(item.address[2:]), item.initcode(owner))
        if self._genesis_hook is not None:
            self._genesis_hook(overlay, self)

    def close(self) -> None:
        self.stop_interval_miner()
        with self.lock:
            self.storage.close()
            if self._dir_lock is not None:
                self._dir_lock.release()

    # -- interval mining ----------------------------------------------------------
    def start_interval_miner(self) -> None:
        """Mine every `block_time` seconds while the mode is INTERVAL (a daemon thread)."""
        if getattr(self, "_miner_thread", None) is not None:
            return
        self._miner_stop = threading.Event()
        self._miner_thread = threading.Thread(target=self._interval_loop, name="bourse-miner", daemon=True)
        self._miner_thread.start()

    def stop_interval_miner(self) -> None:
        thread = getattr(self, "_miner_thread", None)
        if thread is not None:
            self._miner_stop.set()
            thread.join(timeout=5)
            self._miner_thread = None

    def _interval_loop(self) -> None:
        next_at = time.monotonic()
        while not self._miner_stop.is_set():
            if self.mode is not MiningMode.INTERVAL or not self.block_time:
                self._miner_stop.wait(0.05)
                next_at = time.monotonic()
                continue
            next_at += self.block_time
            if self._miner_stop.wait(max(0.0, next_at - time.monotonic())):
                return
            if self.mode is MiningMode.INTERVAL:
                try:
                    self.mine(1)
                except Exception:
                    log.exception("interval mining failed")

    # -- transactions -------------------------------------------------------------
    def submit(self, tx: PendingTx) -> bytes:
        """Validate and pool a transaction; with automine, mine it before returning."""
        with self.lock:
            backend = self.backend
            if tx.hash in self.pool or self.storage.has_tx(tx.hash):
                raise TransactionRejected("already known")
            head = backend.head.number
            state_nonce = backend.nonce(tx.sender, head)
            if tx.nonce < state_nonce:
                raise TransactionRejected(f"nonce too low: next nonce {state_nonce}, tx nonce {tx.nonce}")
            check_type_for_fork(tx.type_id, self.config.hardfork)
            limit = self.config.code_size_limit
            if not tx.tx.to and limit is not None and len(tx.tx.data) > 2 * limit:
                raise TransactionRejected(f"max initcode size exceeded: {len(tx.tx.data)} bytes, the limit is "
                                          f"{2 * limit} (EIP-3860; see --code-size-limit)")
            needed = intrinsic_gas(tx.tx)
            if tx.tx.gas < needed:
                raise TransactionRejected(f"intrinsic gas too low: gas {tx.tx.gas}, minimum needed {needed}")
            if backend.fork_level >= FORK_LEVEL["prague"]:
                floor = calldata_floor(tx.tx.data)
                if tx.tx.gas < floor:
                    raise TransactionRejected(
                        f"intrinsic gas too low: gas {tx.tx.gas}, minimum needed {floor} (EIP-7623 calldata floor)")
            if tx.tx.gas > backend.gas_limit:
                raise TransactionRejected(f"exceeds block gas limit: gas {tx.tx.gas}, limit {backend.gas_limit}")
            if backend.tx_gas_cap is not None and tx.tx.gas > backend.tx_gas_cap:
                raise TransactionRejected(
                    f"transaction gas limit too high (cap: {backend.tx_gas_cap}, tx: {tx.tx.gas}; EIP-7825)")
            if tx.tip() > tx.max_fee():
                raise TransactionRejected("max priority fee per gas higher than max fee per gas")
            base_fee = backend.pending_base_fee()
            if tx.max_fee() < base_fee and self.mode is MiningMode.AUTO:
                raise TransactionRejected(
                    f"max fee per gas less than block base fee: maxFeePerGas {tx.max_fee()}, baseFee {base_fee}")
            if tx.max_fee() < backend.min_gas_price:
                raise TransactionRejected(f"transaction underpriced: minimum gas price is {backend.min_gas_price}")
            cost = tx.tx.gas * tx.max_fee() + tx.tx.value
            if tx.type_id == BLOB:
                hashes = tx.tx.blob_versioned_hashes
                check_blob_count(len(hashes), self.config.hardfork)
                blob_fee = backend.pending_blob_base_fee()
                if tx.tx.max_fee_per_blob_gas < blob_fee and self.mode is MiningMode.AUTO:
                    raise TransactionRejected(f"max fee per blob gas less than block blob gas fee: "
                                              f"maxFeePerBlobGas {tx.tx.max_fee_per_blob_gas}, blobBaseFee {blob_fee}")
                cost += GAS_PER_BLOB * len(hashes) * tx.tx.max_fee_per_blob_gas
            balance = backend.balance(tx.sender, head)
            if balance < cost:
                raise TransactionRejected(
                    f"insufficient funds for gas * price + value: address {fmt.addr(tx.sender)} have {balance} want {cost}")
            ready = self.pool.add(tx, state_nonce)
            if tx.sidecar is not None:  # kept before the hash is returned, as the transaction is
                try:
                    self.storage.put_blobs(tx.hash, tx.tx.blob_versioned_hashes, tx.sidecar.blobs)
                except BaseException:
                    self.pool.remove(tx.hash)
                    raise
            if self.mode is not MiningMode.AUTO or not ready:
                self.storage.add_pool_tx(tx.hash, tx.sender, tx.raw, tx.impersonated)
            self._emit("pending", tx)
            if self.mode is MiningMode.AUTO and ready:
                self._automine()
            return tx.hash

    def _automine(self) -> None:
        while True:
            tx = self.pool.first_ready(self.backend.pending_base_fee())
            if tx is None:
                return
            self._mine([tx])

    def mine(self, blocks: int = 1, timestamp: int | None = None, interval: int = 0) -> list[BlockResult]:
        """Mine `blocks` blocks with what is ready (anvil_mine / evm_mine)."""
        with self.lock:
            results = []
            for i in range(blocks):
                ts = None
                if timestamp is not None:
                    ts = timestamp + i * interval
                elif interval and i:
                    ts = self.backend.head.timestamp + interval
                results.append(self._mine(self.pool.ready(self.backend.pending_base_fee()), ts))
            return results

    def _mine(self, txs: list[PendingTx], timestamp: int | None = None) -> BlockResult:
        result = self.backend.mine_block(txs, timestamp)
        touched = {t.sender for t in txs}
        for mined in result.included:
            self.pool.remove(mined.hash)
        for dropped, reason in result.dropped:
            log.info("dropped transaction 0x%s: %s", dropped.hash.hex(), reason)
            self.pool.remove(dropped.hash)
        if result.dropped:
            self.storage.remove_pool_txs(d.hash for d, _ in result.dropped)
        head = result.header.number
        for sender in touched:
            stale = self.pool.resync(sender, self.backend.nonce(sender, head))
            if stale:
                self.storage.remove_pool_txs(t.hash for t in stale)
        self._emit("block", result)
        return result

    def drop_transaction(self, tx_hash: bytes) -> bool:
        with self.lock:
            tx = self.pool.remove(tx_hash)
            if tx is None:
                return False
            self.storage.remove_pool_txs([tx_hash])
            self.pool.resync(tx.sender, self.backend.nonce(tx.sender, self.backend.head.number))
            return True

    # -- dev controls ---------------------------------------------------------------
    def set_mode(self, mode: MiningMode, block_time: float | None = None) -> None:
        with self.lock:
            self.mode = mode
            self.block_time = block_time
            self._emit("mode", mode)
            if mode is MiningMode.AUTO:
                self._automine()

    def edit(self, change: Callable[[Overlay], None], resync: bytes | None = None) -> None:
        with self.lock:
            self.backend.edit(change)
            if resync is not None:
                stale = self.pool.resync(resync, self.backend.nonce(resync, self.backend.head.number))
                self.storage.remove_pool_txs(t.hash for t in stale)

    def snapshot(self) -> int:
        with self.lock:
            return self.backend.snapshot()

    def revert(self, snapshot_id: int) -> bool:
        with self.lock:
            ok = self.backend.revert(snapshot_id)
            if ok:
                self.pool.clear()
            return ok

    def load_state(self, loaded: Any) -> None:
        """Take in a state file (chain.state_file.LoadedState): on a chain still at its first block with no
        transactions, start again from the file's block; otherwise write its accounts over the head state."""
        with self.lock:
            backend = self.backend
            fresh = backend.head.number == backend.first_number and not self.storage.block_by_number(
                backend.head.number)[2] and not len(self.pool)
            if fresh and loaded.block_number is not None:
                self.config.initial_state = loaded
                self.reset()
            else:
                self.edit(loaded.apply)

    def rollback(self, number: int) -> None:
        """Drop the blocks after `number` (anvil_rollback); pooled transactions go with them."""
        with self.lock:
            self.backend.rollback(number)
            self.pool.clear()

    def set_chain_id(self, chain_id: int) -> None:
        with self.lock:
            self.backend.chain_id = self.config.chain_id = chain_id
            self.storage.set_meta("chain_id", chain_id.to_bytes(8, "big"))

    def fork_metadata(self) -> dict[str, Any] | None:
        """What anvil_metadata says of the forked network (None: not a fork)."""
        fork = self.backend.fork
        if fork is None:
            return None
        return {"chainId": fork.chain_id, "forkUrl": fork.url, "forkBlockNumber": fork.number,
                "forkBlockHash": fmt.hb(fork.hash)}

    def reset_fork(self, url: str | None, block_number: int | None) -> None:
        """anvil_reset: start again, forking `url` at `block_number` (latest when None), or not forking."""
        if url is not None:  # the remote must answer before this chain is thrown away
            from .fork import Remote, open_fork
            open_fork(Remote(url, self.config.fork_timeout), block_number)
        with self.lock:
            self.config.fork_url, self.config.fork_block_number = url, block_number
            self.reset()

    def reset(self) -> None:
        """Back to a fresh genesis (anvil_reset without forking)."""
        with self.lock:
            path = self.storage.path
            self.storage.close()
            if path is not None:
                for suffix in ("", "-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
            self.storage = Storage(path)
            self.backend = Backend(self.config, self.storage, self._alloc)
            self.executor = Executor(self.backend)
            self.pool.clear()
            self.filters.clear()
            self.impersonated.clear()
            self.signature_senders.clear()

    # -- events ---------------------------------------------------------------------
    def _emit(self, kind: str, payload: Any) -> None:
        if kind == "block":
            self._feed_filters(payload)
            for tx_hash, calls in payload.console:
                self.say_console(f"transaction {fmt.hb(tx_hash)}", calls)
            if self.output is not None and self.logging_enabled:
                for mined in payload.included:
                    if mined.receipt.status == 0:
                        self._say_revert(mined.hash)
        elif kind == "pending":
            self.filters.on_pending(fmt.hb(payload.hash))
        for listener in list(self.listeners):
            try:
                listener(kind, payload)
            except Exception:  # a broken subscriber must not stop the chain
                log.exception("listener failed")

    def say_console(self, where: str, calls: list[bytes]) -> None:
        """Print a transaction's or call's console.log lines (as anvil and hardhat print them)."""
        if self.output is None or not calls or not self.logging_enabled:
            return
        lines = [line for line in (format_call(data) for data in calls) if line is not None]
        if lines:
            self.output("\n".join([f"console.log ({where}):", *(f"  {line}" for line in lines)]))

    def revert_frames(self, run: Callable[[Any], Any]) -> list[str]:
        """The source frames of a revert: `run(tracer)` executes it again with a RevertTracer attached."""
        from .tracing.revert_trace import RevertTracer
        if not len(self.sources):
            return []
        tracer = RevertTracer()
        try:
            run(tracer)
        except ChainError:
            return []
        return tracer.stack(self.sources)

    def _say_revert(self, tx_hash: bytes) -> None:
        from .execution import revert_reason
        from .tracing.replay import replay_transaction
        outcome: list[Any] = []
        frames = self.revert_frames(lambda tracer: outcome.append(replay_transaction(self, tx_hash, tracer)))
        if not outcome:
            return
        output = bytes(outcome[0].computation.output)
        reason = revert_reason(output) if outcome[0].computation.is_error else None
        text = f"transaction {fmt.hb(tx_hash)} reverted" + (f": {reason}" if reason else "")
        self.output("\n".join([text, *(f"    at {frame}" for frame in frames)]))  # type: ignore[misc]

    def _feed_filters(self, result: BlockResult) -> None:
        self.filters.on_block(fmt.hb(result.hash), self.block_logs(result))

    def block_logs(self, result: BlockResult) -> list[tuple[bytes, tuple[bytes, ...], dict[str, Any]]]:
        out = []
        log_index = 0
        for i, mined in enumerate(result.included):
            for entry in mined.receipt.logs:
                out.append((entry.address, entry.topics,
                            fmt.log_json(entry, result.hash, result.header.number, mined.hash, i, log_index)))
                log_index += 1
        return out

    def add_account(self, private_key: bytes) -> bytes:
        """Let the node sign for another key (like hardhat's `accounts` config); returns its address."""
        key = keys.PrivateKey(private_key)
        address = key.public_key.to_canonical_address()
        with self.lock:
            self.keys[address] = key
        return address

    def is_impersonated(self, address: bytes) -> bool:
        return self.auto_impersonate or address in self.impersonated

"""The block builder and state access: the one place that runs py-evm.

Design (see the node issue's measured traps): transactions execute on an
`Overlay` over the flat live state, never through py-evm's MiningChain (which
re-executes the pending block on every add) nor its trie-backed AccountDB
(which re-reads and re-validates nodes through a database on every write).
A block is: one overlay, N transactions, one `LiveState.apply` that updates
only the touched trie paths, one SQLite transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from collections import deque
from itertools import islice
from dataclasses import dataclass, field
from typing import Any, Callable

from eth._utils.address import generate_contract_address
from eth.constants import CREATE_CONTRACT_ADDRESS
from eth.vm.message import Message
from eth.vm.execution_context import ExecutionContext
from eth.vm.forks.cancun import CancunVM
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.shanghai import ShanghaiVM
from eth_utils import ValidationError

from .blobs import GAS_PER_BLOB, blob_base_fee, max_blobs_per_block, next_excess_blob_gas
from .blocks import ZERO_ADDRESS, ZERO_HASH, Header, Log, Receipt, logs_bloom, merged_bloom, next_base_fee
from .config import NodeConfig
from .errors import ChainError, ResourceNotFound
from .evm import fast_computation_class, quiet_executor_class
from .fork import ForkPoint, LazyHashes, Remote, RemoteBlocks, RemoteReader, RemoteState, open_fork
from .osaka import MAX_BLOCK_RLP_SIZE, TX_GAS_LIMIT_CAP, OsakaVM
from .hashing import keccak
from .state import EMPTY_CODE_HASH, HistoricReader, LiveState, Overlay, StateDiff, StateReader
from .storage import MinedTx, Storage
from .transactions import BLOB, PendingTx, restore_impersonated
from .trie import BLANK_ROOT, ordered_trie_root

Deployer = Callable[[bytes, bytes, bytes], None]  # (sender, address, initcode)
VMS = {"shanghai": ShanghaiVM, "cancun": CancunVM, "prague": PragueVM, "osaka": OsakaVM}
FORK_LEVEL = {"shanghai": 0, "cancun": 1, "prague": 2, "osaka": 3}


def _state_class(vm: Any) -> Any:
    base = vm.get_state_class()

    class OverlayState(base):  # type: ignore[misc, valid-type]
        """py-evm's fork state, built on an Overlay instead of a trie database."""

        computation_class = fast_computation_class(base.computation_class)
        transaction_executor_class = quiet_executor_class(base.transaction_executor_class)

        def __init__(self, account_db: Overlay, execution_context: ExecutionContext,
                     opcode_base_fee: int | None = None) -> None:
            self._db = None
            self.execution_context = execution_context
            self._account_db = account_db
            self._opcode_base_fee = opcode_base_fee

        @property
        def base_fee(self) -> int:
            """What BASEFEE reads: the block's base fee, even for a call priced at zero (as anvil runs calls)."""
            if self._opcode_base_fee is not None:
                return self._opcode_base_fee
            return self.execution_context.base_fee_per_gas

        def set_system_contracts(self) -> None:  # no beacon-roots/history predeploys on a dev chain
            pass

    return OverlayState


def _recipient(raw: bytes) -> bytes | None:
    from .transactions import Builder
    return Builder.decode(raw).to or None


@dataclass(frozen=True, slots=True)
class Snapshot:
    seq: int
    number: int
    time_offset: int


@dataclass
class BlockResult:
    header: Header
    hash: bytes
    included: list[MinedTx]
    dropped: list[tuple[PendingTx, str]]
    deferred: list[PendingTx]
    console: list[tuple[bytes, list[bytes]]] = field(default_factory=list)  # (tx hash, console.log calldata)


class Backend:
    """Chain state, blocks and execution. Not thread-safe: the node serialises calls."""

    def __init__(self, config: NodeConfig, storage: Storage, alloc: Callable[[Overlay, "Deployer"], None]) -> None:
        self.config = config
        self.storage = storage
        self.vm = VMS[config.hardfork]
        self.fork_level = FORK_LEVEL[config.hardfork]
        # EIP-7825's per-transaction gas cap: off unless asked for, as anvil (tools send the block gas limit)
        self.tx_gas_cap = TX_GAS_LIMIT_CAP if config.enable_tx_gas_limit and self.fork_level >= FORK_LEVEL["osaka"] \
            else None
        self.state_class = _state_class(self.vm)
        self.state_class.computation_class.code_size_limit = config.code_size_limit
        self.chain_id = config.chain_id
        self.gas_limit = config.gas_limit
        self.coinbase = ZERO_ADDRESS
        self._last_context: tuple[Any, Any] = (None, None)  # state_for's: (what it was built from, the context)
        self.time_offset = 0
        self.next_timestamp: int | None = None
        self.next_base_fee: int | None = None
        self.timestamp_interval: int | None = None  # anvil_setBlockTimestampInterval: each block this much later
        self.min_gas_price = 0
        self.snapshots: dict[int, Snapshot] = {}
        self._snapshot_ids = 0
        self._alloc = alloc
        self.fork: ForkPoint | None = None  # the remote block this chain starts from (--fork-url)
        self.fork_blocks: RemoteBlocks | None = None
        self._remote: Remote | None = None
        resumed = storage.head_number() is not None
        if config.fork_url is not None:
            self._open_fork(resumed)
        if not resumed:
            self._make_genesis()
        else:
            self._load()
        self.first_number = self.storage.first_number()  # 0, or the block a loaded state or a fork starts at

    def _open_fork(self, resumed: bool) -> None:
        """Connect to the forked node: the fork block from the remote (or, resuming, from the store)."""
        remote = self._remote = Remote(self.config.fork_url, self.config.fork_timeout)  # type: ignore[arg-type]
        stored = self.storage.get_meta("fork")
        if resumed:
            if stored is None:
                raise ChainError("the data dir holds a chain that is not a fork; use another --data-dir")
            point = ForkPoint.from_meta(stored)
            if point.url != remote.url:
                remote = self._remote = Remote(point.url, self.config.fork_timeout)
        else:
            point = open_fork(remote, self.config.fork_block_number)
            if self.config.fork_chain_id is not None:
                point = ForkPoint(**{**point.__dict__, "chain_id": self.config.fork_chain_id})
        self.fork = point
        self.fork_blocks = RemoteBlocks(remote, point)
        self.chain_id = self.config.chain_id = point.chain_id
        self.gas_limit = point.gas_limit

    def _attach_remote(self, live: LiveState) -> None:
        if self.fork is not None and self._remote is not None:
            live.remote = RemoteState(self._remote, self.fork.number, self.storage.fork_seen(),
                                      self.storage.remember_fork)

    # -- start-up --------------------------------------------------------------
    def _make_genesis(self) -> None:
        self.storage.set_meta("chain_id", self.chain_id.to_bytes(8, "big"))
        self.storage.set_meta("hardfork", self.config.hardfork.encode())
        self.live = LiveState()
        self._attach_remote(self.live)
        if self.fork is not None:
            self.storage.set_meta("fork", self.fork.to_meta())
        overlay = Overlay(self.live)
        start = self.config.initial_state  # a loaded state file: the chain starts at its block, with its accounts
        timestamp = (start.timestamp if start is not None and start.timestamp else None) or \
            self.config.genesis_timestamp or int(time.time())
        self._alloc(overlay, self._genesis_deployer(overlay, timestamp))
        if start is not None:
            start.apply(overlay)
        diff = overlay.diff()
        self.live.apply(diff)
        base_fee = start.base_fee if start is not None and start.base_fee is not None else self.config.base_fee
        number, parent = (start.block_number or 0 if start is not None else 0), ZERO_HASH
        fork = self.fork
        if fork is not None:  # the first block stands for the remote's fork block, under its hash
            number, parent, timestamp, base_fee = fork.number, fork.parent_hash, fork.timestamp, fork.base_fee
        header = Header(
            parent_hash=parent, coinbase=ZERO_ADDRESS, state_root=self.live.state_root(),
            transactions_root=BLANK_ROOT, receipts_root=BLANK_ROOT, bloom=b"\x00" * 256, number=number,
            gas_limit=self.gas_limit, gas_used=0, timestamp=timestamp, base_fee=base_fee, fork_level=self.fork_level,
        )
        block_hash = fork.hash if fork is not None else header.hash
        self.seq = 1
        self.storage.commit_block(header, block_hash, [], diff, StateDiff(), self.seq)
        self._set_head(header, block_hash)
        self.recent_hashes: deque[bytes] = deque([block_hash], maxlen=256)

    def _genesis_deployer(self, overlay: Overlay, timestamp: int) -> "Deployer":
        """Run constructors at chosen addresses inside the genesis state (predeploys)."""
        state = self.state_class(overlay, self._context(0, timestamp, 0, (), self.gas_limit))

        def deploy(sender: bytes, address: bytes, initcode: bytes) -> None:
            message = Message(gas=self.gas_limit, to=CREATE_CONTRACT_ADDRESS, sender=sender, value=0, data=b"",
                              code=initcode, create_address=address)
            context = state.get_transaction_context_class()(gas_price=0, origin=sender)
            state.lock_changes()
            computation = state.computation_class.apply_create_message(state, message, context)
            if computation.is_error:
                raise ChainError(f"predeploy at 0x{address.hex()} failed: {computation.error!r}")

        return deploy

    def _load(self) -> None:
        stored = self.storage.get_meta("chain_id")
        if stored is not None and int.from_bytes(stored, "big") != self.chain_id:
            raise ChainError(
                f"data dir holds chain {int.from_bytes(stored, 'big')}, not {self.chain_id}; "
                "pass the same --chain-id or use another --data-dir")
        fork = self.storage.get_meta("hardfork")
        if fork is not None and fork.decode() != self.config.hardfork:
            raise ChainError(f"data dir holds a {fork.decode()} chain; pass --hardfork {fork.decode()}")
        self.live = self.storage.load_state()
        self._attach_remote(self.live)
        self.storage.index_addresses(_recipient)  # a data dir from before the address index
        self.seq = self.storage.seq()
        number = self.storage.head_number()
        assert number is not None
        self._reload_head(number)

    def _reload_head(self, number: int) -> None:
        found = self.storage.block_by_number(number)
        assert found is not None
        header, block_hash, _, _ = found
        self._set_head(header, block_hash)
        hashes = []
        for n in range(number, max(self.storage.first_number() - 1, number - 256), -1):
            if n == number:
                hashes.append(block_hash)
            else:
                older = self.storage.block_by_number(n)
                assert older is not None
                hashes.append(older[1])
        self.recent_hashes = deque(hashes, maxlen=256)

    def _set_head(self, header: Header, block_hash: bytes) -> None:
        self.head = header
        self.head_hash = block_hash

    def pool_from_storage(self) -> list[PendingTx]:
        """Transactions accepted but not yet mined when the node last stopped."""
        from .transactions import decode_raw

        out = []
        for _tx_hash, sender, raw, is_impersonated in self.storage.pool_txs():
            out.append(restore_impersonated(raw, sender) if is_impersonated else decode_raw(raw, self.chain_id))
        return out

    # -- contexts ----------------------------------------------------------------
    def pending_base_fee(self) -> int:
        return self.next_base_fee if self.next_base_fee is not None else next_base_fee(self.head)

    def pending_excess_blob_gas(self) -> int:
        head = self.head
        return next_excess_blob_gas(head.excess_blob_gas, head.blob_gas_used, head.base_fee, self.config.hardfork)

    def pending_blob_base_fee(self) -> int:
        return blob_base_fee(self.pending_excess_blob_gas(), self.config.hardfork)

    def _context(self, number: int, timestamp: int, base_fee: int, prev_hashes: Any, gas_limit: int,
                 excess_blob_gas: int = 0) -> Any:
        return ExecutionContext(
            coinbase=self.coinbase, timestamp=timestamp, block_number=number, difficulty=0,
            mix_hash=keccak(number.to_bytes(32, "big")), gas_limit=gas_limit, prev_hashes=prev_hashes,
            chain_id=self.chain_id, base_fee_per_gas=base_fee, excess_blob_gas=excess_blob_gas,
        )

    def now(self) -> int:
        return int(time.time()) + self.time_offset

    def peek_timestamp(self) -> int:
        """The timestamp the next block would get (without taking it): the clock, but always after the head's, as
        consensus requires and hardhat's network does (two blocks mined in one second get consecutive seconds;
        timepoint lookups such as ERC-5805's rely on it)."""
        if self.next_timestamp is not None:
            return self.next_timestamp
        if self.timestamp_interval is not None:
            return self.head.timestamp + self.timestamp_interval
        return max(self.now(), self.head.timestamp + 1)

    def pending_header(self) -> Header:
        """The block that would be mined next, as far as execution sees it: number, timestamp (an
        evm_setNextBlockTimestamp / evm_increaseTime included), base fee and gas limit."""
        head = self.head
        return Header(parent_hash=self.head_hash, coinbase=self.coinbase, state_root=head.state_root,
                      transactions_root=BLANK_ROOT, receipts_root=BLANK_ROOT, bloom=b"\x00" * 256,
                      number=head.number + 1, gas_limit=self.gas_limit, gas_used=0,
                      timestamp=self.peek_timestamp(), base_fee=self.pending_base_fee(), fork_level=self.fork_level,
                      excess_blob_gas=self.pending_excess_blob_gas())

    def _take_timestamp(self, explicit: int | None) -> int:
        if explicit is not None:
            ts = explicit
        elif self.next_timestamp is not None:
            ts = self.next_timestamp
        elif self.timestamp_interval is not None:
            ts = self.head.timestamp + self.timestamp_interval
        else:
            ts = max(self.now(), self.head.timestamp + 1)
        if self.next_timestamp is not None and explicit is None:
            # later blocks continue from the forced time, as anvil does
            self.time_offset = ts - int(time.time())
            self.next_timestamp = None
        elif explicit is None and ts > self.now():
            # pushed past the clock (blocks within one second): the clock follows the chain, so evm_increaseTime(n)
            # still moves the next block n seconds past this one
            self.time_offset = ts - int(time.time())
        return ts

    def state_for(self, overlay: Overlay, header: Header, base_fee: int | None = None) -> Any:
        """A py-evm state over `overlay` in the context of the block after `header`'s parent. `base_fee` prices the
        transaction (0 lets a call without fees run); BASEFEE still reads the header's. The context (which copies
        the recent block hashes) is built once for a run of calls in the same block on the same chain."""
        fee = header.base_fee if base_fee is None else base_fee
        key = (header.number, header.timestamp, fee, header.gas_limit, header.excess_blob_gas, self.head_hash,
               self.coinbase, self.chain_id)
        known_key, context = self._last_context
        if key != known_key:
            context = self._context(header.number, header.timestamp, fee, self.prev_hashes(header.number),
                                    header.gas_limit, header.excess_blob_gas)
            self._last_context = (key, context)
        return self.state_class(overlay, context, header.base_fee)

    # -- mining --------------------------------------------------------------------
    def mine_block(self, txs: list[PendingTx], timestamp: int | None = None) -> BlockResult:
        parent = self.head
        number = parent.number + 1
        base_fee = self.pending_base_fee()
        ts = self._take_timestamp(timestamp)
        excess_blob_gas = self.pending_excess_blob_gas()
        blob_fee = blob_base_fee(excess_blob_gas, self.config.hardfork)
        max_blob_gas = max_blobs_per_block(self.config.hardfork) * GAS_PER_BLOB
        blob_gas_used = 0
        context = self._context(number, ts, base_fee, self.prev_hashes(number), self.gas_limit, excess_blob_gas)
        overlay = Overlay(self.live)
        state = self.state_class(overlay, context)
        included: list[MinedTx] = []
        dropped: list[tuple[PendingTx, str]] = []
        deferred: list[PendingTx] = []
        receipts: list[bytes] = []
        raws: list[bytes] = []
        gas_used = 0
        console: list[tuple[bytes, list[bytes]]] = []
        computations = state.computation_class
        size_bound = MAX_BLOCK_RLP_SIZE - 1024 if self.fork_level >= FORK_LEVEL["osaka"] else 0  # header room
        block_bytes = 0
        for pending in txs:
            tx = pending.tx
            if gas_used + tx.gas > self.gas_limit or pending.max_fee() < base_fee:
                deferred.append(pending)
                continue
            if size_bound and block_bytes + len(pending.raw) > size_bound:  # EIP-7934: the rest waits
                deferred.append(pending)
                continue
            blob_gas = GAS_PER_BLOB * len(tx.blob_versioned_hashes) if pending.type_id == BLOB else 0
            if blob_gas and (blob_gas_used + blob_gas > max_blob_gas or tx.max_fee_per_blob_gas < blob_fee):
                deferred.append(pending)  # the block's blobs are full, or it pays less than their price
                continue
            block_bytes += len(pending.raw)
            state.lock_changes()
            checkpoint = overlay.record()
            sink: list[bytes] = []
            computations.console_sink = sink
            try:
                computation = state.apply_transaction(tx)
            except ValidationError as exc:
                overlay.discard(checkpoint)
                dropped.append((pending, str(exc)))
                continue
            finally:
                computations.console_sink = None
            if sink:
                console.append((pending.hash, sink))
            overlay.commit(checkpoint)
            blob_gas_used += blob_gas
            tx_gas = self.vm.finalize_gas_used(tx, computation)
            gas_used += tx_gas
            logs = tuple(
                Log(address, tuple(t.to_bytes(32, "big") for t in topics), data)
                for address, topics, data in computation.get_log_entries()
            )
            receipt = Receipt(pending.type_id, 0 if computation.is_error else 1, gas_used, logs, logs_bloom(logs))
            contract = generate_contract_address(pending.sender, tx.nonce) if not tx.to else None
            included.append(MinedTx(pending.hash, pending.raw, pending.sender, receipt, tx_gas,
                                    pending.effective_gas_price(base_fee), contract, tx.to or None))
            receipts.append(receipt.encode())
            raws.append(pending.raw)
        diff = overlay.diff()
        undo = self.live.apply(diff)
        header = Header(
            parent_hash=self.head_hash, coinbase=self.coinbase, state_root=self.live.state_root(),
            transactions_root=ordered_trie_root(raws), receipts_root=ordered_trie_root(receipts),
            bloom=merged_bloom(m.receipt.bloom for m in included), number=number, gas_limit=self.gas_limit,
            gas_used=gas_used, timestamp=ts,
            base_fee=base_fee, mix_hash=keccak(number.to_bytes(32, "big")), fork_level=self.fork_level,
            blob_gas_used=blob_gas_used, excess_blob_gas=excess_blob_gas,
        )
        block_hash = header.hash
        try:
            self.storage.commit_block(header, block_hash, included, diff, undo, self.seq + 1)
        except BaseException:
            self.live.apply(undo)
            raise
        self.seq += 1
        self.next_base_fee = None
        self._set_head(header, block_hash)
        self.recent_hashes.appendleft(block_hash)
        return BlockResult(header, block_hash, included, dropped, deferred, console)

    # -- state access ----------------------------------------------------------------
    def resolve_block(self, tag: str | int) -> int:
        """Block number for a tag or number; 'pending' reads as 'latest'."""
        if tag in ("latest", "pending"):
            return self.head.number
        if tag in ("safe", "finalized"):  # one and two epochs behind, as anvil answers (--slots-in-an-epoch)
            behind = self.config.slots_in_an_epoch * (1 if tag == "safe" else 2)
            return max(self.first_number, self.head.number - behind)
        if tag == "earliest":
            return 0 if self.fork is not None else self.first_number
        assert isinstance(tag, int)
        if tag > self.head.number or tag < 0:
            raise ResourceNotFound(f"block {tag} not found (head is {self.head.number})")
        if tag < self.first_number and self.fork is None:
            raise ResourceNotFound(f"block {tag} not found (the chain starts at block {self.first_number})")
        return tag

    def resolve_hash(self, block_hash: bytes) -> int:
        number = self.storage.block_number_by_hash(block_hash)
        if number is None:
            raise ResourceNotFound(f"block 0x{block_hash.hex()} not found")
        return number

    @contextmanager
    def rewound(self, number: int) -> Iterator[LiveState]:
        """The head state taken back to how it was after block `number`, tries included, for as long as the
        block lasts (proofs at older blocks); put back as it was afterwards. The caller holds the node lock."""
        if number >= self.head.number:
            yield self.live
            return
        seq = self.storage.block_seq(number)
        assert seq is not None
        undo = self.live.apply(self.storage.restore_diff(seq))
        try:
            yield self.live
        finally:
            self.live.apply(undo)

    def reader(self, number: int) -> StateReader:
        if number >= self.head.number:
            return self.live
        if number < self.first_number and self._remote is not None:
            return RemoteReader(self._remote, number)
        seq = self.storage.block_seq(number)
        assert seq is not None
        return HistoricReader(self.live, seq, self.storage)

    def prev_hashes(self, number: int) -> Any:
        """What BLOCKHASH reads in block `number`: the hashes of the 256 blocks before it, newest first - the recent
        ones kept in memory (from the head's: a block at or below the head skips its own and those after it), then
        older ones as they are asked for (stored, or on a fork the remote's)."""
        skip = self.head.number + 1 - number
        recent = list(islice(self.recent_hashes, max(skip, 0), None))
        if self.fork_blocks is None and len(recent) >= min(256, number - self.first_number):
            return tuple(recent)
        return LazyHashes(recent, number, self)

    def hash_of(self, number: int) -> bytes:
        """Block `number`'s hash: stored, or on a fork the remote's before it (zero where neither knows it)."""
        if number < self.first_number:
            return self.fork_blocks.hash_of(number) if self.fork_blocks is not None else b"\x00" * 32
        found = self.storage.block_by_number(number)
        return found[1] if found is not None else b"\x00" * 32


    def genesis_header(self) -> Header:
        found = self.storage.block_by_number(self.first_number)
        assert found is not None
        return found[0]

    def header(self, number: int) -> Header:
        if number == self.head.number:
            return self.head
        found = self.storage.block_by_number(number)
        if found is None:
            if self.fork_blocks is not None and number < self.first_number:
                return self._remote_header(number)
            raise ResourceNotFound(f"block {number} not found")
        return found[0]

    def _remote_header(self, number: int) -> Header:
        """Enough of a block before the fork to run a call in its context."""
        block = self.fork_blocks.block(number, False)  # type: ignore[union-attr]
        if block is None:
            raise ResourceNotFound(f"block {number} not found on the forked node")
        return Header(parent_hash=bytes.fromhex(block["parentHash"][2:]), coinbase=bytes.fromhex(block["miner"][2:]),
                      state_root=bytes.fromhex(block["stateRoot"][2:]), transactions_root=BLANK_ROOT,
                      receipts_root=BLANK_ROOT, bloom=b"\x00" * 256, number=number,
                      gas_limit=int(block["gasLimit"], 16), gas_used=int(block["gasUsed"], 16),
                      timestamp=int(block["timestamp"], 16), base_fee=int(block.get("baseFeePerGas") or "0x0", 16),
                      fork_level=self.fork_level)

    def balance(self, address: bytes, number: int) -> int:
        account = self.reader(number).account(address)
        return account[1] if account else 0

    def nonce(self, address: bytes, number: int) -> int:
        account = self.reader(number).account(address)
        return account[0] if account else 0

    def code(self, address: bytes, number: int) -> bytes:
        reader = self.reader(number)
        account = reader.account(address)
        if not account or account[2] == EMPTY_CODE_HASH:
            return b""
        return reader.code(account[2])

    def storage_at(self, address: bytes, slot: int, number: int) -> int:
        return self.reader(number).storage(address, slot)

    # -- dev edits, snapshots ----------------------------------------------------------
    def edit(self, change: Callable[[Overlay], None]) -> None:
        """Change state outside a block (setBalance, setCode...), durably and revertibly."""
        overlay = Overlay(self.live)
        change(overlay)
        diff = overlay.diff()
        if diff.is_empty() and not diff.codes:
            return
        undo = self.live.apply(diff)
        try:
            self.storage.commit_edit(diff, undo, self.seq + 1)
        except BaseException:
            self.live.apply(undo)
            raise
        self.seq += 1

    def snapshot(self) -> int:
        self._snapshot_ids += 1
        self.snapshots[self._snapshot_ids] = Snapshot(self.seq, self.head.number, self.time_offset)
        return self._snapshot_ids

    def revert(self, snapshot_id: int) -> bool:
        snap = self.snapshots.get(snapshot_id)
        if snap is None:
            return False
        self._rewind(snap.seq, snap.number)
        self.time_offset = snap.time_offset
        for sid in [s for s in self.snapshots if s >= snapshot_id]:
            del self.snapshots[sid]
        return True

    def rollback(self, number: int) -> None:
        """Remove every block after `number` and the state they made (anvil_rollback, anvil_reorg)."""
        seq = self.storage.block_seq(number)
        if seq is None or number > self.head.number:
            raise ResourceNotFound(f"block {number} not found")
        self._rewind(seq, number)
        for sid in [sid for sid, snap in self.snapshots.items() if snap.seq > seq]:
            del self.snapshots[sid]

    def _rewind(self, seq: int, number: int) -> None:
        restore = self.storage.rollback_to(seq, number)
        self.live.apply(restore)
        self.seq = seq
        self.next_timestamp = None
        self._reload_head(number)

"""The chain's SQLite store: a block or edit lands whole or not at all, in memory (unjournaled, batched commits)
as in a data dir (one journaled transaction each)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from chain import Node, NodeConfig, storage as storage_module
from chain.blocks import Header, Log, Receipt
from chain.state import StateDiff
from chain.storage import MinedTx, Storage

A, B, C, TOKEN = (bytes([n]) * 20 for n in (0xA1, 0xB2, 0xC3, 0x70))
ZERO_BLOOM = bytes(256)


def _store(kind: str, tmp_path: Path) -> Storage:
    return Storage(None if kind.startswith("memory") else tmp_path / "chain.sqlite3")


def _dump(store: Storage) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    db = store._db
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


def _header(number: int) -> Header:
    return Header(parent_hash=bytes([number]) * 32, coinbase=C, state_root=bytes([number + 1]) * 32,
                  transactions_root=bytes(32), receipts_root=bytes(32), bloom=ZERO_BLOOM, number=number,
                  gas_limit=30_000_000, gas_used=21_000, timestamp=1_700_000_000 + number, base_fee=7)


def _tx(n: int, to: bytes | None, logs: tuple[Log, ...] = ()) -> MinedTx:
    receipt = Receipt(tx_type=2, status=1, cumulative_gas=21_000 * n, logs=logs, bloom=ZERO_BLOOM)
    return MinedTx(hash=bytes([0xE0 + n]) * 32, raw=bytes([n]) * 110, sender=A, receipt=receipt, gas_used=21_000,
                   gas_price=10**9, contract=None if to is not None else bytes([0xD0 + n]) * 20, to=to)


def _genesis(store: Storage) -> None:
    diff = StateDiff(accounts={A: (0, 10**21, bytes(32)), TOKEN: (1, 0, b"\x11" * 32)},
                     storage={TOKEN: {1: 5, 2: 6, 3: 7}}, codes={b"\x11" * 32: b"\x60\x00"})
    store.commit_block(_header(0), _header(0).hash, [], diff, StateDiff(), 1)


def _block_one(store: Storage) -> Callable[[], None]:
    """A block touching every table: two transactions (one a creation), logs, accounts made and changed, storage
    set, cleared and wiped, new code; returns the call that writes it."""
    live = store.load_state()
    diff = StateDiff(accounts={A: (2, 10**21 - 5, bytes(32)), B: (0, 5, bytes(32)), bytes([0xD2]) * 20: (1, 0,
                                                                                                      b"\x22" * 32)},
                     storage={TOKEN: {1: 0, 9: 99}, bytes([0xD2]) * 20: {0: 1}}, codes={b"\x22" * 32: b"\x60\x01"})
    undo = live.apply(diff)
    log = Log(TOKEN, (b"\x01" * 32, b"\x02" * 32), b"data")
    txs = [_tx(1, B, (log, log)), _tx(2, None)]
    return lambda: store.commit_block(_header(1), _header(1).hash, txs, diff, undo, 2)


def _wipe_edit(store: Storage) -> Callable[[], None]:
    live = store.load_state()
    diff = StateDiff(accounts={TOKEN: (1, 3, b"\x11" * 32)}, storage={TOKEN: {4: 44}}, wiped={TOKEN})
    undo = live.apply(diff)
    return lambda: store.commit_edit(diff, undo, 2)


class _FailAt:
    """The store's connection, failing its `at`-th statement: before it runs, or part-way through its rows."""

    def __init__(self, db: Any, at: int, part_way: bool) -> None:
        self.db, self.left, self.part_way, self.statements = db, at, part_way, 0

    def _due(self) -> bool:
        self.statements += 1
        self.left -= 1
        return self.left == 0

    def execute(self, sql: str, *args: Any) -> Any:
        if self._due():
            raise RuntimeError(f"failed: {sql}")
        return self.db.execute(sql, *args)

    def executemany(self, sql: str, rows: Any) -> Any:
        if not self._due():
            return self.db.executemany(sql, rows)
        if not self.part_way:
            raise RuntimeError(f"failed: {sql}")

        def first_row_then_fail() -> Iterator[Any]:
            yield from list(rows)[:1]
            raise RuntimeError(f"failed part-way: {sql}")
        return self.db.executemany(sql, first_row_then_fail())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


def _statements(make: Callable[[Storage], Callable[[], None]], kind: str, tmp_path: Path) -> int:
    store = _store(kind, tmp_path / "count")
    _genesis(store)
    write = make(store)
    counter = store._db = _FailAt(store._db, 0, False)  # type: ignore[assignment]
    write()
    return counter.statements


@pytest.mark.parametrize("kind", ["memory", "memory-batch-ends", "data-dir"])
@pytest.mark.parametrize("make", [_block_one, _wipe_edit], ids=["block", "edit"])
def test_a_write_failing_at_any_statement_leaves_the_store_as_it_was(kind: str, make: Callable[[Storage], Any],
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if kind == "memory-batch-ends":  # every change ends its batch: the failing statement may be that COMMIT
        monkeypatch.setattr(storage_module, "IN_MEMORY_COMMIT_EVERY", 1)
    (tmp_path / "count").mkdir()
    statements = _statements(make, kind, tmp_path)
    assert statements >= 4
    written = _written(make, kind, tmp_path)
    failed_at = []
    for at in range(1, statements + 1):
        for part_way in (False, True):
            where = tmp_path / f"{at}-{part_way}"
            where.mkdir()
            store = _store(kind, where)
            _genesis(store)
            before = _dump(store)
            write = make(store)
            real = store._db
            failing = store._db = _FailAt(real, at, part_way)  # type: ignore[assignment]
            with pytest.raises(RuntimeError, match="failed") as failure:
                write()
            failed_at.append(str(failure.value))
            store._db = real
            assert failing.statements >= at
            assert _dump(store) == before, (at, part_way)
            write()  # and the same write then lands whole, as if nothing had failed
            assert _dump(store) == written, (at, part_way)
            store.close()
    if kind == "memory-batch-ends":
        assert "failed: COMMIT" in failed_at


def _written(make: Callable[[Storage], Callable[[], None]], kind: str, where: Path) -> dict[str, list[Any]]:
    (where / "ref").mkdir()
    store = _store(kind, where / "ref")
    _genesis(store)
    make(store)()
    try:
        return _dump(store)
    finally:
        store.close()


def test_the_in_memory_store_keeps_no_journal_and_commits_in_batches(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    monkeypatch.setattr(storage_module, "IN_MEMORY_COMMIT_EVERY", 3)
    memory, on_disk = Storage(None), Storage(tmp_path / "chain.sqlite3")
    assert memory._db.execute("PRAGMA journal_mode").fetchone()[0] == "off"
    assert on_disk._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    open_after = []
    for store in (memory, on_disk):
        _genesis(store)
        open_after.append(store._db.in_transaction)
        _block_one(store)()
        open_after.append(store._db.in_transaction)
        _wipe_edit(store)()  # the third change: the batch is committed
        open_after.append(store._db.in_transaction)
    assert open_after == [True, True, False, False, False, False]
    assert _dump(memory) == _dump(on_disk)


def _rpc(node: Node, method: str, *params: Any) -> Any:
    from chain.server import RpcServer
    reply = json.loads(RpcServer(node)._handle(json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode(), None))
    assert "error" not in reply, reply
    return reply["result"]


def test_an_in_memory_chain_reads_history_reverts_and_edits_across_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage_module, "IN_MEMORY_COMMIT_EVERY", 4)
    node = Node(NodeConfig(accounts=2))
    sender, to = (a["address"] if isinstance(a, dict) else a for a in _rpc(node, "eth_accounts"))
    balances = []
    snapshot = None
    for i in range(11):
        if i == 6:
            snapshot = _rpc(node, "evm_snapshot")
        _rpc(node, "eth_sendTransaction", {"from": sender, "to": to, "value": hex(1000 + i)})
        _rpc(node, "anvil_setStorageAt", to, hex(i), "0x" + f"{i + 1:064x}")
        balances.append(int(_rpc(node, "eth_getBalance", to, "latest"), 16))
    head = int(_rpc(node, "eth_blockNumber"), 16)
    for back, balance in enumerate(reversed(balances)):
        assert int(_rpc(node, "eth_getBalance", to, hex(head - back)), 16) == balance
    assert _rpc(node, "evm_revert", snapshot) is True
    assert int(_rpc(node, "eth_blockNumber"), 16) == head - 5
    assert int(_rpc(node, "eth_getBalance", to, "latest"), 16) == balances[5]
    assert int(_rpc(node, "eth_getStorageAt", to, hex(5), "latest"), 16) == 6
    assert int(_rpc(node, "eth_getStorageAt", to, hex(6), "latest"), 16) == 0
    _rpc(node, "eth_sendTransaction", {"from": sender, "to": to, "value": "0x1"})
    assert int(_rpc(node, "eth_getBalance", to, "latest"), 16) == balances[5] + 1
    fresh = node.storage.load_state()  # the flat tables agree with the live state, written across batches
    assert fresh.state_root() == node.backend.live.state_root()


@pytest.mark.parametrize("kind", ["memory", "data-dir"])
def test_a_rarer_write_failing_part_way_is_rolled_back_by_its_journal(kind: str, tmp_path: Path) -> None:
    store = _store(kind, tmp_path)
    _genesis(store)
    _block_one(store)()  # in memory, an open batch the journaled write first commits
    before = _dump(store)
    real = store._db
    failing = store._db = _FailAt(real, 4, True)  # type: ignore[assignment]  # COMMIT, PRAGMA, BEGIN, rows
    if kind == "data-dir":
        failing.left = 2  # BEGIN, rows
    with pytest.raises(RuntimeError, match="failed part-way: INSERT OR REPLACE INTO blobs"):
        store.put_blobs(b"\x01" * 32, [b"\x01" + b"\x02" * 31, b"\x01" + b"\x03" * 31], [b"blob1", b"blob2"])
    store._db = real
    assert _dump(store) == before
    if kind == "memory":
        assert real.execute("PRAGMA journal_mode").fetchone()[0] == "off"
    store.put_blobs(b"\x01" * 32, [b"\x01" + b"\x02" * 31], [b"blob1"])
    assert store.blobs_of(b"\x01" * 32) == [b"blob1"]

"""SQLite storage: blocks, transactions, receipts, logs, flat state and history.

Every mined block (or dev-method state edit) is one SQLite transaction, so a
crash leaves the chain at a block boundary. WAL mode with synchronous=NORMAL
survives a killed process (SIGKILL); it trades only power-loss durability of
the last commits, as anvil and hardhat do not persist at all.

Without a data dir the database is in memory, where a crash loses everything
anyway: there blocks and edits are written without a rollback journal and many
to one SQLite transaction (a journal copies every page a block touches, and
each commit walks the whole page cache, both dearer as the chain grows), and a
write that fails part-way is undone by deleting what it added and writing back
the old state it was given. Rarer writes (rewinds, a fork's cache, blobs) take
a journal for their own transaction.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .blocks import Header, Log, Receipt
from .state import Account, LiveState, StateDiff

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB);
CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, header BLOB NOT NULL,
    tx_hashes BLOB NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS txs (
    hash BLOB PRIMARY KEY, block INTEGER NOT NULL, idx INTEGER NOT NULL, raw BLOB NOT NULL,
    sender BLOB NOT NULL, receipt BLOB NOT NULL, gas_used INTEGER NOT NULL,
    gas_price INTEGER NOT NULL, contract BLOB, first_log INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS logs (
    block INTEGER NOT NULL, log_index INTEGER NOT NULL, address BLOB NOT NULL,
    topic0 BLOB, PRIMARY KEY (block, log_index)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS logs_address ON logs (address, block);
CREATE INDEX IF NOT EXISTS logs_topic0 ON logs (topic0, block);
CREATE TABLE IF NOT EXISTS accounts (
    address BLOB PRIMARY KEY, nonce INTEGER NOT NULL, balance BLOB NOT NULL, code_hash BLOB NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS storage (
    address BLOB NOT NULL, slot BLOB NOT NULL, value BLOB NOT NULL, PRIMARY KEY (address, slot))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS codes (hash BLOB PRIMARY KEY, code BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    key BLOB NOT NULL, seq INTEGER NOT NULL, old BLOB NOT NULL, PRIMARY KEY (key, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS history_seq ON history (seq);
CREATE TABLE IF NOT EXISTS address_txs (
    address BLOB NOT NULL, block INTEGER NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (address, block, idx))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fork_seen (key BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs (
    tx_hash BLOB NOT NULL, idx INTEGER NOT NULL, versioned_hash BLOB NOT NULL, blob BLOB NOT NULL,
    PRIMARY KEY (tx_hash, idx)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blobs_by_versioned_hash ON blobs (versioned_hash);
CREATE TABLE IF NOT EXISTS pool (
    hash BLOB PRIMARY KEY, sender BLOB NOT NULL, raw BLOB NOT NULL, impersonated INTEGER NOT NULL,
    added INTEGER NOT NULL) WITHOUT ROWID;
"""


def _addresses_of(tx: MinedTx) -> set[bytes]:
    return {tx.sender, tx.to, tx.contract} - {None}  # type: ignore[operator]


def _u(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _encode_account(account: Account | None) -> bytes:
    if account is None:
        return b""
    nonce, balance, code_hash = account
    return code_hash + nonce.to_bytes(8, "big") + _u(balance)


def _decode_account(data: bytes) -> Account | None:
    if not data:
        return None
    return (int.from_bytes(data[32:40], "big"), int.from_bytes(data[40:], "big"), data[:32])


@dataclass(frozen=True, slots=True)
class StoredTx:
    hash: bytes
    block: int
    index: int
    raw: bytes
    sender: bytes
    receipt: Receipt
    gas_used: int
    gas_price: int
    contract: bytes | None
    first_log: int


@dataclass(frozen=True, slots=True)
class MinedTx:
    """What the block builder hands to storage for one included transaction."""

    hash: bytes
    raw: bytes
    sender: bytes
    receipt: Receipt
    gas_used: int
    gas_price: int
    contract: bytes | None
    to: bytes | None = None  # the recipient, for the address index (None: a contract creation)


IN_MEMORY_COMMIT_EVERY = 1024  # in-memory blocks and edits folded into one SQLite transaction


class Storage:
    """One SQLite database per chain; `path=None` keeps it in memory."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        target = str(path) if path is not None else ":memory:"
        self._db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA cache_size=-16000")
        else:
            # An in-memory database lives in the page cache; a cache limit smaller than
            # the database makes every commit walk all pages trying to shrink it. Each
            # commit walks the cache's page table even so (20 us a block at 100,000
            # blocks): commits come once a batch, and 16 KiB pages make a quarter as
            # many pages as 4 KiB ones. No journal: see the module's docstring.
            self._db.execute("PRAGMA page_size=16384")
            self._db.execute("PRAGMA cache_size=-64000000")
            self._db.execute("PRAGMA journal_mode=OFF")
        self._db.executescript(_SCHEMA)
        self._unjournaled = path is None
        self._batched = 0  # in-memory writes in the open SQLite transaction

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One atomic SQLite transaction: everything inside lands, or nothing does."""
        if self._unjournaled:
            self._end_batch()
            self._db.execute("PRAGMA journal_mode=MEMORY")
        try:
            self._db.execute("BEGIN")
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed COMMIT can leave it open
                    self._db.execute("ROLLBACK")
                raise
        finally:
            if self._unjournaled:
                self._db.execute("PRAGMA journal_mode=OFF")

    @contextmanager
    def _change(self, undo: Callable[[], None]) -> Iterator[None]:
        """A block or edit: a transaction of its own, or, in memory, part of a batch that `undo` takes it out of."""
        if not self._unjournaled:
            with self._transaction():
                yield
            return
        if not self._db.in_transaction:
            self._db.execute("BEGIN")
        try:
            yield
            self._batched += 1
            if self._batched >= IN_MEMORY_COMMIT_EVERY:
                self._end_batch()
        except BaseException:
            undo()
            raise

    def _end_batch(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._batched = 0

    # -- meta ------------------------------------------------------------------
    def get_meta(self, key: str) -> bytes | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: bytes) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- writes ----------------------------------------------------------------
    def commit_block(
        self, header: Header, block_hash: bytes, txs: list[MinedTx], diff: StateDiff, undo: StateDiff, seq: int
    ) -> None:
        """Store a block, its transactions, logs and state changes atomically."""
        db = self._db
        new_codes = self._new_codes(diff)
        with self._change(lambda: self._forget_block(header.number, txs, undo, seq, new_codes)):
            db.execute(
                "INSERT INTO blocks VALUES (?, ?, ?, ?, ?)",
                (header.number, block_hash, header.encode(), b"".join(t.hash for t in txs), seq),
            )
            log_index = 0
            tx_rows, log_rows = [], []
            for i, t in enumerate(txs):
                tx_rows.append((t.hash, header.number, i, t.raw, t.sender, t.receipt.encode(), t.gas_used,
                                t.gas_price, t.contract, log_index))
                for log in t.receipt.logs:
                    log_rows.append((header.number, log_index, log.address, log.topics[0] if log.topics else None))
                    log_index += 1
            db.executemany("INSERT INTO txs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tx_rows)
            db.executemany("INSERT OR IGNORE INTO address_txs VALUES (?, ?, ?)",
                           [(a, header.number, i) for i, t in enumerate(txs) for a in _addresses_of(t)])
            if log_rows:
                db.executemany("INSERT INTO logs VALUES (?, ?, ?, ?)", log_rows)
            self._write_state(diff, undo, seq)
            if txs:  # last: the pool table is read back only from a data dir, whose writes are journaled
                db.executemany("DELETE FROM pool WHERE hash=?", [(t.hash,) for t in txs])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('seq', ?)", (_u(seq),))

    def commit_edit(self, diff: StateDiff, undo: StateDiff, seq: int) -> None:
        """Store a state edit made outside a block (anvil_setBalance and friends)."""
        db = self._db
        new_codes = self._new_codes(diff)
        with self._change(lambda: self._forget_edit(undo, seq, new_codes)):
            self._write_state(diff, undo, seq)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('seq', ?)", (_u(seq),))

    def _new_codes(self, diff: StateDiff) -> list[bytes]:
        """The code hashes `diff` brings that are not stored yet (what undoing it in memory deletes)."""
        if not self._unjournaled:
            return []
        return [h for h in diff.codes if self.code(h) is None]

    def _forget_block(self, number: int, txs: list[MinedTx], undo: StateDiff, seq: int,
                      new_codes: list[bytes]) -> None:
        """Take out whatever part of block `number` was written (rows of a block never there before it)."""
        db = self._db
        db.execute("DELETE FROM blocks WHERE number=?", (number,))
        db.executemany("DELETE FROM txs WHERE hash=?", [(t.hash,) for t in txs])
        db.executemany("DELETE FROM address_txs WHERE address=? AND block=?",
                       [(a, number) for t in txs for a in _addresses_of(t)])
        db.execute("DELETE FROM logs WHERE block=?", (number,))
        self._forget_edit(undo, seq, new_codes)

    def _forget_edit(self, undo: StateDiff, seq: int, new_codes: list[bytes]) -> None:
        """Take out whatever part of change `seq` was written: its history rows and new code, and the state put
        back."""
        self._db.execute("DELETE FROM history WHERE seq=?", (seq,))
        self._db.executemany("DELETE FROM codes WHERE hash=?", [(h,) for h in new_codes])
        self._write_state(undo, StateDiff(), seq)
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('seq', ?)", (_u(seq - 1),))

    def _write_state(self, diff: StateDiff, undo: StateDiff, seq: int) -> None:
        db = self._db
        if diff.codes:
            db.executemany("INSERT OR IGNORE INTO codes VALUES (?, ?)", list(diff.codes.items()))
        for address in diff.wiped:
            db.execute("DELETE FROM storage WHERE address=?", (address,))
        puts, dels = [], []
        for address, slots in diff.storage.items():
            for slot, value in slots.items():
                key = slot.to_bytes(32, "big")
                if value:
                    puts.append((address, key, _u(value)))
                else:
                    dels.append((address, key))
        if puts:
            db.executemany("INSERT OR REPLACE INTO storage VALUES (?, ?, ?)", puts)
        if dels:
            db.executemany("DELETE FROM storage WHERE address=? AND slot=?", dels)
        acc_puts, acc_dels = [], []
        for address, account in diff.accounts.items():
            if account is None:
                acc_dels.append((address,))
            else:
                acc_puts.append((address, account[0], _u(account[1]), account[2]))
        if acc_puts:
            db.executemany("INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?)", acc_puts)
        if acc_dels:
            db.executemany("DELETE FROM accounts WHERE address=?", acc_dels)
        rows = [(address, seq, _encode_account(old)) for address, old in undo.accounts.items()]
        for address, slots in undo.storage.items():
            rows.extend((address + slot.to_bytes(32, "big"), seq, _u(old)) for slot, old in slots.items())
        if rows:
            db.executemany("INSERT OR REPLACE INTO history VALUES (?, ?, ?)", rows)

    def add_pool_tx(self, tx_hash: bytes, sender: bytes, raw: bytes, impersonated: bool) -> None:
        """Keep a pooled transaction; `added` numbers them in arrival order (what --order fifo restores)."""
        self._db.execute("INSERT OR REPLACE INTO pool VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(added), 0) + 1 "
                         "FROM pool))", (tx_hash, sender, raw, int(impersonated)))

    def remove_pool_txs(self, hashes: Iterable[bytes]) -> None:
        self._db.executemany("DELETE FROM pool WHERE hash=?", [(h,) for h in hashes])

    def put_blobs(self, tx_hash: bytes, versioned_hashes: Iterable[bytes], blobs: Iterable[bytes]) -> None:
        """A blob transaction's blobs (its sidecar), kept for anvil_getBlobByHash and friends."""
        with self._transaction():
            self._db.executemany("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?, ?)",
                                 [(tx_hash, i, h, b) for i, (h, b) in enumerate(zip(versioned_hashes, blobs))])

    def blob(self, versioned_hash: bytes) -> bytes | None:
        row = self._db.execute("SELECT blob FROM blobs WHERE versioned_hash=? LIMIT 1", (versioned_hash,)).fetchone()
        return bytes(row[0]) if row is not None else None

    def blobs_of(self, tx_hash: bytes) -> list[bytes] | None:
        rows = self._db.execute("SELECT blob FROM blobs WHERE tx_hash=? ORDER BY idx", (tx_hash,)).fetchall()
        return [bytes(r[0]) for r in rows] or None

    def pool_txs(self) -> list[tuple[bytes, bytes, bytes, bool]]:
        rows = self._db.execute("SELECT hash, sender, raw, impersonated FROM pool ORDER BY added").fetchall()
        return [(h, s, r, bool(i)) for h, s, r, i in rows]

    # -- state -----------------------------------------------------------------
    def load_state(self) -> LiveState:
        """Rebuild the live state (and its tries) from the flat tables."""
        live = LiveState()
        diff = StateDiff()
        for code_hash, code in self._db.execute("SELECT hash, code FROM codes"):
            diff.codes[code_hash] = code
        for address, nonce, balance, code_hash in self._db.execute("SELECT * FROM accounts"):
            diff.accounts[address] = (nonce, int.from_bytes(balance, "big"), code_hash)
        for address, slot, value in self._db.execute("SELECT * FROM storage"):
            diff.storage.setdefault(address, {})[int.from_bytes(slot, "big")] = int.from_bytes(value, "big")
        live.apply(diff)
        return live

    def account_after(self, address: bytes, seq: int) -> tuple[bool, Account | None]:
        row = self._db.execute(
            "SELECT old FROM history WHERE key=? AND seq>? ORDER BY seq LIMIT 1", (address, seq)).fetchone()
        return (True, _decode_account(row[0])) if row else (False, None)

    def storage_after(self, address: bytes, slot: int, seq: int) -> tuple[bool, int]:
        row = self._db.execute(
            "SELECT old FROM history WHERE key=? AND seq>? ORDER BY seq LIMIT 1",
            (address + slot.to_bytes(32, "big"), seq)).fetchone()
        return (True, int.from_bytes(row[0], "big")) if row else (False, 0)

    def restore_diff(self, seq: int) -> StateDiff:
        """The state diff that takes the current state back to how it was at change `seq`."""
        restore = StateDiff()
        rows = self._db.execute(
            "SELECT key, old FROM history h WHERE seq = (SELECT MIN(seq) FROM history WHERE key=h.key AND seq>?)",
            (seq,)).fetchall()
        for key, old in rows:
            if len(key) == 20:
                restore.accounts[key] = _decode_account(old)
            else:
                restore.storage.setdefault(key[:20], {})[int.from_bytes(key[20:], "big")] = int.from_bytes(old, "big")
        return restore

    def rollback_to(self, seq: int, number: int) -> StateDiff:
        """Delete everything after change `seq` / block `number`; return the state diff that restores it."""
        db = self._db
        restore = self.restore_diff(seq)
        with self._transaction():
            db.execute("DELETE FROM history WHERE seq>?", (seq,))
            db.execute("DELETE FROM txs WHERE block>?", (number,))
            db.execute("DELETE FROM logs WHERE block>?", (number,))
            db.execute("DELETE FROM address_txs WHERE block>?", (number,))
            db.execute("DELETE FROM blocks WHERE number>?", (number,))
            db.execute("DELETE FROM pool")
            self._write_state(restore, StateDiff(), seq)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('seq', ?)", (_u(seq),))
        return restore

    # -- reads -----------------------------------------------------------------
    def seq(self) -> int:
        value = self.get_meta("seq")
        return int.from_bytes(value, "big") if value else 0

    def head_number(self) -> int | None:
        row = self._db.execute("SELECT MAX(number) FROM blocks").fetchone()
        return row[0]

    def block_by_number(self, number: int) -> tuple[Header, bytes, list[bytes], int] | None:
        row = self._db.execute("SELECT header, hash, tx_hashes, seq FROM blocks WHERE number=?", (number,)).fetchone()
        if row is None:
            return None
        return Header.decode(row[0]), row[1], _split_hashes(row[2]), row[3]

    def block_number_by_hash(self, block_hash: bytes) -> int | None:
        row = self._db.execute("SELECT number FROM blocks WHERE hash=?", (block_hash,)).fetchone()
        return row[0] if row else None

    # -- a fork's cache -----------------------------------------------------------
    def fork_seen(self) -> set[bytes]:
        return {row[0] for row in self._db.execute("SELECT key FROM fork_seen")}

    def remember_fork(self, markers: list[bytes], account: tuple[bytes, Any, bytes] | None,
                      slot: tuple[bytes, int, int] | None) -> None:
        """Keep what a fork read from its remote: the state as it was at the fork block, and what is now known."""
        db = self._db
        with self._transaction():
            db.executemany("INSERT OR IGNORE INTO fork_seen VALUES (?)", [(m,) for m in markers])
            if account is not None:
                address, (nonce, balance, code_hash), code = account
                db.execute("INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?)",
                           (address, nonce, _u(balance), code_hash))
                if code:
                    db.execute("INSERT OR IGNORE INTO codes VALUES (?, ?)", (code_hash, code))
            if slot is not None:
                address, key, value = slot
                db.execute("INSERT OR REPLACE INTO storage VALUES (?, ?, ?)", (address, key.to_bytes(32, "big"),
                                                                               _u(value)))

    def first_number(self) -> int:
        row = self._db.execute("SELECT MIN(number) FROM blocks").fetchone()
        return row[0] if row and row[0] is not None else 0

    def block_seq(self, number: int) -> int | None:
        row = self._db.execute("SELECT seq FROM blocks WHERE number=?", (number,)).fetchone()
        return row[0] if row else None

    def address_txs(self, address: bytes, before: int | None = None, after: int | None = None,
                    limit: int = 25) -> list[tuple[int, int]]:
        """(block, index) of transactions from, to or creating `address`: newest first below block `before`, or
        oldest first above block `after`."""
        if after is not None:
            rows = self._db.execute("SELECT block, idx FROM address_txs WHERE address=? AND block>? "
                                    "ORDER BY block, idx LIMIT ?", (address, after, limit))
        else:
            rows = self._db.execute("SELECT block, idx FROM address_txs WHERE address=? AND block<? "
                                    "ORDER BY block DESC, idx DESC LIMIT ?",
                                    (address, before if before is not None else 2**62, limit))
        return [(b, i) for b, i in rows]

    def index_addresses(self, decode_to: Callable[[bytes], bytes | None]) -> int:
        """Fill the address index for transactions stored before it existed; how many rows were added."""
        if self._db.execute("SELECT 1 FROM address_txs LIMIT 1").fetchone() is not None:
            return 0
        rows = []
        for block, idx, raw, sender, contract in self._db.execute(
                "SELECT block, idx, raw, sender, contract FROM txs"):
            for address in {sender, decode_to(raw), contract} - {None}:
                rows.append((address, block, idx))
        with self._transaction():
            self._db.executemany("INSERT OR IGNORE INTO address_txs VALUES (?, ?, ?)", rows)
        return len(rows)

    def has_tx(self, tx_hash: bytes) -> bool:
        return self._db.execute("SELECT 1 FROM txs WHERE hash=?", (tx_hash,)).fetchone() is not None

    def tx(self, tx_hash: bytes) -> StoredTx | None:
        row = self._db.execute("SELECT * FROM txs WHERE hash=?", (tx_hash,)).fetchone()
        if row is None:
            return None
        h, block, idx, raw, sender, receipt, gas_used, gas_price, contract, first_log = row
        return StoredTx(h, block, idx, raw, sender, Receipt.decode(receipt), gas_used, gas_price, contract, first_log)

    def log_blocks(self, start: int, end: int, addresses: list[bytes], topic0s: list[bytes]) -> Iterator[int]:
        """Blocks in [start, end] that may hold matching logs (narrowed by index)."""
        sql = "SELECT DISTINCT block FROM logs WHERE block BETWEEN ? AND ?"
        args: list[object] = [start, end]
        if addresses:
            sql += f" AND address IN ({','.join('?' * len(addresses))})"
            args.extend(addresses)
        if topic0s:
            sql += f" AND topic0 IN ({','.join('?' * len(topic0s))})"
            args.extend(topic0s)
        for (block,) in self._db.execute(sql + " ORDER BY block", args):
            yield block

    def code(self, code_hash: bytes) -> bytes | None:
        row = self._db.execute("SELECT code FROM codes WHERE hash=?", (code_hash,)).fetchone()
        return row[0] if row else None


def _split_hashes(blob: bytes) -> list[bytes]:
    return [blob[i:i + 32] for i in range(0, len(blob), 32)]


__all__ = ["Storage", "StoredTx", "MinedTx", "Log"]

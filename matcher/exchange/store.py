"""The exchange's tables beside the command journal (same SQLite file, same transactions).

Orders keep what the maker signed; trades are the fills to settle, with their state (PENDING -> SUBMITTED ->
CONFIRMED | FAILED); batches and withdrawals keep the signed transaction before it is sent, so a restart can find
out what happened instead of paying twice. Amounts are stored as decimal text: SQLite integers are 64-bit.
"""

from __future__ import annotations

import json
import operator
import sqlite3
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, account TEXT NOT NULL, client_order_id TEXT NOT NULL,
    side TEXT NOT NULL, type TEXT NOT NULL, tif TEXT NOT NULL, price TEXT NOT NULL, qty TEXT NOT NULL,
    quote_qty TEXT NOT NULL, stop_price TEXT NOT NULL, stp TEXT NOT NULL, status TEXT NOT NULL,
    filled TEXT NOT NULL, cum_quote TEXT NOT NULL, reason TEXT NOT NULL, created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL, nonce TEXT NOT NULL, expiry INTEGER NOT NULL, max_fee_bps INTEGER NOT NULL,
    vault_price TEXT NOT NULL, base_amount TEXT NOT NULL, order_hash TEXT NOT NULL, signature TEXT NOT NULL,
    max_platform_fee_rate TEXT NOT NULL DEFAULT '0', order_list_id INTEGER NOT NULL DEFAULT -1,
    iceberg_qty TEXT NOT NULL DEFAULT '0', trailing_delta INTEGER NOT NULL DEFAULT 0, UNIQUE (account, nonce));
CREATE INDEX IF NOT EXISTS orders_by_account ON orders (account, symbol, order_id);
CREATE INDEX IF NOT EXISTS orders_by_hash ON orders (order_hash);
CREATE TABLE IF NOT EXISTS trades (
    trade_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, ordinal INTEGER NOT NULL, symbol TEXT NOT NULL,
    price TEXT NOT NULL, qty TEXT NOT NULL, quote TEXT NOT NULL, maker_order_id INTEGER NOT NULL,
    taker_order_id INTEGER NOT NULL, maker TEXT NOT NULL, taker TEXT NOT NULL, taker_side TEXT NOT NULL,
    maker_fee TEXT NOT NULL, taker_fee TEXT NOT NULL, maker_fee_asset TEXT NOT NULL, taker_fee_asset TEXT NOT NULL,
    settle_maker_fee TEXT NOT NULL, settle_taker_fee TEXT NOT NULL, time_ms INTEGER NOT NULL,
    state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', batch_id INTEGER, tx_hash TEXT, block INTEGER,
    reversed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS trades_by_state ON trades (state, trade_id);
CREATE INDEX IF NOT EXISTS trades_by_symbol ON trades (symbol, trade_id);
CREATE TABLE IF NOT EXISTS batches (
    batch_id INTEGER PRIMARY KEY, state TEXT NOT NULL, trade_ids TEXT NOT NULL, raw TEXT, tx_hash TEXT,
    block INTEGER, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS withdrawals (
    id INTEGER PRIMARY KEY, account TEXT NOT NULL, asset TEXT NOT NULL, token TEXT NOT NULL, amount TEXT NOT NULL,
    nonce TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', raw TEXT, tx_hash TEXT,
    block INTEGER, created_ms INTEGER NOT NULL, UNIQUE (account, nonce));
CREATE TABLE IF NOT EXISTS chain_events (event_id TEXT PRIMARY KEY, block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS escape_requests (
    account TEXT NOT NULL, token TEXT NOT NULL, pending TEXT NOT NULL, PRIMARY KEY (account, token));
CREATE TABLE IF NOT EXISTS nonce_floors (account TEXT PRIMARY KEY, floor TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS listings (
    event_id TEXT PRIMARY KEY, token TEXT NOT NULL, round_id INTEGER NOT NULL, symbol TEXT NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL, block INTEGER NOT NULL, tx_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS unlisted_balances (
    account TEXT NOT NULL, token TEXT NOT NULL, amount TEXT NOT NULL, PRIMARY KEY (account, token));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS trades_unsettled_insert AFTER INSERT ON trades
    WHEN NEW.state IN ('PENDING', 'SUBMITTED')
    BEGIN UPDATE counters SET value = value + 1 WHERE name = 'unsettled'; END;
CREATE TRIGGER IF NOT EXISTS trades_unsettled_update AFTER UPDATE OF state ON trades
    WHEN (OLD.state IN ('PENDING', 'SUBMITTED')) != (NEW.state IN ('PENDING', 'SUBMITTED'))
    BEGIN UPDATE counters SET value = value + (CASE WHEN NEW.state IN ('PENDING', 'SUBMITTED') THEN 1 ELSE -1 END)
          WHERE name = 'unsettled'; END;
CREATE TRIGGER IF NOT EXISTS trades_unsettled_delete AFTER DELETE ON trades
    WHEN OLD.state IN ('PENDING', 'SUBMITTED')
    BEGIN UPDATE counters SET value = value - 1 WHERE name = 'unsettled'; END;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shortfalls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL,
    reason TEXT NOT NULL);
"""

PENDING, SUBMITTED, CONFIRMED, FAILED = "PENDING", "SUBMITTED", "CONFIRMED", "FAILED"
INT_COLUMNS = {"price", "qty", "quote_qty", "stop_price", "filled", "cum_quote", "nonce", "vault_price",
               "base_amount", "quote", "maker_fee", "taker_fee", "settle_maker_fee", "settle_taker_fee", "amount",
               "pending", "floor", "max_platform_fee_rate", "iceberg_qty"}


def create(db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)
    # fills not settled yet (PENDING or SUBMITTED), kept by the triggers above: the backpressure reads it per order
    db.execute("INSERT OR IGNORE INTO counters SELECT 'unsettled', COUNT(*) FROM trades "
               "WHERE state IN ('PENDING', 'SUBMITTED')")
    columns = {row[1] for row in db.execute("PRAGMA table_info(orders)")}
    if "max_platform_fee_rate" not in columns:  # a data dir from before orders signed a platform-token fee rate
        db.execute("ALTER TABLE orders ADD COLUMN max_platform_fee_rate TEXT NOT NULL DEFAULT '0'")
    if "order_list_id" not in columns:  # a data dir from before order lists
        db.execute("ALTER TABLE orders ADD COLUMN order_list_id INTEGER NOT NULL DEFAULT -1")
    if "iceberg_qty" not in columns:  # a data dir from before iceberg and trailing stop orders
        db.execute("ALTER TABLE orders ADD COLUMN iceberg_qty TEXT NOT NULL DEFAULT '0'")
        db.execute("ALTER TABLE orders ADD COLUMN trailing_delta INTEGER NOT NULL DEFAULT 0")


def unsettled_fills(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT value FROM counters WHERE name = 'unsettled'").fetchone()[0])


def rows(db: sqlite3.Connection, sql: str, *args: Any) -> list[dict[str, Any]]:
    """The result's rows as dicts, amounts (INT_COLUMNS, stored as text) as ints."""
    cursor = db.execute(sql, args)
    names = [column[0] for column in cursor.description or ()]
    amounts = [(i, name) for i, name in enumerate(names) if name in INT_COLUMNS]
    found = []
    for values in cursor.fetchall():
        row = dict(zip(names, values))
        for i, name in amounts:
            value = values[i]
            if value is not None:
                row[name] = int(value)
        found.append(row)
    return found


def one(db: sqlite3.Connection, sql: str, *args: Any) -> dict[str, Any] | None:
    found = rows(db, sql, *args)
    return found[0] if found else None


def get_meta(db: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else default


def set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))


@dataclass(frozen=True)
class SignedOrderRow:
    """The columns of `orders` that come from the request rather than the engine."""

    nonce: int
    expiry: int
    max_fee_bps: int
    vault_price: int
    base_amount: int
    order_hash: str
    signature: str
    api_type: str
    max_platform_fee_rate: int = 0


def order_row(update: Any, signed: SignedOrderRow, command: Any, now_ms: int) -> dict[str, Any]:
    """The row of a new order, as `rows` reads it back (amounts as ints): `update` its engine NEW event, `command`
    the PlaceOrder it came from."""
    return {"order_id": update.order_id, "symbol": update.symbol, "account": update.account,
            "client_order_id": update.client_order_id, "side": update.side.value, "type": signed.api_type,
            "tif": update.tif.value, "price": update.price, "qty": update.qty, "quote_qty": command.quote_qty,
            "stop_price": command.stop_price, "stp": command.stp.value, "status": update.status.value,
            "filled": update.filled, "cum_quote": update.cum_quote, "reason": update.reason, "created_ms": now_ms,
            "updated_ms": now_ms, "nonce": signed.nonce, "expiry": signed.expiry, "max_fee_bps": signed.max_fee_bps,
            "vault_price": signed.vault_price, "base_amount": signed.base_amount, "order_hash": signed.order_hash,
            "signature": signed.signature, "max_platform_fee_rate": signed.max_platform_fee_rate,
            "order_list_id": -1, "iceberg_qty": command.iceberg_qty, "trailing_delta": command.trailing_delta}


_INSERTED = ("order_id", "symbol", "account", "client_order_id", "side", "type", "tif", "price", "qty", "quote_qty",
             "stop_price", "stp", "status", "filled", "cum_quote", "reason", "created_ms", "updated_ms", "nonce",
             "expiry", "max_fee_bps", "vault_price", "base_amount", "order_hash", "signature",
             "max_platform_fee_rate", "iceberg_qty", "trailing_delta")
_INSERT_ORDER = (f"INSERT INTO orders ({', '.join(_INSERTED)}) VALUES ({','.join('?' * len(_INSERTED))})")


_INSERTED_VALUES = operator.itemgetter(*_INSERTED)
_INSERTED_AMOUNTS = [i for i, name in enumerate(_INSERTED) if name in INT_COLUMNS]


def insert_order(db: sqlite3.Connection, row: dict[str, Any]) -> None:
    """Write an `order_row` (amounts as text, as every amount column holds them)."""
    values = list(_INSERTED_VALUES(row))
    for i in _INSERTED_AMOUNTS:
        values[i] = str(values[i])
    db.execute(_INSERT_ORDER, values)


def update_order(db: sqlite3.Connection, update: Any, now_ms: int, status: str | None = None,
                 reason: str | None = None) -> None:
    db.execute("UPDATE orders SET status = ?, qty = ?, filled = ?, cum_quote = ?, reason = ?, updated_ms = ? "
               "WHERE order_id = ?",
               (status or update.status.value, str(update.qty), str(update.filled), str(update.cum_quote),
                reason if reason is not None else update.reason, now_ms, update.order_id))


def insert_trade(db: sqlite3.Connection, trade: Any, seq: int, ordinal: int, settle_maker_fee: int,
                 settle_taker_fee: int, now_ms: int) -> None:
    db.execute(
        "INSERT INTO trades (trade_id, seq, ordinal, symbol, price, qty, quote, maker_order_id, taker_order_id, "
        "maker, taker, taker_side, maker_fee, taker_fee, maker_fee_asset, taker_fee_asset, settle_maker_fee, "
        "settle_taker_fee, time_ms, state) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (trade.trade_id, seq, ordinal, trade.symbol, str(trade.price), str(trade.qty), str(trade.quote),
         trade.maker_order_id, trade.taker_order_id, trade.maker, trade.taker, trade.taker_side.value,
         str(trade.maker_fee), str(trade.taker_fee), trade.maker_fee_asset, trade.taker_fee_asset,
         str(settle_maker_fee), str(settle_taker_fee), now_ms, PENDING))


def set_trade_states(db: sqlite3.Connection, trade_ids: list[int], state: str, reason: str = "",
                     batch_id: int | None = None, tx_hash: str | None = None, block: int | None = None) -> None:
    db.executemany("UPDATE trades SET state = ?, reason = ?, batch_id = COALESCE(?, batch_id), "
                   "tx_hash = COALESCE(?, tx_hash), block = COALESCE(?, block) WHERE trade_id = ?",
                   [(state, reason, batch_id, tx_hash, block, t) for t in trade_ids])


def save_batch(db: sqlite3.Connection, batch_id: int, state: str, trade_ids: list[int], raw: str | None,
               tx_hash: str | None, now_ms: int, block: int | None = None) -> None:
    db.execute("INSERT INTO batches VALUES (?,?,?,?,?,?,?) ON CONFLICT(batch_id) DO UPDATE SET state = excluded.state,"
               " trade_ids = excluded.trade_ids, raw = excluded.raw, tx_hash = excluded.tx_hash, "
               "block = excluded.block",
               (batch_id, state, json.dumps(trade_ids), raw, tx_hash, block, now_ms))


def batch_trade_ids(batch: dict[str, Any]) -> list[int]:
    return list(json.loads(batch["trade_ids"]))

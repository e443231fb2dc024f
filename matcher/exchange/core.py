"""The exchange's single writer: every change goes through `submit`, which journals the command, applies it to
the engine, and writes what it derives (orders, trades, batches...) in the same SQLite transaction before anything
is visible. Recovery is the journal's: latest snapshot + replay; the derived tables are already consistent.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from matcher.engine import Engine
from matcher.fees import FeePolicy
from matcher.journal import Journal
from matcher.model import (CancelOrder, Command, Deposit, ExecType, OrderUpdate, Result, Side,
                           Trade, Transfer, Withdraw)
from matcher.snapshot import dump, load

from . import store
from .history import Fill, History
from .markets import Market, Markets

log = logging.getLogger("bourse.exchange")
# A snapshot is taken after SNAPSHOT_EVERY commands, or more once the state is large: after SNAPSHOT_PER_ITEM
# commands per open order and balance, so that writing snapshots costs a bounded share of each command however
# large the book (a snapshot's cost grows with the state: ~0.1 s at 14,000 open orders), and recovery replays at
# most a few commands per item of the state it loads.
SNAPSHOT_EVERY = 10_000
SNAPSHOT_PER_ITEM = 4
Listener = Callable[[int, Command, Result], None]
# Set by the API for the task of one request: what it writes joins a group committed once per turn of the event
# loop (the request answers after `ExchangeCore.committed()`); everything else commits before it returns.
GROUP_COMMIT: ContextVar[bool] = ContextVar("group_commit", default=False)


class ExchangeCore:
    def __init__(self, path: Path | str, markets: Markets, fee_account: str, fee_policy: FeePolicy | None = None,
                 clock_ms: Callable[[], int] | None = None) -> None:
        self.markets = markets
        self.fee_account = fee_account
        self.clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.journal = Journal(path, commit_every=1 << 30)  # committed explicitly, with the derived rows
        self.listeners: list[Listener] = []  # the exchange's own indexes: told at once, in the same turn
        self.announcers: list[Listener] = []  # streams to clients: told once the command is durable
        self._unannounced: deque[tuple[int, Command, Result]] = deque()  # written, announcers not yet told
        self.schedule_commit: Callable[[Callable[[], None]], Any] | None = None  # set on an event loop
        self.loop: Any = None  # that loop, once serving: `committed` need not look it up (a getpid() call each)
        self._commit_scheduled = False
        self._waiters: list[Any] = []  # futures of requests waiting for the group's commit
        # Counts the transactions that may have changed what is derived from fills: every command with fills and
        # every `write` but those that say they touch no fill. What is computed from fills (the backlog of
        # unsettled fills, the average price) is kept until this moves, rather than read again for each order.
        self.changes = 0
        self.db = self.journal.db
        store.create(self.db)
        self.history = History(self.db)
        if self.history.missing(self.db):
            self.write(self.history.rebuild)
        seq, state = self.journal.latest_snapshot()
        specs = markets.specs
        self.engine = load(specs, state, fee_policy) if state is not None else Engine(specs, fee_account,
                                                                                       fee_policy=fee_policy)
        self.engine.fee_account = fee_account
        for _, command in self.journal.commands_after(seq):
            self.engine.process(command)
        for symbol, spec in self.engine.markets.items():
            if symbol not in markets.by_symbol:  # opened at run time (a listing): served again after a restart
                markets.add(Market(spec))
        self._since_snapshot = 0

    # --- the one way in --------------------------------------------------------------------------------------
    def submit(self, command: Command, also: Callable[[Any, int, Result], None] | None = None,
               overrides: dict[int, tuple[str, str]] | None = None) -> tuple[int, Result]:
        """Journal, apply, derive, commit; then tell listeners. `overrides` maps an order id to the (status,
        reason) the API should show instead of the engine's (a cancel that is really an expiry). Inside
        `GROUP_COMMIT` (a request of the API) the commit is the group's: see `committed`."""
        seq = self.journal.append(command)
        result = self.engine.process(command)
        now = self.clock_ms()

        def derive(db: Any) -> None:
            if also is not None:
                also(db, seq, result)
            self._derive(db, seq, result, now, overrides or {})

        self._unannounced.append((seq, command, result))
        self._flush(derive)
        self._since_snapshot += 1
        if self._since_snapshot >= SNAPSHOT_EVERY and self._since_snapshot >= SNAPSHOT_PER_ITEM * self._state_items():
            self.snapshot()
        for listener in self.listeners:
            try:
                listener(seq, command, result)
            except Exception:  # a broken subscriber must not stop the exchange
                log.exception("listener failed")
        return seq, result

    def write(self, change: Callable[[Any], None], touches_fills: bool = True) -> None:
        """A change to the derived tables alone (no engine command), in its own transaction (with the open group,
        if any: everything written before it is then durable too). `touches_fills=False`: it writes nothing about
        fills (no trade, candle or counter), so what is computed from them stays valid (see `changes`)."""
        self.changes += touches_fills
        self._flush(change)

    def _flush(self, change: Callable[[Any], None]) -> None:
        grouped = GROUP_COMMIT.get() and self.schedule_commit is not None
        try:
            self.journal.flush(change, commit=not grouped)
        except Exception:
            log.critical("could not commit command %d; the in-memory engine is ahead of the disk: stopping",
                         self.journal.last_seq, exc_info=True)
            raise SystemExit(70) from None
        if not grouped:
            self._committed()
        elif not self._commit_scheduled:
            self._commit_scheduled = True
            self.schedule_commit(self.commit)  # type: ignore[misc]

    def commit(self) -> None:
        """Make the open group durable, then announce its commands and answer who waits for it."""
        self._commit_scheduled = False
        try:
            self.journal.commit()
        except Exception:
            log.critical("could not commit a group ending at command %d; stopping", self.journal.last_seq,
                         exc_info=True)
            raise SystemExit(70) from None
        self._committed()

    def committed(self) -> Any:
        """An awaitable done once everything written so far is durable: an API request's answer waits for it, so
        nothing is acknowledged before its group commits. Done at once when nothing waits."""
        loop = self.loop
        if loop is None:
            import asyncio
            loop = asyncio.get_running_loop()
        future = loop.create_future()
        if self.journal.uncommitted:
            self._waiters.append(future)
        else:
            future.set_result(None)
        return future

    def _committed(self) -> None:
        """Announcers hear each command once it is durable, in order (a stream never shows what a crash could
        undo); then the waiters are answered."""
        while self._unannounced:
            seq, command, result = self._unannounced.popleft()
            for announcer in self.announcers:
                try:
                    announcer(seq, command, result)
                except Exception:  # a broken subscriber must not stop the exchange
                    log.exception("announcer failed")
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)

    def _state_items(self) -> int:
        """Open orders and balances: what a snapshot writes, roughly."""
        engine = self.engine
        return len(engine.orders) + len(engine.ledger.balances)

    def snapshot(self) -> None:
        self.journal.save_snapshot(self.journal.last_seq, dump(self.engine))
        self._since_snapshot = 0

    def _derive(self, db: Any, seq: int, result: Result, now: int, overrides: dict[int, tuple[str, str]]) -> None:
        fills = []
        for event in result.events:
            if isinstance(event, OrderUpdate):
                if event.exec_type is ExecType.NEW:
                    continue  # inserted by the caller with what the maker signed
                status, reason = overrides.get(event.order_id, (None, None))
                store.update_order(db, event, now, status, reason)
            elif isinstance(event, Trade):
                store.insert_trade(db, event, seq, len(fills), event.maker_fee, event.taker_fee, now)
                if not fills:  # the command's first fill: what is derived from fills may have moved
                    self.changes += 1
                fills.append(Fill(event.trade_id, event.symbol, event.price, event.qty, event.quote,
                                  event.taker_order_id, event.taker_side is Side.BUY))
        self.history.record(db, fills, now)

    # --- commands the services use ---------------------------------------------------------------------------
    def cancel(self, account: str, symbol: str, order_id: int, status: str = "CANCELED",
               reason: str = "") -> Result:
        command = CancelOrder(account, symbol, order_id, ts=self.clock_ms())
        return self.submit(command, overrides={order_id: (status, reason)} if reason or status != "CANCELED"
                           else None)[1]

    def deposit(self, account: str, asset: str, amount: int, event_id: str, block: int) -> bool:
        """Credit a deposit seen on chain, once per event id."""
        if self.seen(event_id):
            return False
        self.submit(Deposit(account, asset, amount, ts=self.clock_ms()),
                    also=lambda db, seq, result: db.execute("INSERT INTO chain_events VALUES (?, ?)",
                                                            (event_id, block)))
        return True

    def seen(self, event_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM chain_events WHERE event_id = ?", (event_id,)).fetchone() is not None

    def mark_seen(self, event_id: str, block: int) -> None:
        self.write(lambda db: db.execute("INSERT OR IGNORE INTO chain_events VALUES (?, ?)", (event_id, block)))

    def free_up(self, account: str, asset: str, amount: int, reason: str) -> int:
        """Cancel the account's open orders that lock `asset`, newest first, until `amount` is free; the free
        balance afterwards (which may still be short)."""
        free = self.engine.balance(account, asset)[0]
        if free >= amount:
            return free
        for order in sorted(self.engine.orders.values(), key=lambda o: -o.order_id):
            if free >= amount:
                break
            market = self.markets.get(order.symbol).spec
            locks = market.quote.symbol if order.side is Side.BUY else market.base.symbol
            if order.account == account and locks == asset:
                self.cancel(account, order.symbol, order.order_id, "CANCELED", reason)
                free = self.engine.balance(account, asset)[0]
        return free

    def debit(self, account: str, asset: str, amount: int, reason: str,
              also: Callable[[Any], None] | None = None) -> int:
        """Take `amount` out of the ledger (freeing locked funds first); what could not be taken is recorded as a
        shortfall and returned. `also` is written in the same transaction as the debit."""
        free = self.free_up(account, asset, amount, reason)
        taken = min(free, amount)
        short = amount - taken

        def finish(db: Any) -> None:
            if short:
                db.execute("INSERT INTO shortfalls (account, asset, amount, reason) VALUES (?,?,?,?)",
                           (account, asset, str(short), reason))
            if also is not None:
                also(db)

        if short:
            log.error("shortfall: %s owes %d %s (%s)", account, short, asset, reason)
        if taken:
            self.submit(Withdraw(account, asset, taken, ts=self.clock_ms()), also=lambda db, seq, result: finish(db))
        else:
            self.write(finish)
        return short

    def reverse_trade(self, trade: dict[str, Any], reason: str) -> None:
        """Undo a fill the chain did not settle: every balance it moved goes back (orders stay as they are).
        Each move commits with the trade's `reversed` step, so a crash midway resumes where it stopped."""
        moves = trade_effects(trade, self.markets, self.fee_account)
        done = int(self.db.execute("SELECT reversed FROM trades WHERE trade_id = ?", (trade["trade_id"],))
                   .fetchone()[0])
        for step in range(done, len(moves)):
            payer, receiver, asset, amount = moves[step]
            why = f"reversing trade {trade['trade_id']}: {reason}"
            free = self.free_up(receiver, asset, amount, why) if amount > 0 else 0
            moved = min(free, amount)

            def finish(db: Any, step: int = step, short: int = amount - moved, account: str = receiver,
                       asset: str = asset) -> None:
                db.execute("UPDATE trades SET reversed = ? WHERE trade_id = ?", (step + 1, trade["trade_id"]))
                if short > 0:
                    db.execute("INSERT INTO shortfalls (account, asset, amount, reason) VALUES (?,?,?,?)",
                               (account, asset, str(short), why))

            if moved > 0:
                self.submit(Transfer(receiver, payer, asset, moved, ts=self.clock_ms()),
                            also=lambda db, seq, result, finish=finish: finish(db))
            else:
                self.write(finish)

    def resume_reversals(self) -> None:
        """Finish reversals a crash interrupted."""
        for trade in store.rows(self.db, "SELECT * FROM trades WHERE state = 'FAILED'"):
            if trade["reversed"] < len(trade_effects(trade, self.markets, self.fee_account)):
                self.reverse_trade(trade, trade["reason"])

    # --- reads -----------------------------------------------------------------------------------------------
    def balances(self, account: str) -> dict[str, tuple[int, int]]:
        return {asset: self.engine.balance(account, asset) for asset in self.markets.assets}

    def ledger(self) -> dict[tuple[str, str], int]:
        """Total (free + locked) per (account, asset), every account."""
        totals: dict[tuple[str, str], int] = {}
        for book in (self.engine.free, self.engine.locked):
            for key, value in book.items():
                totals[key] = totals.get(key, 0) + value
        return {k: v for k, v in totals.items() if v}

    def close(self) -> None:
        self.journal.close()


def trade_effects(trade: dict[str, Any], markets: Markets, fee_account: str) -> list[tuple[str, str, str, int]]:
    """The balance moves a trade made in the ledger, as (from, to, asset, amount) transfers."""
    spec = markets.get(trade["symbol"]).spec
    base, quote = spec.base_units(trade["qty"]), trade["quote"]
    maker_is_buyer = trade["taker_side"] == Side.SELL.value
    buyer, seller = (trade["maker"], trade["taker"]) if maker_is_buyer else (trade["taker"], trade["maker"])
    buyer_fee, buyer_fee_asset = (trade["maker_fee"], trade["maker_fee_asset"]) if maker_is_buyer else \
        (trade["taker_fee"], trade["taker_fee_asset"])
    seller_fee, seller_fee_asset = (trade["taker_fee"], trade["taker_fee_asset"]) if maker_is_buyer else \
        (trade["maker_fee"], trade["maker_fee_asset"])
    moves = []
    for payer, receiver, asset, amount, fee, fee_asset in (
            (seller, buyer, spec.base.symbol, base, buyer_fee, buyer_fee_asset),
            (buyer, seller, spec.quote.symbol, quote, seller_fee, seller_fee_asset)):
        if fee and fee_asset == asset:  # the fee came out of what was received
            moves += [(payer, receiver, asset, amount - fee), (payer, fee_account, asset, fee)]
        else:  # received in full; the fee (if any) was paid in the platform token
            moves.append((payer, receiver, asset, amount))
            if fee:
                moves.append((receiver, fee_account, fee_asset, fee))
    return moves


__all__ = ["ExchangeCore", "trade_effects"]

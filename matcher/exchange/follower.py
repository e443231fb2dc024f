"""Chain events in: the vault's deposits, escape-hatch requests, on-chain cancels and fee preferences become
journaled commands, each exactly once (event ids are recorded with the command that applies them). The cursor
survives restarts of the exchange and of the node; a failed poll is retried on the next tick.
"""

from __future__ import annotations

import logging
from typing import Any

from matcher.model import SetFeeDiscount, SetFeePreference, SetPlatformFeeRate

from . import store
from .core import ExchangeCore
from .listings import hold_unlisted
from .markets import Markets
from .vault import TOPIC_OF, VaultClient, VaultEvent

log = logging.getLogger("bourse.exchange.follower")
MAX_BLOCKS_PER_POLL = 2_000
FOLLOWED = ("Deposit", "WithdrawalRequested", "Withdraw", "OrderCancelled", "NonceFloorRaised", "AgentApproved",
            "AgentRevoked", "FeesInPlatformToken", "FeeDiscountSet", "PlatformTokenRateSet")
# the node filters the rest out (a batch's Filled logs are the settler's, read from its receipt)
FOLLOWED_TOPICS = [[TOPIC_OF[name] for name in FOLLOWED]]


class Follower:
    def __init__(self, core: ExchangeCore, vault: VaultClient, markets: Markets, confirmations: int = 0,
                 start_block: int = 0) -> None:
        self.core, self.vault, self.markets = core, vault, markets
        self.listings: Any = None  # a listings.Listings: the listing-vote contract's events join the vault's
        self.confirmations = confirmations
        self.on_agent: Any = None  # called with AgentApproved / AgentRevoked events
        if store.get_meta(core.db, "synced_block") is None:
            core.write(lambda db: store.set_meta(db, "synced_block", str(start_block - 1)))

    @property
    def synced_block(self) -> int:
        return int(store.get_meta(self.core.db, "synced_block") or -1)

    def fetch(self, synced: int) -> tuple[int, list[VaultEvent]]:
        """Blocking (run it off the event loop): the next range of blocks and its vault events."""
        head = self.vault.block_number() - self.confirmations
        if head <= synced:
            return synced, []
        to_block = min(head, synced + MAX_BLOCKS_PER_POLL)
        events = self.vault.events(synced + 1, to_block, FOLLOWED_TOPICS)
        if self.listings is not None:  # in block order with the vault's: a deposit after a listing is credited
            events = sorted(events + self.listings.events(synced + 1, to_block), key=lambda e: (e.block, e.log_index))
        return to_block, events

    def apply(self, to_block: int, events: list[VaultEvent]) -> None:
        """On the writer's thread: apply each event once, then advance the cursor (if it moved)."""
        for event in events:
            if not self.core.seen(event.event_id):
                self._handle(event)
        if to_block != self.synced_block:
            self.core.write(lambda db: store.set_meta(db, "synced_block", str(to_block)))

    def _handle(self, event: VaultEvent) -> None:
        """Apply one event. A vault event handled here must be named in FOLLOWED, or the node never sends it."""
        core, args = self.core, event.args
        if event.name == "Listed":
            self.listings.apply(event)
            return
        if event.name == "Deposit":
            asset = self.markets.by_token.get(args["token"])
            if asset is not None:
                core.deposit(args["user"], asset.symbol, args["amount"], event.event_id, event.block)
                return
            def hold(db: Any) -> None:  # in one transaction with the event's record
                hold_unlisted(db, args["user"], args["token"], args["amount"])
                db.execute("INSERT OR IGNORE INTO chain_events VALUES (?, ?)", (event.event_id, event.block))
            core.write(hold)
            return
        elif event.name == "WithdrawalRequested":
            self._escape(event)
            return
        elif event.name == "Withdraw" and not self._paid_by_operator(event.tx_hash):
            # the escape hatch's second step: the funds already left the ledger at the request
            core.write(lambda db: db.execute("UPDATE escape_requests SET pending = '0' WHERE account = ? AND token = ?",
                                             (args["user"], args["token"])))
        elif event.name == "OrderCancelled":
            for order in store.rows(core.db, "SELECT order_id, symbol, account FROM orders WHERE order_hash = ? AND "
                                    "status IN ('NEW', 'PARTIALLY_FILLED')", args["orderHash"]):
                core.cancel(order["account"], order["symbol"], order["order_id"], "CANCELED", "cancelled on chain")
        elif event.name == "NonceFloorRaised":
            self._nonce_floor(args["maker"], args["minNonce"])
        elif event.name in ("AgentApproved", "AgentRevoked") and self.on_agent is not None:
            self.on_agent(event)
        elif event.name == "FeesInPlatformToken":
            core.submit(SetFeePreference(args["user"], bool(args["enabled"]), ts=core.clock_ms()))
        elif event.name == "FeeDiscountSet":
            core.submit(SetFeeDiscount(args["discountBps"], ts=core.clock_ms()))
        elif event.name == "PlatformTokenRateSet":
            asset = self.markets.by_token.get(args["asset"])
            if asset is not None:
                core.submit(SetPlatformFeeRate(asset.symbol, args["rate"], ts=core.clock_ms()))
        core.mark_seen(event.event_id, event.block)

    def _paid_by_operator(self, tx_hash: str) -> bool:
        return self.core.db.execute("SELECT 1 FROM withdrawals WHERE tx_hash = ?", (tx_hash,)).fetchone() is not None

    def _escape(self, event: VaultEvent) -> None:
        """The user set funds aside on chain: they leave the ledger now, cancelling orders that lock them, so no
        new order is matched against them."""
        core, args = self.core, event.args
        asset = self.markets.by_token.get(args["token"])
        row = store.one(core.db, "SELECT pending FROM escape_requests WHERE account = ? AND token = ?",
                        args["user"], args["token"])
        delta = args["amount"] - (row["pending"] if row else 0)

        def record(db: object) -> None:
            db.execute("INSERT INTO escape_requests VALUES (?, ?, ?) ON CONFLICT(account, token) DO UPDATE SET "  # type: ignore[attr-defined]
                       "pending = excluded.pending", (args["user"], args["token"], str(args["amount"])))
            db.execute("INSERT OR IGNORE INTO chain_events VALUES (?, ?)", (event.event_id, event.block))  # type: ignore[attr-defined]

        if asset is not None and delta > 0:
            core.debit(args["user"], asset.symbol, delta, "escape-hatch withdrawal requested on chain", also=record)
        elif asset is None and delta > 0:  # a token not listed yet: what it will credit at listing shrinks
            def record_and_release(db: Any) -> None:
                record(db)
                hold_unlisted(db, args["user"], args["token"], -delta)
            core.write(record_and_release)
        else:
            core.write(record)

    def _nonce_floor(self, maker: str, floor: int) -> None:
        core = self.core
        core.write(lambda db: db.execute("INSERT INTO nonce_floors VALUES (?, ?) ON CONFLICT(account) DO UPDATE SET "
                                         "floor = excluded.floor", (maker, str(floor))))
        for order in store.rows(core.db, "SELECT order_id, symbol, nonce FROM orders WHERE account = ? AND "
                                "status IN ('NEW', 'PARTIALLY_FILLED')", maker):
            if order["nonce"] < floor:
                core.cancel(maker, order["symbol"], order["order_id"], "CANCELED", "cancelled on chain (nonce floor)")

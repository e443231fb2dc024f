"""The transaction pool: ready transactions apart from those waiting on a nonce gap, handed to blocks in
anvil's orders: `fees` (the highest priority fee first) or `fifo` (first come, first served), each sender's
transactions always in nonce order."""

from __future__ import annotations

import heapq
import itertools

from .errors import TransactionRejected
from .transactions import PendingTx


ORDERS = ("fees", "fifo")


class Pool:
    def __init__(self, order: str = "fees") -> None:
        if order not in ORDERS:
            raise ValueError(f"unknown transaction order {order!r} (known: {', '.join(ORDERS)})")
        self.order = order
        self._arrival: dict[bytes, int] = {}  # hash -> when it came: FIFO order, and ties under `fees`
        self._counter = itertools.count()
        self._ready: dict[bytes, list[PendingTx]] = {}  # sender -> consecutive nonces from the state nonce
        self._queued: dict[bytes, dict[int, PendingTx]] = {}  # sender -> nonce -> tx beyond a gap
        self.by_hash: dict[bytes, PendingTx] = {}

    def __len__(self) -> int:
        return len(self.by_hash)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self.by_hash

    def pending_nonce(self, sender: bytes, state_nonce: int) -> int:
        ready = self._ready.get(sender)
        return ready[-1].nonce + 1 if ready else state_nonce

    def add(self, tx: PendingTx, state_nonce: int) -> bool:
        """Add a transaction; True if it is ready to mine, False if it waits for a gap."""
        sender = tx.sender
        ready = self._ready.setdefault(sender, [])
        for i, old in enumerate(ready):
            if old.nonce == tx.nonce:
                self._check_replacement(old, tx)
                self._forget(old.hash)
                ready[i] = tx
                self._remember(tx)
                return True
        queued = self._queued.setdefault(sender, {})
        if tx.nonce in queued:
            old = queued[tx.nonce]
            self._check_replacement(old, tx)
            self._forget(old.hash)
        next_nonce = ready[-1].nonce + 1 if ready else state_nonce
        self._remember(tx)
        if tx.nonce != next_nonce:
            queued[tx.nonce] = tx
            return False
        ready.append(tx)
        self._promote(sender)
        return True

    def _remember(self, tx: PendingTx) -> None:
        self.by_hash[tx.hash] = tx
        self._arrival[tx.hash] = next(self._counter)

    def _forget(self, tx_hash: bytes) -> None:
        del self.by_hash[tx_hash]
        self._arrival.pop(tx_hash, None)

    @staticmethod
    def _check_replacement(old: PendingTx, new: PendingTx) -> None:
        if new.max_fee() <= old.max_fee() or new.tip() <= old.tip():
            raise TransactionRejected("replacement transaction underpriced")

    def _promote(self, sender: bytes) -> None:
        ready, queued = self._ready[sender], self._queued.get(sender, {})
        while queued and ready[-1].nonce + 1 in queued:
            ready.append(queued.pop(ready[-1].nonce + 1))

    def _key(self, tx: PendingTx, base_fee: int | None) -> tuple[int, ...]:
        if self.order == "fifo":
            return (self._arrival[tx.hash],)
        tip = tx.tip() if base_fee is None else min(tx.tip(), tx.max_fee() - base_fee)
        return (-tip, self._arrival[tx.hash])

    def ready(self, base_fee: int | None = None) -> list[PendingTx]:
        """Ready transactions in the pool's order: each step takes the best of every sender's next transaction
        (`fees`: the highest priority fee it pays over `base_fee`, then the earliest; `fifo`: the earliest)."""
        key = self._key
        heap = [(key(txs[0], base_fee), sender, 0) for sender, txs in self._ready.items() if txs]
        heapq.heapify(heap)
        out: list[PendingTx] = []
        while heap:
            _, sender, index = heapq.heappop(heap)
            txs = self._ready[sender]
            out.append(txs[index])
            if index + 1 < len(txs):
                heapq.heappush(heap, (key(txs[index + 1], base_fee), sender, index + 1))
        return out

    def first_ready(self, base_fee: int | None = None) -> PendingTx | None:
        """The transaction `ready` would give first."""
        heads = [txs[0] for txs in self._ready.values() if txs]
        return min(heads, key=lambda tx: self._key(tx, base_fee)) if heads else None

    def queued(self) -> list[PendingTx]:
        return [tx for q in self._queued.values() for tx in sorted(q.values(), key=lambda t: t.nonce)]

    def remove(self, tx_hash: bytes) -> PendingTx | None:
        tx = self.by_hash.get(tx_hash)
        if tx is None:
            return None
        self._forget(tx_hash)
        ready = self._ready.get(tx.sender, [])
        if tx in ready:
            ready.remove(tx)
        else:
            self._queued.get(tx.sender, {}).pop(tx.nonce, None)
        return tx

    def resync(self, sender: bytes, state_nonce: int) -> list[PendingTx]:
        """Re-sort a sender after mining or a nonce edit; returns transactions made stale."""
        stale = []
        everything = {t.nonce: t for t in self._ready.pop(sender, [])}
        everything.update(self._queued.pop(sender, {}))
        for nonce in sorted(everything):
            tx = everything[nonce]
            if nonce < state_nonce:
                stale.append(tx)
                self._forget(tx.hash)
        ready: list[PendingTx] = []
        queued: dict[int, PendingTx] = {}
        expected = state_nonce
        for nonce in sorted(n for n in everything if n >= state_nonce):
            if nonce == expected:
                ready.append(everything[nonce])
                expected += 1
            else:
                queued[nonce] = everything[nonce]
        if ready:
            self._ready[sender] = ready
        if queued:
            self._queued[sender] = queued
        return stale

    def clear(self) -> None:
        self._ready.clear()
        self._queued.clear()
        self.by_hash.clear()
        self._arrival.clear()

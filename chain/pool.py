"""The transaction pool: ready transactions apart from those waiting on a nonce gap."""

from __future__ import annotations

from .errors import TransactionRejected
from .transactions import PendingTx


class Pool:
    def __init__(self) -> None:
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
                del self.by_hash[old.hash]
                ready[i] = tx
                self.by_hash[tx.hash] = tx
                return True
        queued = self._queued.setdefault(sender, {})
        if tx.nonce in queued:
            old = queued[tx.nonce]
            self._check_replacement(old, tx)
            del self.by_hash[old.hash]
        next_nonce = ready[-1].nonce + 1 if ready else state_nonce
        self.by_hash[tx.hash] = tx
        if tx.nonce != next_nonce:
            queued[tx.nonce] = tx
            return False
        ready.append(tx)
        self._promote(sender)
        return True

    @staticmethod
    def _check_replacement(old: PendingTx, new: PendingTx) -> None:
        if new.max_fee() <= old.max_fee() or new.tip() <= old.tip():
            raise TransactionRejected("replacement transaction underpriced")

    def _promote(self, sender: bytes) -> None:
        ready, queued = self._ready[sender], self._queued.get(sender, {})
        while queued and ready[-1].nonce + 1 in queued:
            ready.append(queued.pop(ready[-1].nonce + 1))

    def ready(self) -> list[PendingTx]:
        """Ready transactions, senders with higher tips first, each sender in nonce order."""
        senders = sorted((s for s in self._ready if self._ready[s]), key=lambda s: -self._ready[s][0].tip())
        return [tx for s in senders for tx in self._ready[s]]

    def first_ready(self) -> PendingTx | None:
        for txs in self._ready.values():
            if txs:
                return txs[0]
        return None

    def queued(self) -> list[PendingTx]:
        return [tx for q in self._queued.values() for tx in sorted(q.values(), key=lambda t: t.nonce)]

    def remove(self, tx_hash: bytes) -> PendingTx | None:
        tx = self.by_hash.pop(tx_hash, None)
        if tx is None:
            return None
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
                del self.by_hash[tx.hash]
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

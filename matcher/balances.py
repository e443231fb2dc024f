"""The engine's ledger: every account's free and locked balance per asset.

One `Balance` object per (account, asset): an order keeps a reference to the
balance it locks, so releasing it costs no lookup, and the balances a command
changed are tracked by identity for its balance events.
"""

from __future__ import annotations

from typing import Any

# (account, asset). Typed Any rather than tuple[str, str] because a compiled build keeps a fixed-length tuple
# unboxed, and boxing it again (as a dict key, or into an event) allocates a new tuple.
Key = Any


def put_at(items: list[Any], count: int, item: Any) -> int:
    """Store `item` as entry `count` of a list that is reused rather than emptied (its first `count` entries are the
    live ones; clearing it would free its storage and the next append allocate it again); the new count."""
    if count < len(items):
        items[count] = item
    else:
        items.append(item)
    return count + 1


class Balance:
    __slots__ = ("key", "free", "locked", "changed")

    def __init__(self, key: Key) -> None:
        self.key = key
        self.free = 0
        self.locked = 0
        self.changed = False  # by the current command (it is in Ledger.changed)

    def __repr__(self) -> str:
        return f"Balance({self.key!r}, free={self.free}, locked={self.locked})"


class Ledger:
    def __init__(self) -> None:
        self.balances: dict[Key, Balance] = {}
        # the balances the current command changed, in order: the first `count` entries (the list is reused, not
        # cleared, so that recording a change allocates nothing)
        self.changed: list[Balance] = []
        self.count = 0

    def _touch(self, balance: Balance) -> None:
        if not balance.changed:
            balance.changed = True
            self.count = put_at(self.changed, self.count, balance)

    def take_changed(self) -> list[Balance]:
        """The balances changed since the last call, in the order they first changed."""
        changed = self.changed[:self.count]
        for balance in changed:
            balance.changed = False
        self.count = 0
        return changed

    def get(self, key: Key) -> Balance:
        balance = self.balances.get(key)
        if balance is None:
            balance = self.balances[key] = Balance(key)
        return balance

    def free(self, key: Key) -> int:
        balance = self.balances.get(key)
        return 0 if balance is None else balance.free

    # Each check is made on the result, against 0: a balance is usually beyond 64 bits and an amount is not, and a
    # compiled build boxes the amount into a new object for every comparison of the two (the result is boxed anyway).
    def add_free(self, balance: Balance, amount: int) -> None:
        value = balance.free + amount
        assert value >= 0, f"free balance of {balance.key} would go negative"
        balance.free = value
        self._touch(balance)

    def add_locked(self, balance: Balance, amount: int) -> None:
        value = balance.locked + amount
        assert value >= 0, f"locked balance of {balance.key} would go negative"
        balance.locked = value
        self._touch(balance)

    def try_lock(self, balance: Balance, amount: int) -> bool:
        """Move `amount` from free to locked, if the free balance holds it (else change nothing: False)."""
        free = balance.free - amount
        if free < 0:
            return False
        balance.free = free
        balance.locked += amount
        self._touch(balance)
        return True

    def try_relock(self, balance: Balance, released: int, amount: int) -> bool:
        """Release `released` of the locked balance and lock `amount` in its place, if free plus what is released
        holds it (else release only: False). As `unlock` then `try_lock`, with one change to each figure."""
        delta = amount - released
        free = balance.free - delta
        if free < 0:
            self.unlock(balance, released)
            return False
        locked = balance.locked + delta
        assert locked >= 0, f"locked balance of {balance.key} would go negative"
        balance.free = free
        balance.locked = locked
        self._touch(balance)
        return True

    def unlock(self, balance: Balance, amount: int) -> None:
        locked = balance.locked - amount
        assert locked >= 0, f"locked balance of {balance.key} would go negative"
        balance.locked = locked
        balance.free += amount
        self._touch(balance)

    def free_view(self) -> dict[Key, int]:
        """Non-zero free balances by (account, asset)."""
        return {key: b.free for key, b in self.balances.items() if b.free}

    def locked_view(self) -> dict[Key, int]:
        """Non-zero locked balances by (account, asset)."""
        return {key: b.locked for key, b in self.balances.items() if b.locked}

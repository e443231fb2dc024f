"""The engine's ledger: every account's free and locked balance per asset.

One `Balance` object per (account, asset): an order keeps a reference to the
balance it locks, so releasing it costs no lookup, and the balances a command
changed are tracked by identity for its balance events.

A balance is kept in two limbs, `hi * 2**62 + lo` with `0 <= lo < 2**62`: wei balances run past 64 bits, and
a Python int that large is an object, so every change to it allocated a new one (and a compiled build boxed the
amount to add it, and compared the result with 0 through the generic protocol). An order's amounts fit in 61 bits,
so a change is a native add to `lo` unless it carries into `hi` (rarely: `lo` spans 4.6e18); `hi` stays >= 0,
so a balance is negative only if a carry makes it so, checked where it happens. The limbs are the ledger's own
business: `free` and `locked` read and set the whole amount.
"""

from __future__ import annotations

from typing import Any, Final

from mypy_extensions import i64

# (account, asset). Typed Any rather than tuple[str, str] because a compiled build keeps a fixed-length tuple
# unboxed, and boxing it again (as a dict key, or into an event) allocates a new tuple.
Key = Any

LIMB_BITS: Final = 62  # 0 <= lo < 2**62: tested as `lo >> LIMB_BITS == 0` (a 2**62 constant would be boxed)
LOW_MASK: Final = (1 << 62) - 1
SMALL: Final = 1 << 61  # amounts of less than this size are added to a limb natively


def joined(hi: int, lo: i64) -> int:
    """The amount a pair of limbs holds."""
    if hi == 0:
        return lo
    return (hi << LIMB_BITS) + int(lo)  # (int(): an int plus an i64 is worked out as an i64)


def high_limb(value: int) -> int:
    return value >> LIMB_BITS


def low_limb(value: int) -> i64:
    return i64(value & LOW_MASK)


def put_at(items: list[Any], count: int, item: Any) -> int:
    """Store `item` as entry `count` of a list that is reused rather than emptied (its first `count` entries are the
    live ones; clearing it would free its storage and the next append allocate it again); the new count."""
    if count < len(items):
        items[count] = item
    else:
        items.append(item)
    return count + 1


class Balance:
    __slots__ = ("key", "free_hi", "free_lo", "locked_hi", "locked_lo", "changed")

    def __init__(self, key: Key) -> None:
        self.key = key
        self.free_hi = 0
        self.free_lo: i64 = 0
        self.locked_hi = 0
        self.locked_lo: i64 = 0
        self.changed = False  # by the current command (it is in Ledger.changed)

    @property
    def free(self) -> int:
        return joined(self.free_hi, self.free_lo)

    @free.setter
    def free(self, value: int) -> None:
        self.free_hi, self.free_lo = high_limb(value), low_limb(value)

    @property
    def locked(self) -> int:
        return joined(self.locked_hi, self.locked_lo)

    @locked.setter
    def locked(self, value: int) -> None:
        self.locked_hi, self.locked_lo = high_limb(value), low_limb(value)

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

    # Each method changes the low limbs natively when the amounts are small and nothing carries; otherwise it works
    # on the whole amounts (the reference for what the native path does). An int added to an i64 is converted to
    # one by a compiled build (natively: the amounts are checked to be small first), so no i64() call is written,
    # which in the sources would be a call for nothing.
    def add_free(self, balance: Balance, amount: int) -> None:
        if -SMALL < amount < SMALL:
            lo = balance.free_lo + amount
            if lo >> LIMB_BITS == 0:
                balance.free_lo = lo
                self._touch(balance)
                return
        value = balance.free + amount
        assert value >= 0, f"free balance of {balance.key} would go negative"
        balance.free = value
        self._touch(balance)

    def add_locked(self, balance: Balance, amount: int) -> None:
        if -SMALL < amount < SMALL:
            lo = balance.locked_lo + amount
            if lo >> LIMB_BITS == 0:
                balance.locked_lo = lo
                self._touch(balance)
                return
        value = balance.locked + amount
        assert value >= 0, f"locked balance of {balance.key} would go negative"
        balance.locked = value
        self._touch(balance)

    def try_lock(self, balance: Balance, amount: int) -> bool:
        """Move `amount` from free to locked, if the free balance holds it (else change nothing: False)."""
        if 0 <= amount < SMALL:
            free = balance.free_lo - amount
            locked = balance.locked_lo + amount
            if (free | locked) >> LIMB_BITS == 0:
                balance.free_lo = free
                balance.locked_lo = locked
                self._touch(balance)
                return True
        value = balance.free - amount
        if value < 0:
            return False
        balance.free = value
        balance.locked = balance.locked + amount
        self._touch(balance)
        return True

    def try_relock(self, balance: Balance, released: int, amount: int) -> bool:
        """Release `released` of the locked balance and lock `amount` in its place, if free plus what is released
        holds it (else release only: False). As `unlock` then `try_lock`, with one change to each figure."""
        if 0 <= released < SMALL and 0 <= amount < SMALL:
            delta = amount - released
            free = balance.free_lo - delta
            locked = balance.locked_lo + delta
            if (free | locked) >> LIMB_BITS == 0:  # both in the low limb's range
                balance.free_lo = free
                balance.locked_lo = locked
                self._touch(balance)
                return True
        delta_value = amount - released
        value = balance.free - delta_value
        if value < 0:
            self.unlock(balance, released)
            return False
        locked_value = balance.locked + delta_value
        assert locked_value >= 0, f"locked balance of {balance.key} would go negative"
        balance.free = value
        balance.locked = locked_value
        self._touch(balance)
        return True

    def unlock(self, balance: Balance, amount: int) -> None:
        if 0 <= amount < SMALL:
            locked = balance.locked_lo - amount
            free = balance.free_lo + amount
            if (free | locked) >> LIMB_BITS == 0:
                balance.locked_lo = locked
                balance.free_lo = free
                self._touch(balance)
                return
        value = balance.locked - amount
        assert value >= 0, f"locked balance of {balance.key} would go negative"
        balance.locked = value
        balance.free = balance.free + amount
        self._touch(balance)

    def free_view(self) -> dict[Key, int]:
        """Non-zero free balances by (account, asset)."""
        return {key: b.free for key, b in self.balances.items() if b.free}

    def locked_view(self) -> dict[Key, int]:
        """Non-zero locked balances by (account, asset)."""
        return {key: b.locked for key, b in self.balances.items() if b.locked}

"""World state: a flat live state with incremental tries, and journaled overlays.

`LiveState` holds the head state as plain dicts plus one trie per account for
the state root. Everything that executes (a block, an eth_call) runs on an
`Overlay`: py-evm's account-database interface over any `StateReader`, writing
into its own dicts with an undo log for checkpoints. A mined block's overlay is
folded into the live state with `LiveState.apply`, which returns the inverse
diff; the storage layer keeps those inverses as history, so any past state can
be read (`HistoricReader`) or restored (`evm_revert`) without keeping old trie
nodes around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from eth.abc import AccountDatabaseAPI
from eth.db.journal import get_next_checkpoint

from .hashing import keccak
from .trie import BLANK_ROOT, Trie, encode_bytes, encode_list, encode_uint

EMPTY_CODE_HASH = keccak(b"")

# (nonce, balance, code_hash); None means the account does not exist.
Account = tuple[int, int, bytes]
EMPTY_ACCOUNT: Account = (0, 0, EMPTY_CODE_HASH)
_MISSING = object()


class StateReader(Protocol):
    def account(self, address: bytes) -> Account | None: ...

    def storage(self, address: bytes, slot: int) -> int: ...

    def code(self, code_hash: bytes) -> bytes: ...


@dataclass
class StateDiff:
    """New values for every touched key; `wiped` storage is cleared first."""

    accounts: dict[bytes, Account | None] = field(default_factory=dict)
    storage: dict[bytes, dict[int, int]] = field(default_factory=dict)
    wiped: set[bytes] = field(default_factory=set)
    codes: dict[bytes, bytes] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.accounts or self.storage or self.wiped)


def encode_account(account: Account, storage_root: bytes) -> bytes:
    nonce, balance, code_hash = account
    return encode_list(encode_uint(nonce) + encode_uint(balance) + encode_bytes(storage_root) + encode_bytes(code_hash))


class LiveState:
    """The head state: flat dicts for reads, tries for the root."""

    def __init__(self) -> None:
        self.accounts: dict[bytes, Account] = {}
        self.slots: dict[bytes, dict[int, int]] = {}
        self.codes: dict[bytes, bytes] = {EMPTY_CODE_HASH: b""}
        self._account_trie = Trie()
        self._storage_tries: dict[bytes, Trie] = {}

    remote: Any = None  # a fork's chain.fork.RemoteState: where what this state has not seen yet is read from

    # StateReader
    def account(self, address: bytes) -> Account | None:
        found = self.accounts.get(address)
        if found is None and self.remote is not None and address not in self.remote.seen:
            found = self._fetch_account(address)
        return found

    def storage(self, address: bytes, slot: int) -> int:
        slots = self.slots.get(address)
        value = slots.get(slot, 0) if slots else 0
        if value or self.remote is None:
            return value
        seen = self.remote.seen
        if address not in seen:
            self._fetch_account(address)
        key = address + slot.to_bytes(32, "big")
        if key in seen or address + b"W" in seen:
            return 0
        return self._fetch_slot(address, slot, key)

    # -- a fork's first reads ------------------------------------------------------------
    def _fetch_account(self, address: bytes) -> Account | None:
        remote = self.remote
        account, code = remote.account(address)
        remote.mark(address)
        markers = [address]
        if account is None:  # absent at the fork block: nothing in its storage there either
            remote.mark(address + b"W")
            markers.append(address + b"W")
        else:
            diff = StateDiff(accounts={address: account})
            if code:
                diff.codes[account[2]] = code
            self._apply(diff)
        remote.keep(markers, account and (address, account, code), None)
        return account

    def _fetch_slot(self, address: bytes, slot: int, key: bytes) -> int:
        remote = self.remote
        value = remote.slot(address, slot)
        remote.mark(key)
        if value:
            self._apply(StateDiff(storage={address: {slot: value}}))
        remote.keep([key], None, (address, slot, value) if value else None)
        return value

    def _settle(self, diff: StateDiff) -> None:
        """Before a local write on a fork: read what it overwrites from the remote first (so undo values and
        history are the fork's), and from then on the written keys are local."""
        remote = self.remote
        for address in {*diff.accounts, *diff.storage, *diff.wiped}:
            if address not in remote.seen:
                self.account(address)
        for address, slots in diff.storage.items():
            for slot in slots:
                self.storage(address, slot)
        for address in diff.wiped:
            if address + b"W" not in remote.seen:
                remote.mark(address + b"W")
                remote.keep([address + b"W"], None, None)

    def code(self, code_hash: bytes) -> bytes:
        return self.codes.get(code_hash, b"")

    def state_root(self) -> bytes:
        return self._account_trie.root_hash()

    def storage_root(self, address: bytes) -> bytes:
        trie = self._storage_tries.get(address)
        return trie.root_hash() if trie is not None else BLANK_ROOT

    def account_proof(self, address: bytes) -> list[bytes]:
        return self._account_trie.proof(address)

    def storage_proof(self, address: bytes, slot: int) -> list[bytes]:
        trie = self._storage_tries.get(address)
        return trie.proof(slot.to_bytes(32, "big")) if trie is not None else []

    def apply(self, diff: StateDiff) -> StateDiff:
        """Fold `diff` into the state; return the diff that undoes it."""
        if self.remote is not None:
            self._settle(diff)
        return self._apply(diff)

    def _apply(self, diff: StateDiff) -> StateDiff:
        undo = StateDiff()
        touched: set[bytes] = set()
        for address in diff.wiped:
            old = self.slots.pop(address, {})
            self._storage_tries.pop(address, None)
            if old:
                undo.storage.setdefault(address, {}).update(old)
            touched.add(address)
        for address, slots in diff.storage.items():
            live = self.slots.get(address)
            if live is None:
                live = self.slots[address] = {}
            trie = self._storage_tries.get(address)
            if trie is None:
                trie = self._storage_tries[address] = Trie()
            old_slots = undo.storage.setdefault(address, {})
            for slot, value in slots.items():
                old = live.get(slot, 0)
                if slot not in old_slots:
                    old_slots[slot] = old
                key = slot.to_bytes(32, "big")
                if value:
                    live[slot] = value
                    trie.set(key, encode_uint(value))
                elif old:
                    del live[slot]
                    trie.delete(key)
            if not live:
                del self.slots[address]
                del self._storage_tries[address]
            touched.add(address)
        self.codes.update(diff.codes)
        for address, account in diff.accounts.items():
            undo.accounts[address] = self.accounts.get(address)
            if account is None:
                self.accounts.pop(address, None)
            else:
                self.accounts[address] = account
            touched.add(address)
        for address in touched:
            account = self.accounts.get(address)
            key = address
            if account is None:
                if address in self.slots:  # storage without an account: keep it reachable
                    account = self.accounts[address] = EMPTY_ACCOUNT
                    undo.accounts.setdefault(address, None)
                else:
                    self._account_trie.delete(key)
                    continue
            self._account_trie.set(key, encode_account(account, self.storage_root(address)))
        for address in list(undo.storage):
            if not undo.storage[address]:
                del undo.storage[address]
        return undo


class Overlay(AccountDatabaseAPI):
    """py-evm's account database over a reader, journaled and discardable."""

    def __init__(self, base: StateReader) -> None:
        self._base = base
        self._accounts: dict[bytes, Account | None] = {}
        self._storage: dict[bytes, dict[int, int]] = {}
        self._wiped: set[bytes] = set()
        self._codes: dict[bytes, bytes] = {}
        # (restore function, key, old value): plain functions, not bound methods, so an overlay holds no reference
        # to itself and is freed the moment it is dropped (a cycle would wait for the collector: every eth_call)
        self._undo: list[tuple[Callable[..., None], Any, Any]] = []
        self._checkpoints: dict[int, int] = {}
        self._warm: set[Any] = set()
        self._tx_original: dict[tuple[bytes, int], int] = {}

    # -- the result --------------------------------------------------------
    def diff(self) -> StateDiff:
        return StateDiff(
            accounts=dict(self._accounts),
            storage={a: dict(s) for a, s in self._storage.items()},
            wiped=set(self._wiped),
            codes=dict(self._codes),
        )

    # -- state root (not tracked by overlays) ------------------------------
    @property
    def state_root(self) -> bytes:  # type: ignore[override]
        return BLANK_ROOT

    @state_root.setter
    def state_root(self, value: bytes) -> None:
        pass

    def has_root(self, state_root: bytes) -> bool:
        return False

    def make_state_root(self) -> bytes:
        raise NotImplementedError("overlays have no state root; the live state computes it")

    def persist(self) -> Any:
        raise NotImplementedError("overlays are folded into the live state by the block builder")

    # -- accounts ------------------------------------------------------------
    def _get(self, address: bytes) -> Account | None:
        account = self._accounts.get(address, _MISSING)
        if account is _MISSING:
            return self._base.account(address)
        return account  # type: ignore[return-value]

    def _put(self, address: bytes, account: Account | None) -> None:
        self._undo.append((Overlay._restore_account, address, self._accounts.get(address, _MISSING)))
        self._accounts[address] = account

    def _restore_account(self, address: bytes, old: Any) -> None:
        if old is _MISSING:
            del self._accounts[address]
        else:
            self._accounts[address] = old

    def get_balance(self, address: bytes) -> int:
        account = self._get(address)
        return account[1] if account else 0

    def set_balance(self, address: bytes, balance: int) -> None:
        if not 0 <= balance < 2**256:
            raise ValueError(f"balance out of range: {balance}")
        nonce, _, code_hash = self._get(address) or EMPTY_ACCOUNT
        self._put(address, (nonce, balance, code_hash))

    def get_nonce(self, address: bytes) -> int:
        account = self._get(address)
        return account[0] if account else 0

    def set_nonce(self, address: bytes, nonce: int) -> None:
        _, balance, code_hash = self._get(address) or EMPTY_ACCOUNT
        self._put(address, (nonce, balance, code_hash))

    def increment_nonce(self, address: bytes) -> None:
        self.set_nonce(address, self.get_nonce(address) + 1)

    def get_code_hash(self, address: bytes) -> bytes:
        account = self._get(address)
        return account[2] if account else EMPTY_CODE_HASH

    def get_code(self, address: bytes) -> bytes:
        code_hash = self.get_code_hash(address)
        if code_hash == EMPTY_CODE_HASH:
            return b""
        code = self._codes.get(code_hash)
        return code if code is not None else self._base.code(code_hash)

    def set_code(self, address: bytes, code: bytes) -> None:
        code_hash = keccak(code)
        self._codes[code_hash] = code
        nonce, balance, _ = self._get(address) or EMPTY_ACCOUNT
        self._put(address, (nonce, balance, code_hash))

    def delete_code(self, address: bytes) -> None:
        nonce, balance, _ = self._get(address) or EMPTY_ACCOUNT
        self._put(address, (nonce, balance, EMPTY_CODE_HASH))

    def account_has_code_or_nonce(self, address: bytes) -> bool:
        account = self._get(address)
        return bool(account) and (account[0] != 0 or account[2] != EMPTY_CODE_HASH)  # type: ignore[index]

    def account_exists(self, address: bytes) -> bool:
        return self._get(address) is not None

    def touch_account(self, address: bytes) -> None:
        if self._get(address) is None:
            self._put(address, EMPTY_ACCOUNT)

    def account_is_empty(self, address: bytes) -> bool:
        account = self._get(address)
        return account is None or account == EMPTY_ACCOUNT or (
            account[0] == 0 and account[1] == 0 and account[2] == EMPTY_CODE_HASH
        )

    def delete_account(self, address: bytes) -> None:
        self.delete_storage(address)
        self._put(address, None)

    # -- storage -------------------------------------------------------------
    def get_storage(self, address: bytes, slot: int, from_journal: bool = True) -> int:
        if not from_journal:
            original = self._tx_original.get((address, slot), _MISSING)
            if original is not _MISSING:
                return original  # type: ignore[return-value]
        slots = self._storage.get(address)
        if slots is not None and slot in slots:
            return slots[slot]
        if address in self._wiped:
            return 0
        return self._base.storage(address, slot)

    def set_storage(self, address: bytes, slot: int, value: int) -> None:
        key = (address, slot)
        if key not in self._tx_original:
            self._tx_original[key] = self.get_storage(address, slot)
        slots = self._storage.get(address)
        if slots is None:
            slots = self._storage[address] = {}
        self._undo.append((Overlay._restore_slot, key, slots.get(slot, _MISSING)))
        slots[slot] = value

    def _restore_slot(self, key: tuple[bytes, int], old: Any) -> None:
        address, slot = key
        if old is _MISSING:
            del self._storage[address][slot]
        else:
            self._storage[address][slot] = old

    def delete_storage(self, address: bytes) -> None:
        self._undo.append((Overlay._restore_wipe, address, (self._storage.get(address), address in self._wiped)))
        self._storage[address] = {}
        self._wiped.add(address)

    def _restore_wipe(self, address: bytes, old: tuple[dict[int, int] | None, bool]) -> None:
        slots, was_wiped = old
        if slots is None:
            self._storage.pop(address, None)
        else:
            self._storage[address] = slots
        if not was_wiped:
            self._wiped.discard(address)

    # -- EIP-2929 access sets ------------------------------------------------
    def is_address_warm(self, address: bytes) -> bool:
        return address in self._warm

    def mark_address_warm(self, address: bytes) -> None:
        if address not in self._warm:
            self._warm.add(address)
            self._undo.append((Overlay._unwarm, address, None))

    def is_storage_warm(self, address: bytes, slot: int) -> bool:
        return (address, slot) in self._warm

    def mark_storage_warm(self, address: bytes, slot: int) -> None:
        key = (address, slot)
        if key not in self._warm:
            self._warm.add(key)
            self._undo.append((Overlay._unwarm, key, None))

    def _unwarm(self, key: Any, _: Any) -> None:
        self._warm.discard(key)

    # -- checkpoints ---------------------------------------------------------
    def record(self) -> Any:
        checkpoint = get_next_checkpoint()  # shared with py-evm's journals, which reuse our ids
        self._checkpoints[checkpoint] = len(self._undo)
        return checkpoint

    def discard(self, checkpoint: Any) -> None:
        mark = self._checkpoints[checkpoint]
        undo = self._undo
        while len(undo) > mark:
            restore, key, old = undo.pop()
            restore(self, key, old)
        for cp in [cp for cp in self._checkpoints if cp >= checkpoint]:
            del self._checkpoints[cp]

    def commit(self, checkpoint: Any) -> None:
        for cp in [cp for cp in self._checkpoints if cp >= checkpoint]:
            del self._checkpoints[cp]

    def lock_changes(self) -> None:
        """A new transaction starts: forget access sets and original values."""
        self._warm = set()
        self._tx_original = {}


class HistoricReader:
    """The state as it was after block `number`, read through recorded undo values."""

    def __init__(self, live: LiveState, number: int, history: "HistorySource") -> None:
        self._live, self._number, self._history = live, number, history

    def account(self, address: bytes) -> Account | None:
        found, value = self._history.account_after(address, self._number)
        return value if found else self._live.account(address)

    def storage(self, address: bytes, slot: int) -> int:
        found, value = self._history.storage_after(address, slot, self._number)
        return value if found else self._live.storage(address, slot)

    def code(self, code_hash: bytes) -> bytes:
        return self._live.code(code_hash)


class HistorySource(Protocol):
    def account_after(self, address: bytes, number: int) -> tuple[bool, Account | None]: ...

    def storage_after(self, address: bytes, slot: int, number: int) -> tuple[bool, int]: ...

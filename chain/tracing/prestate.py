"""geth's prestateTracer: the accounts (and storage slots) a transaction touched, as they were before it; with
`diffMode`, only what it changed, before (`pre`) and after (`post`)."""

from __future__ import annotations

from typing import Any

from ..execution import PRECOMPILES
from ..state import Overlay
from .hooks import Tracer


class FrozenState:
    """The state at one moment of a replay (a copy of the overlay's changes over its reader)."""

    def __init__(self, overlay: Overlay) -> None:
        self._base = overlay._base
        self._diff = overlay.diff()

    def account(self, address: bytes) -> Any:
        if address in self._diff.accounts:
            return self._diff.accounts[address]
        return self._base.account(address)

    def storage(self, address: bytes, slot: int) -> int:
        slots = self._diff.storage.get(address)
        if slots is not None and slot in slots:
            return slots[slot]
        if address in self._diff.wiped:
            return 0
        return self._base.storage(address, slot)

    def code(self, code_hash: bytes) -> bytes:
        return self._diff.codes.get(code_hash) or self._base.code(code_hash)


class PrestateTracer(Tracer):
    def __init__(self, config: dict[str, Any] | None = None) -> None:
        config = config or {}
        self.diff_mode = bool(config.get("diffMode", False))
        self.disable_code = bool(config.get("disableCode", False))
        self.disable_storage = bool(config.get("disableStorage", False))
        self.before: FrozenState | None = None
        self.called: set[bytes] = set()  # every frame's target: precompiles and new contracts included

    def before_transaction(self, overlay: Overlay) -> None:
        self.before = FrozenState(overlay)

    def enter(self, frame: Any) -> None:
        self.called.add(bytes(frame.to))

    def result(self, overlay: Overlay, sender: bytes, to: bytes | None, coinbase: bytes) -> dict[str, Any]:
        assert self.before is not None
        after = FrozenState(overlay)
        addresses: set[bytes] = {sender, coinbase} | ({to} if to else set())
        slots: dict[bytes, set[int]] = {}
        for key in overlay._warm:
            if isinstance(key, tuple):
                slots.setdefault(key[0], set()).add(key[1])
                addresses.add(key[0])
            elif key not in PRECOMPILES:
                addresses.add(key)
        addresses |= self.called | set(overlay.diff().accounts)  # created or destroyed accounts too
        if not self.diff_mode:
            out = {}
            for address in sorted(addresses):
                entry = self._account(self.before, address, slots.get(address, set()))
                if entry is not None:
                    out[_addr(address)] = entry
            return out
        pre: dict[str, Any] = {}
        post: dict[str, Any] = {}
        for address in sorted(addresses):
            old = self._account(self.before, address, slots.get(address, set()))
            new = self._account(after, address, slots.get(address, set()))
            if old == new:
                continue
            if old is not None:
                pre[_addr(address)] = old
            if new is not None:
                changed = {k: v for k, v in new.items() if k != "storage" and (old is None or old.get(k) != v)}
                storage = {s: v for s, v in new.get("storage", {}).items()
                           if old is None or old.get("storage", {}).get(s) != v}
                if storage:
                    changed["storage"] = storage
                post[_addr(address)] = changed
            if old is not None and "storage" in old and new is not None:
                pre[_addr(address)]["storage"] = {s: v for s, v in old["storage"].items()
                                                  if new.get("storage", {}).get(s) != v}
                if not pre[_addr(address)]["storage"]:
                    del pre[_addr(address)]["storage"]
        return {"pre": pre, "post": post}

    def _account(self, state: FrozenState, address: bytes, slots: set[int]) -> dict[str, Any] | None:
        account = state.account(address)
        if account is None:
            return None if self.diff_mode else {"balance": "0x0"}  # an account the transaction touched before it existed
        nonce, balance, code_hash = account
        entry: dict[str, Any] = {"balance": hex(balance)}
        if nonce:
            entry["nonce"] = nonce
        if not self.disable_code:
            code = state.code(code_hash)
            if code:
                entry["code"] = "0x" + code.hex()
        if not self.disable_storage and slots:
            values = {s: state.storage(address, s) for s in sorted(slots)}
            storage = {"0x" + s.to_bytes(32, "big").hex(): "0x" + v.to_bytes(32, "big").hex()
                       for s, v in values.items() if v or not self.diff_mode}
            if storage:
                entry["storage"] = storage
        return entry


def _addr(address: bytes) -> str:
    return "0x" + address.hex()

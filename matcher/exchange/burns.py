"""Burning the platform-token fees the exchange collected: per epoch (every N blocks) or on demand.

A burn takes what the fee account holds in the platform token off the ledger (a journaled Withdraw, with its row
PENDING in the same transaction), waits until every fill up to that moment has settled (the vault credits a fee only
when its fill settles), then has the operator call the vault's `burnFees`, which burns it through the token's own
`burn`. Crash-safe as withdrawals are: the signed transaction is stored (SIGNED) before it is sent, and re-sent or
found after a restart; a burn the vault refuses is put back on the ledger (FAILED). Each burn is reported with its
epoch, amount, transaction and the token's total supply before and after.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from matcher.model import Deposit, Withdraw

from . import store
from .core import ExchangeCore

log = logging.getLogger("bourse.exchange.burns")
SCHEMA = """
CREATE TABLE IF NOT EXISTS burns (
    id INTEGER PRIMARY KEY, epoch INTEGER NOT NULL, kind TEXT NOT NULL, asset TEXT NOT NULL, amount TEXT NOT NULL,
    until_trade INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', raw TEXT, tx_hash TEXT,
    block INTEGER, supply_before TEXT, supply_after TEXT, created_ms INTEGER NOT NULL);
"""
OPEN = ("PENDING", "SIGNED")


def burn_fees_calldata(amount: int) -> bytes:
    return function_signature_to_4byte_selector("burnFees(uint256)") + encode(["uint256"], [amount])


def total_supply(rpc: Any, token: str, block: int | str = "latest") -> int:
    data = "0x" + function_signature_to_4byte_selector("totalSupply()").hex()
    return int(rpc.call("eth_call", {"to": token, "data": data}, block if isinstance(block, str) else hex(block)), 16)


class Burns:
    def __init__(self, core: ExchangeCore, asset: str, token: str, every_blocks: int = 0) -> None:
        """`asset`/`token`: the platform token (its symbol on the ledger, its address); `every_blocks`: the epoch
        length (0: only on demand)."""
        self.core, self.asset, self.token, self.every_blocks = core, asset, token, every_blocks
        core.db.executescript(SCHEMA)

    def request(self, epoch: int, kind: str = "epoch") -> dict[str, Any] | None:
        """Take the fee account's platform-token balance off the ledger to burn it; None if there is nothing.
        `kind`: "epoch" (the timer's, for the epoch that ended) or "demand" (`bourse burn`)."""
        core = self.core
        free = core.balances(core.fee_account).get(self.asset, (0, 0))[0]
        if free <= 0:
            return None
        now = core.clock_ms()
        last_trade = core.db.execute("SELECT COALESCE(MAX(trade_id), 0) FROM trades").fetchone()[0]

        def also(db: Any, seq: int, result: Any) -> None:
            if result.ok:
                db.execute("INSERT INTO burns (id, epoch, kind, asset, amount, until_trade, state, created_ms) VALUES "
                           "(?,?,?,?,?,?,?,?)", (seq, epoch, kind, self.asset, str(free), last_trade, "PENDING", now))

        seq, result = core.submit(Withdraw(core.fee_account, self.asset, free, ts=now), also=also)
        return self.view(seq) if result.ok else None

    def due_epoch(self, block: int) -> int | None:
        """The epoch (of `every_blocks` blocks) that has ended by `block` and has no burn yet, if there is one."""
        if not self.every_blocks:
            return None
        ended = block // self.every_blocks - 1
        if ended < 0:
            return None
        last = self.core.db.execute("SELECT MAX(epoch) FROM burns WHERE kind = 'epoch'").fetchone()[0]
        return ended if last is None or ended > last else None

    def report(self) -> list[dict[str, Any]]:
        return [self._json(row) for row in store.rows(self.core.db, "SELECT * FROM burns ORDER BY id")]

    def view(self, burn_id: int) -> dict[str, Any]:
        return self._json(store.one(self.core.db, "SELECT * FROM burns WHERE id = ?", burn_id) or {})

    def in_flight(self, as_of: int) -> list[dict[str, Any]]:
        """Burns the ledger has made and the vault had not yet at block `as_of` (for the ledger snapshot)."""
        return store.rows(self.core.db, "SELECT * FROM burns WHERE state IN ('PENDING', 'SIGNED') OR "
                          "(state = 'CONFIRMED' AND block > ?)", as_of)

    @staticmethod
    def _json(row: dict[str, Any]) -> dict[str, Any]:
        return {"id": row["id"], "epoch": row["epoch"], "kind": row["kind"], "asset": row["asset"], "amount": str(row["amount"]),
                "state": row["state"], "reason": row["reason"], "txHash": row["tx_hash"], "block": row["block"],
                "supplyBefore": row["supply_before"], "supplyAfter": row["supply_after"], "time": row["created_ms"]}

    # --- the settler's part ------------------------------------------------------------------------------------
    async def step(self, settler: Any) -> None:
        """Resume burns already signed, start those whose fills have all settled, and open the epoch's burn."""
        rpc = settler.vault.rpc
        for row in store.rows(self.core.db, "SELECT * FROM burns WHERE state = 'SIGNED' ORDER BY id"):
            await self._finish(settler, row)
        for row in store.rows(self.core.db, "SELECT * FROM burns WHERE state = 'PENDING' ORDER BY id"):
            unsettled = self.core.db.execute("SELECT 1 FROM trades WHERE trade_id <= ? AND state IN ('PENDING', "
                                             "'SUBMITTED') LIMIT 1", (row["until_trade"],)).fetchone()
            if unsettled:
                continue  # the vault credits a fee when its fill settles: burn only what it holds
            amount = int(row["amount"])
            data = burn_fees_calldata(amount)
            reason = await asyncio.to_thread(settler.vault.simulate, settler.operator, data)
            if reason is not None:
                self._put_back(row, reason)
                continue
            before = await asyncio.to_thread(total_supply, rpc, self.token)
            raw, tx_hash = await asyncio.to_thread(settler._sign, data)
            self.core.write(lambda db, r=raw, h=tx_hash, b=before, i=row["id"]: db.execute(
                "UPDATE burns SET state = 'SIGNED', raw = ?, tx_hash = ?, supply_before = ? WHERE id = ?",
                (r, h, str(b), i)))
            await self._finish(settler, store.one(self.core.db, "SELECT * FROM burns WHERE id = ?", row["id"]))
        if self.every_blocks:
            block = await asyncio.to_thread(rpc.block_number)
            epoch = self.due_epoch(block)
            if epoch is not None:
                self.request(epoch)

    async def _finish(self, settler: Any, row: dict[str, Any]) -> None:
        receipt = await asyncio.to_thread(settler._send_and_wait, row["raw"], row["tx_hash"], None)
        if receipt is None:
            return
        if int(receipt["status"], 16) != 1:
            self._put_back(row, "burnFees reverted")
            return
        block = int(receipt["blockNumber"], 16)
        rpc = settler.vault.rpc
        before = await asyncio.to_thread(total_supply, rpc, self.token, block - 1)
        after = await asyncio.to_thread(total_supply, rpc, self.token, block)
        self.core.write(lambda db: db.execute(
            "UPDATE burns SET state = 'CONFIRMED', block = ?, supply_before = ?, supply_after = ? WHERE id = ?",
            (block, str(before), str(after), row["id"])))

    def _put_back(self, row: dict[str, Any], reason: str) -> None:
        log.warning("burn %d failed (%s): the fees go back on the ledger", row["id"], reason)
        self.core.submit(Deposit(self.core.fee_account, row["asset"], int(row["amount"]), ts=self.core.clock_ms()),
                         also=lambda db, seq, result: db.execute(
                             "UPDATE burns SET state = 'FAILED', reason = ? WHERE id = ?", (reason, row["id"])))

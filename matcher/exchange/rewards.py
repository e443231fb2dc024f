"""Trade mining ("transaction is mining"): per epoch, a reward in the platform token split in proportion to the fees
each account paid, published as a Merkle root on the distributor, claimed by each account with its proof.

An epoch covers the settled fills after the previous epoch's last one; one is closed on demand, or each time N blocks
have passed (`--reward-every-blocks`). Each account's weight is the fees it paid
there, in platform-token units: a fee paid in the platform token counts as it is, a fee in another asset at the rate
the vault publishes for it (the engine's fee schedule); an asset without a rate does not count. Each account gets
`reward x weight // total weight` (rounded down: the leaves never add up to more than the reward). Everything comes
from the trades table, which the journal rebuilds, so an epoch's root is computed again identically after a crash
(`compute`). The root is published by the operator as batches are: signed and stored before it is sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from contracts.merkle import build

from . import store
from .settler import pause_point
from .core import ExchangeCore

log = logging.getLogger("bourse.exchange.rewards")
SCHEMA = """
CREATE TABLE IF NOT EXISTS reward_epochs (
    epoch INTEGER PRIMARY KEY, from_trade INTEGER NOT NULL, to_trade INTEGER NOT NULL, reward TEXT NOT NULL,
    root TEXT NOT NULL, total TEXT NOT NULL, leaves TEXT NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
    raw TEXT, tx_hash TEXT, block INTEGER, created_ms INTEGER NOT NULL);
"""
SCALE = 10**18


def publish_calldata(epoch: int, root: bytes, total: int) -> bytes:
    return merkle_call("publish(uint256,bytes32,uint256)", ["uint256", "bytes32", "uint256"], [epoch, root, total])


def merkle_call(signature: str, types: list[str], values: list[Any]) -> bytes:
    from eth_abi import encode
    from eth_utils import function_signature_to_4byte_selector
    return function_signature_to_4byte_selector(signature) + encode(types, values)


class Rewards:
    def __init__(self, core: ExchangeCore, distributor: str, platform_asset: str, reward_per_epoch: int,
                 every_blocks: int = 0) -> None:
        """`every_blocks`: close an epoch each time that many blocks have passed (0: only on demand)."""
        self.core, self.distributor = core, distributor
        self.platform_asset, self.reward_per_epoch = platform_asset, reward_per_epoch
        self.every_blocks = every_blocks
        core.db.executescript(SCHEMA)

    # --- epochs ----------------------------------------------------------------------------------------------
    def compute(self, from_trade: int, to_trade: int, reward: int) -> dict[str, int]:
        """Each account's reward for the fills with from_trade < trade_id <= to_trade (settled ones only)."""
        rates = self.core.engine.fee_policy.rates
        weights: dict[str, int] = {}
        for t in store.rows(self.core.db, "SELECT maker, taker, maker_fee, taker_fee, maker_fee_asset, "
                            "taker_fee_asset FROM trades WHERE trade_id > ? AND trade_id <= ? AND state = 'CONFIRMED' "
                            "ORDER BY trade_id", from_trade, to_trade):
            for account, fee, asset in ((t["maker"], t["maker_fee"], t["maker_fee_asset"]),
                                        (t["taker"], t["taker_fee"], t["taker_fee_asset"])):
                weight = fee if asset == self.platform_asset else fee * rates.get(asset, 0) // SCALE
                if weight and account != self.core.fee_account:
                    weights[account] = weights.get(account, 0) + weight
        total = sum(weights.values())
        return {account: reward * weight // total for account, weight in sorted(weights.items())} if total else {}

    def close_epoch(self) -> dict[str, Any] | None:
        """Open the next epoch's distribution over the fills settled since the last one; None if none paid a fee
        (or fills before them are still settling)."""
        db = self.core.db
        last = db.execute("SELECT COALESCE(MAX(to_trade), 0), COALESCE(MAX(epoch), 0) FROM reward_epochs").fetchone()
        unsettled = db.execute("SELECT MIN(trade_id) FROM trades WHERE state IN ('PENDING', 'SUBMITTED')").fetchone()[0]
        top = db.execute("SELECT COALESCE(MAX(trade_id), 0) FROM trades").fetchone()[0]
        to_trade = top if unsettled is None else unsettled - 1
        if to_trade <= last[0]:
            return None
        amounts = {a: n for a, n in self.compute(last[0], to_trade, self.reward_per_epoch).items() if n}
        if not amounts:
            return None
        epoch = last[1] + 1
        tree = build(epoch, amounts)
        total = sum(amounts.values())
        now = self.core.clock_ms()
        self.core.write(lambda db: db.execute(
            "INSERT INTO reward_epochs (epoch, from_trade, to_trade, reward, root, total, leaves, state, created_ms) "
            "VALUES (?,?,?,?,?,?,?,?,?)", (epoch, last[0], to_trade, str(self.reward_per_epoch),
                                          "0x" + tree.root.hex(), str(total),
                                          json.dumps({a: str(n) for a, n in amounts.items()}), "PENDING", now)))
        return self.view(epoch)

    def epochs(self) -> list[dict[str, Any]]:
        return [self._json(r) for r in store.rows(self.core.db, "SELECT * FROM reward_epochs ORDER BY epoch")]

    def view(self, epoch: int) -> dict[str, Any]:
        return self._json(store.one(self.core.db, "SELECT * FROM reward_epochs WHERE epoch = ?", epoch) or {})

    def proofs(self, account: str) -> list[dict[str, Any]]:
        """The account's reward and proof in every published epoch it earned in."""
        from eth_utils import to_checksum_address
        account = to_checksum_address(account)
        out = []
        for row in store.rows(self.core.db, "SELECT * FROM reward_epochs WHERE state = 'CONFIRMED' ORDER BY epoch"):
            amounts = {a: int(n) for a, n in json.loads(row["leaves"]).items()}
            if account not in amounts:
                continue
            tree = build(row["epoch"], amounts)
            out.append({"epoch": row["epoch"], "account": account, "amount": str(amounts[account]),
                        "proof": ["0x" + p.hex() for p in tree.proofs[account]], "root": row["root"],
                        "distributor": self.distributor})
        return out

    @staticmethod
    def _json(row: dict[str, Any]) -> dict[str, Any]:
        return {"epoch": row["epoch"], "fromTrade": row["from_trade"], "toTrade": row["to_trade"],
                "reward": row["reward"], "total": row["total"], "root": row["root"], "state": row["state"],
                "reason": row["reason"], "txHash": row["tx_hash"], "block": row["block"],
                "accounts": len(json.loads(row["leaves"]))}

    # --- the settler's part ----------------------------------------------------------------------------------
    def due(self, block: int) -> bool:
        """Whether a period of `every_blocks` has ended at `block` since the last one an epoch was closed for."""
        if not self.every_blocks:
            return False
        ended = block // self.every_blocks - 1
        last = store.get_meta(self.core.db, "rewards_last_period")
        return ended >= 0 and (last is None or ended > int(last))

    def close_due(self, block: int) -> dict[str, Any] | None:
        """The timer's epoch: closed when a period has ended (the period is recorded even when nothing was paid)."""
        if not self.due(block):
            return None
        closed = self.close_epoch()
        period = block // self.every_blocks - 1
        self.core.write(lambda db: store.set_meta(db, "rewards_last_period", str(period)))
        return closed

    async def step(self, settler: Any) -> None:
        """Close the timer's epoch when due, then publish each epoch's root once, through the operator: signed and
        stored, then sent (or found)."""
        if self.every_blocks:
            self.close_due(await asyncio.to_thread(settler.vault.rpc.block_number))
        for row in store.rows(self.core.db, "SELECT * FROM reward_epochs WHERE state IN ('PENDING', 'SIGNED') "
                              "ORDER BY epoch"):
            if row["state"] == "PENDING":
                data = publish_calldata(row["epoch"], bytes.fromhex(row["root"][2:]), int(row["total"]))
                reason = await asyncio.to_thread(settler.vault.simulate, settler.operator, data, self.distributor)
                if reason is not None:
                    log.warning("reward epoch %d cannot be published: %s", row["epoch"], reason)
                    self.core.write(lambda db, e=row["epoch"], r=reason: db.execute(
                        "UPDATE reward_epochs SET state = 'FAILED', reason = ? WHERE epoch = ?", (r, e)))
                    continue
                raw, tx_hash = await asyncio.to_thread(settler._sign, data, None, self.distributor)
                self.core.write(lambda db, e=row["epoch"], r=raw, h=tx_hash: db.execute(
                    "UPDATE reward_epochs SET state = 'SIGNED', raw = ?, tx_hash = ? WHERE epoch = ?", (r, h, e)))
                row = store.one(self.core.db, "SELECT * FROM reward_epochs WHERE epoch = ?", row["epoch"])
                pause_point("reward_signed")
            receipt = await asyncio.to_thread(settler._send_and_wait, row["raw"], row["tx_hash"], None)
            if receipt is None:
                continue
            pause_point("reward_sent")
            ok = int(receipt["status"], 16) == 1
            self.core.write(lambda db, e=row["epoch"], b=int(receipt["blockNumber"], 16), s=ok: db.execute(
                "UPDATE reward_epochs SET state = ?, block = ?, reason = ? WHERE epoch = ?",
                ("CONFIRMED" if s else "FAILED", b, "" if s else "publish reverted", e)))


__all__ = ["Rewards"]

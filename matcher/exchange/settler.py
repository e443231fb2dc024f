"""Fills and withdrawals out: batches of fills settled on the vault, operator withdrawals paid, exactly once.

A batch: PENDING fills (oldest first, up to `batch_size`, or fewer once the oldest has waited `batch_interval`)
-> simulated and sized with eth_estimateGas; a revert is bisected over prefixes to the first bad fill, which FAILS
(its balances are reversed and its open orders expired) -> signed through the policy signer -> stored with its raw transaction
(fills SUBMITTED) -> sent -> its receipt makes them CONFIRMED, or FAILED where the vault skipped them (reversed).
Batch ids count up from the highest this ledger has stored (or the vault's `lastBatchId` for a fresh ledger), each
stored with its batch, so they strictly increase; after a crash, a stored batch is found by its hash, by the vault's
`lastBatchId` and BatchSettled log, or re-sent as the same raw transaction: the vault refuses a batch id twice.

Once a batch has settled, the next ones skip the simulation: their gas limit is 1.5x the most gas per fill the vault
has used in this run, so the chain runs each batch once (the vault skips the fills it must not settle - cancelled,
expired - rather than reverting). The limit also allows each nonce word the batch marks a first write
(FRESH_WORD_GAS): a word of orders no batch has settled yet costs a zero-to-nonzero store, and a batch whose makers'
nonces are spread (each order in a word of its own) pays that per order - ~20,000 gas a fill more than the batches
the gas per fill was learnt from. A batch that reverts anyway (an out-of-gas too) loses nothing: its fills go back
to PENDING and the next batch is simulated again, bisecting to the bad fill.

The settler does not poll for fills: the core tells it of each command once it is durable (`hear`), and it wakes
as soon as a batch's worth of fills waits, or the batch in flight has its receipt (`wait_for_work`); otherwise it
looks again after a short timeout (a partial batch's interval, withdrawals and the other chores).

Two batches overlap: while one is sent and mined, the next is built, signed (the following nonce, the fees the last
receipt implies, nothing asked of the node) and stored; it is sent once the first one's receipt is in, and the
first one's outcome is recorded while the node mines the second. Anything else the operator signs (withdrawals,
approvals, burns, reward roots), and any batch that must be simulated, waits until no batch is in flight
(`drain`), so the operator's transactions stay in nonce order and simulations see the chain the last batch left.
A batch that reverts while the next is in flight puts its fills back to PENDING, and they settle in a later batch
with a higher id (a fill of the batch in flight that needed their balances is skipped by the vault and reversed, as
any skipped fill; reverts are rare: the gas limit leaves half again the most gas per fill seen).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from contracts.settlement import NONCE_WORD_SHIFT, Order
from matcher.model import Command, Result, Trade
from wallet.errors import RpcError
from wallet.transactions import GAS_MARGIN_PERCENT, build_transaction, suggested_fees

from . import store
from .core import ExchangeCore
from .vault import (SKIP_REASONS, TOPIC_OF, VaultClient, approve_agent_by_sig_calldata,
                    operator_withdraw_calldata, settle_calldata)

log = logging.getLogger("bourse.exchange.settler")
PAUSE_ENV = "BOURSE_EXCHANGE_PAUSE_AT"  # test hook: stop dead at a named point so a test can SIGKILL us there
CHORES_EVERY = 1.0  # seconds: under a steady stream of full batches, withdrawals and the rest still go out this
# often (or once per batch interval, if longer); otherwise on every pass
FRESH_WORD_GAS = 20_000  # a nonce word's first write (zero to nonzero, 22,100) over a later one (cold, 2,100 + 2,900)
ORDER_COLUMNS = ("order_id, account, side, base_amount, vault_price, expiry, nonce, max_fee_bps, "
                 "max_platform_fee_rate, signature")  # what a fill's two signed orders are built from (_fill)


def pause_point(name: str) -> None:
    if os.environ.get(PAUSE_ENV) == name:
        sys.stderr.write(f"PAUSED at {name}\n")
        sys.stderr.flush()
        while True:
            time.sleep(3600)


@dataclass
class InFlight:
    """A batch sent (or being sent) whose outcome is not recorded yet: the task ends with its receipt."""
    batch: dict[str, Any]
    nonce: int
    task: asyncio.Task[dict[str, Any] | None]


class Settler:
    def __init__(self, core: ExchangeCore, vault: VaultClient, signer: Any, operator: str, batch_size: int = 100,
                 batch_interval: float = 1.0, start_block: int = 0) -> None:
        self.core, self.vault, self.signer, self.operator = core, vault, signer, operator
        self.start_block = start_block  # no batch of ours settled before it (the vault's deployment, or later)
        self.batch_size, self.batch_interval = batch_size, batch_interval
        if store.get_meta(core.db, "batch_id_base") is None:  # a fresh ledger on a vault that settled before
            base = vault.last_batch_id()
            core.write(lambda db: store.set_meta(db, "batch_id_base", str(base)))
        self.batch_id_base = int(store.get_meta(core.db, "batch_id_base") or 0)
        self.platform_token = vault.platform_token()  # immutable: fees paid in it move a balance of a batch's
        self.chain_id = vault.rpc.chain_id()
        self.fees: tuple[int, int] | None = None  # (max fee, tip) per gas for a batch signed while one is in flight
        self.in_flight: InFlight | None = None
        self.fills_waiting = 0  # PENDING fills as of the last look plus those heard of since (an upper bound)
        self._enough_fills = asyncio.Event()  # set once `fills_waiting` reaches a batch
        self._chores_due = 0.0
        self.gas_per_fill = 0  # the most gas per fill a batch of ours used in this run (0: none settled yet)
        self.simulate_next = True  # after a start or a reverted batch, simulate (and estimate) before sending
        self._block_gas_limit: int | None = None
        self.burns: Any = None  # the fee burner (burns.Burns), set by the service
        self.rewards: Any = None  # trade mining (rewards.Rewards), set by the service

    # --- one pass -----------------------------------------------------------------------------------------------
    async def step(self) -> bool:
        """One pass; True when it sent a full batch (more fills may be waiting: no pause before the next)."""
        if self.in_flight is None:  # after a start or a failed pass: what was signed goes out first, in order
            for batch in store.rows(self.core.db, "SELECT * FROM batches WHERE state = 'SIGNED' ORDER BY batch_id"):
                await self._resume_batch(batch)
            for withdrawal in store.rows(self.core.db,
                                         "SELECT * FROM withdrawals WHERE state = 'SIGNED' ORDER BY id"):
                await self._resume_withdrawal(withdrawal)
        if self.in_flight is None or time.monotonic() >= self._chores_due:
            self._chores_due = time.monotonic() + max(CHORES_EVERY, self.batch_interval)
            await self.drain()  # the rest signs with the operator's next nonce too
            await self._pay_withdrawals()
            await self._submit_agent_approvals()
            if self.burns is not None:
                await self.burns.step(self)
            if self.rewards is not None:
                await self.rewards.step(self)
        return await self._settle_due()

    def hear(self, seq: int, command: Command, result: Result) -> None:
        """A core announcer: each fill of a durable command waits for settlement; a batch's worth wakes the settler."""
        fills = sum(isinstance(event, Trade) for event in result.events) if result.log else 0
        if fills:
            self.fills_waiting += fills
            if self.fills_waiting >= self.batch_size:
                self._enough_fills.set()

    async def wait_for_work(self, timeout: float) -> None:
        """After a pass that sent no full batch: wait until a batch's worth of fills waits, the batch in flight has
        its receipt (its outcome is then recorded), or `timeout` passes. A batch in flight keeps going meanwhile, so
        the next one is built and signed while it is mined."""
        if self.fills_waiting >= self.batch_size:
            return
        enough = asyncio.ensure_future(self._enough_fills.wait())
        waits: list[asyncio.Future[Any]] = [enough]
        if self.in_flight is not None:
            waits.append(self.in_flight.task)
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            enough.cancel()
        if self.in_flight is not None and self.in_flight.task.done():
            await self.drain()

    async def drain(self) -> None:
        """Wait for the batch in flight, if any, and record its outcome: what the operator signs next takes the
        nonce after it, and a simulation sees the chain it left."""
        flight, self.in_flight = self.in_flight, None
        if flight is not None:
            await self._land(flight.batch, await flight.task)

    async def _settle_due(self) -> bool:
        db = self.core.db
        pending = store.rows(db, "SELECT * FROM trades WHERE state = 'PENDING' ORDER BY trade_id LIMIT ?",
                             self.batch_size)
        self.fills_waiting = len(pending)  # and maybe more when it is a full batch: the next pass looks again
        self._enough_fills.clear()
        if not pending:
            return False
        waited = self.core.clock_ms() - pending[0]["time_ms"]
        if len(pending) < self.batch_size and waited < self.batch_interval * 1000:
            return False
        await self.settle(pending)
        return len(pending) == self.batch_size

    async def settle(self, trades: list[dict[str, Any]]) -> None:
        trades, batch_id, data, gas = await self._drop_bad_fills(trades)
        if not trades:
            return
        ids = [t["trade_id"] for t in trades]
        behind = self.in_flight
        raw, tx_hash, nonce = await asyncio.to_thread(self._sign_batch, data, gas,
                                                      None if behind is None else behind.nonce + 1)

        def record(db: Any) -> None:
            store.save_batch(db, batch_id, "SIGNED", ids, raw, tx_hash, self.core.clock_ms())
            store.set_trade_states(db, ids, store.SUBMITTED, batch_id=batch_id, tx_hash=tx_hash)

        self.core.write(record)
        pause_point("batch_signed" if behind is None else "batch_signed_behind")
        batch = store.one(self.core.db, "SELECT * FROM batches WHERE batch_id = ?", batch_id)
        assert batch is not None
        if behind is None:
            self.in_flight = self._launch(batch, nonce)
            return
        self.in_flight = None
        receipt = await behind.task  # raises if it could not be sent: this batch stays SIGNED, resumed in order
        if receipt is not None:
            self.in_flight = self._launch(batch, nonce)
        await self._land(behind.batch, receipt)

    def _launch(self, batch: dict[str, Any], nonce: int) -> InFlight:
        """Send a batch signed in this run (so never sent before) and wait for its receipt, in a thread."""
        def send() -> dict[str, Any] | None:
            self.vault.rpc.send_raw(bytes.fromhex(batch["raw"][2:]))
            return self.vault.rpc.wait_for_receipt(batch["tx_hash"], timeout=60)
        return InFlight(batch, nonce, asyncio.create_task(asyncio.to_thread(send)))

    # --- batches ---------------------------------------------------------------------------------------------
    def _learnt_gas_limit(self, fills: int, nonce_words: int) -> int | None:
        """A gas limit for a batch of `fills` whose orders mark `nonce_words` words, from the gas per fill seen, when
        one may be sent unsimulated (see the module's note)."""
        if self.simulate_next or not self.gas_per_fill:
            return None
        if self._block_gas_limit is None:
            self._block_gas_limit = int(self.vault.rpc.call("eth_getBlockByNumber", "latest", False)["gasLimit"], 16)
        limit = 50_000 + fills * self.gas_per_fill * 3 // 2 + nonce_words * FRESH_WORD_GAS
        return limit if limit <= self._block_gas_limit * 9 // 10 else None

    async def _drop_bad_fills(self, trades: list[dict[str, Any]]
                              ) -> tuple[list[dict[str, Any]], int, bytes, int | None]:
        """The good fills, their batch id, calldata and gas limit. Unsimulated when the gas per fill is known (see
        the module's note); else simulated (eth_estimateGas: it also sizes the transaction) and, while the batch
        reverts, the first fill whose prefix reverts (eth_call) is failed."""
        trades = list(trades)
        ids = sorted({t["maker_order_id"] for t in trades} | {t["taker_order_id"] for t in trades})
        orders = {row["order_id"]: row for row in store.rows(  # one query for the batch, not two per fill
            self.core.db, f"SELECT {ORDER_COLUMNS} FROM orders WHERE order_id IN ({','.join('?' * len(ids))})",
            *ids)}
        fills = [self._fill(t, orders) for t in trades]
        batch_id = self._next_batch_id()
        words = len({(row["account"].lower(), row["nonce"] >> NONCE_WORD_SHIFT) for row in orders.values()})
        learnt = self._learnt_gas_limit(len(fills), words)
        if learnt is None and self.in_flight is not None:  # its receipt may teach the gas per fill; else the
            await self.drain()  # simulation must run on the chain it leaves
            learnt = self._learnt_gas_limit(len(fills), words)
        if learnt is not None:
            return trades, batch_id, settle_calldata(batch_id, fills, self.platform_token), learnt
        while trades:
            data = settle_calldata(batch_id, fills, self.platform_token)
            gas, reason = await asyncio.to_thread(self.vault.estimate, self.operator, data)
            if reason is None:
                assert gas is not None
                return trades, batch_id, data, gas * (100 + GAS_MARGIN_PERCENT) // 100
            if "stale batch id" in reason:
                raise RuntimeError(f"the vault has settled batch {batch_id} or later already: {reason}")
            low, high = 1, len(fills)  # smallest failing prefix: fills[:high] reverts
            while low < high:
                middle = (low + high) // 2
                if await asyncio.to_thread(self._simulate, batch_id, fills[:middle]) is None:
                    low = middle + 1
                else:
                    high = middle
            bad = trades[high - 1]
            bad_reason = await asyncio.to_thread(self._simulate, batch_id, fills[:high]) or reason
            log.warning("fill %d fails settlement (%s): failing it", bad["trade_id"], bad_reason)
            self._fail(bad, bad_reason, expire_orders=True)
            del trades[high - 1], fills[high - 1]
        return [], 0, b"", None

    def _next_batch_id(self) -> int:
        stored = self.core.db.execute("SELECT MAX(batch_id) FROM batches").fetchone()[0]
        return max(self.batch_id_base, stored or 0) + 1

    async def _resume_batch(self, batch: dict[str, Any]) -> None:
        """A stored SIGNED batch, which may have been sent before a crash: found, or sent again."""
        receipt = await asyncio.to_thread(self._send_and_wait, batch["raw"], batch["tx_hash"], batch["batch_id"])
        await self._land(batch, receipt)

    async def _land(self, batch: dict[str, Any], receipt: dict[str, Any] | None) -> None:
        pause_point("batch_sent")
        if receipt is None:
            return  # not mined yet; the next pass looks again
        self._finalize(batch, receipt)
        pause_point("batch_confirmed")

    def _send_and_wait(self, raw: str, tx_hash: str, batch_id: int | None) -> dict[str, Any] | None:
        rpc = self.vault.rpc
        receipt = rpc.receipt(tx_hash)
        if receipt is None and batch_id is not None and self.vault.last_batch_id() >= batch_id:
            receipt = self._receipt_of_batch(batch_id)
        if receipt is None:
            try:
                rpc.send_raw(bytes.fromhex(raw[2:]))
            except RpcError as exc:
                if "already known" not in exc.message and "nonce too low" not in exc.message:
                    raise
            receipt = rpc.wait_for_receipt(tx_hash, timeout=60)
        return receipt

    def _receipt_of_batch(self, batch_id: int) -> dict[str, Any] | None:
        """The receipt of the transaction that settled `batch_id`, found by its BatchSettled log."""
        topics = [TOPIC_OF["BatchSettled"], "0x" + batch_id.to_bytes(32, "big").hex()]
        event = self.vault.newest_event(self.start_block, self.vault.block_number(), topics)
        if event is None or event.name != "BatchSettled" or event.args["batchId"] != batch_id:
            return None
        return self.vault.rpc.receipt(event.tx_hash)

    def _finalize(self, batch: dict[str, Any], receipt: dict[str, Any]) -> None:
        ids = store.batch_trade_ids(batch)
        block = int(receipt["blockNumber"], 16)
        if self.fees is not None and receipt.get("effectiveGasPrice"):  # what it paid = that block's base fee + tip
            tip = self.fees[1]
            base_fee = int(receipt["effectiveGasPrice"], 16) - tip
            if base_fee >= 0:
                self.fees = (2 * base_fee + tip, tip)
        if int(receipt["status"], 16) != 1:
            log.warning("batch %d reverted on chain; its fills go back to PENDING (the next batch is simulated)",
                        batch["batch_id"])
            self.simulate_next = True

            def retry(db: Any) -> None:
                store.save_batch(db, batch["batch_id"], "REVERTED", ids, batch["raw"], batch["tx_hash"],
                                 batch["created_ms"], block)
                db.executemany("UPDATE trades SET state = 'PENDING', batch_id = NULL, tx_hash = NULL "
                               "WHERE trade_id = ?", [(t,) for t in ids])
            self.core.write(retry)
            return
        skipped = {e.args["index"]: SKIP_REASONS.get(e.args["reason"], str(e.args["reason"]))
                   for e in self.vault.receipt_events(receipt, ("FillSkipped",)) if e.args["batchId"] == batch["batch_id"]}
        confirmed = [t for i, t in enumerate(ids) if i not in skipped]
        tx_hash = receipt["transactionHash"]
        self.gas_per_fill = max(self.gas_per_fill, int(receipt["gasUsed"], 16) // max(1, len(ids)))
        self.simulate_next = False

        def record(db: Any) -> None:
            store.save_batch(db, batch["batch_id"], "CONFIRMED", ids, batch["raw"], tx_hash, batch["created_ms"],
                             block)
            store.set_trade_states(db, confirmed, store.CONFIRMED, tx_hash=tx_hash, block=block)
        self.core.write(record)
        for index, reason in sorted(skipped.items()):
            trade = store.one(self.core.db, "SELECT * FROM trades WHERE trade_id = ?", ids[index])
            self._fail(trade, f"skipped by the vault: {reason}", expire_orders=False, block=block)  # type: ignore[arg-type]

    def _fail(self, trade: dict[str, Any], reason: str, expire_orders: bool, block: int | None = None) -> None:
        self.core.write(lambda db: store.set_trade_states(db, [trade["trade_id"]], store.FAILED, reason, block=block))
        trade = {**trade, "state": store.FAILED, "reason": reason}
        self.core.reverse_trade(trade, reason)
        if expire_orders:
            for order_id in (trade["maker_order_id"], trade["taker_order_id"]):
                order = self.core.engine.orders.get(order_id)
                if order is not None:
                    self.core.cancel(order.account, order.symbol, order_id, "EXPIRED", f"settlement failed: {reason}")

    def _fill(self, trade: dict[str, Any], orders: dict[int, dict[str, Any]]) -> tuple[Any, ...]:
        maker, taker = orders.get(trade["maker_order_id"]), orders.get(trade["taker_order_id"])
        spec = self.core.markets.get(trade["symbol"]).spec
        parts = []
        for order in (maker, taker):
            assert order is not None
            signed = Order(order["account"], spec.base.token, spec.quote.token, order["side"] == "BUY",
                           order["base_amount"], order["vault_price"], order["expiry"], order["nonce"],
                           order["max_fee_bps"], order["max_platform_fee_rate"])
            raw = bytes.fromhex(order["signature"][2:])
            parts.append((signed.as_tuple(), raw[64], raw[:32], raw[32:64]))
        (maker_order, mv, mr, ms), (taker_order, tv, tr, ts) = parts
        maker_buys = trade["taker_side"] == "SELL"
        maker_gets, taker_gets = (spec.base.symbol, spec.quote.symbol) if maker_buys else \
            (spec.quote.symbol, spec.base.symbol)
        # the fee in the asset the engine charged it in: what each side received, or the platform token
        return (maker_order, taker_order, mv, mr, ms, tv, tr, ts, spec.base_units(trade["qty"]),
                trade["maker_fee"], trade["taker_fee"], trade["maker_fee_asset"] not in (maker_gets, ""),
                trade["taker_fee_asset"] not in (taker_gets, ""))

    def _simulate(self, batch_id: int, fills: list[tuple[Any, ...]]) -> str | None:
        return self.vault.simulate(self.operator, settle_calldata(batch_id, fills, self.platform_token))

    def _sign_batch(self, data: bytes, gas: int | None, nonce: int | None) -> tuple[str, str, int]:
        """A batch's signed transaction: (raw, hash, nonce). With `nonce` given (a batch is in flight) it asks the
        node nothing, which would wait behind the mining: fees as the last receipt implies them."""
        if nonce is None:
            self.fees = suggested_fees(self.vault.rpc)
        assert self.fees is not None
        tx = build_transaction(self.vault.rpc, self.operator, self.vault.address, 0, data, gas=gas, nonce=nonce,
                               max_fee_per_gas=self.fees[0], max_priority_fee_per_gas=self.fees[1],
                               chain_id=self.chain_id)
        return (*self._signed(tx), tx.nonce)

    def _sign(self, data: bytes, gas: int | None = None, to: str | None = None) -> tuple[str, str]:
        """The operator's signed transaction calling the vault (or `to`) with `data` and the gas limit `gas`
        (estimated when None): (raw, hash)."""
        return self._signed(build_transaction(self.vault.rpc, self.operator, to or self.vault.address, 0, data,
                                              gas=gas))

    def _signed(self, tx: Any) -> tuple[str, str]:
        """`tx` signed by the operator through the policy signer: (raw, hash)."""
        signed = self.signer.sign_transaction({**tx.as_eth_account(), "from": self.operator})
        return "0x" + bytes(signed.raw_transaction).hex(), "0x" + bytes(signed.hash).hex()

    # --- agent approvals the maker signed (API keys) --------------------------------------------------------------
    async def _submit_agent_approvals(self) -> None:
        db = self.core.db
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'agent_approvals'").fetchone() is None:
            return
        for row in store.rows(db, "SELECT * FROM agent_approvals WHERE state IN ('PENDING', 'SIGNED')"):
            if row["state"] == "PENDING":
                data = approve_agent_by_sig_calldata(row["maker"], row["agent"], row["expiry"], int(row["nonce"]),
                                                     row["signature"])
                reason = await asyncio.to_thread(self.vault.simulate, self.operator, data)
                if reason is not None:
                    log.warning("agent approval for %s refused by the vault (%s)", row["agent"], reason)
                    self.core.write(lambda db, r=row, why=reason: db.execute(
                        "UPDATE agent_approvals SET state = 'FAILED', reason = ? WHERE agent = ?", (why, r["agent"])))
                    continue
                raw, tx_hash = await asyncio.to_thread(self._sign, data)
                self.core.write(lambda db, r=row, x=raw, h=tx_hash: db.execute(
                    "UPDATE agent_approvals SET state = 'SIGNED', raw = ?, tx_hash = ? WHERE agent = ?",
                    (x, h, r["agent"])))
                row = {**row, "raw": raw, "tx_hash": tx_hash}
            receipt = await asyncio.to_thread(self._send_and_wait, row["raw"], row["tx_hash"], None)
            if receipt is None:
                continue
            state = "CONFIRMED" if int(receipt["status"], 16) == 1 else "FAILED"
            self.core.write(lambda db, r=row, st=state: db.execute(
                "UPDATE agent_approvals SET state = ? WHERE agent = ?", (st, r["agent"])))

    # --- withdrawals ----------------------------------------------------------------------------------------
    async def _pay_withdrawals(self) -> None:
        db = self.core.db
        for withdrawal in store.rows(db, "SELECT * FROM withdrawals WHERE state = 'PENDING' ORDER BY id"):
            busy = db.execute("SELECT 1 FROM trades WHERE state IN ('PENDING', 'SUBMITTED') AND (maker = ? OR "
                              "taker = ?) LIMIT 1", (withdrawal["account"], withdrawal["account"])).fetchone()
            if busy:
                continue  # pay out only once every fill of this user has settled (nothing to reverse later)
            data = operator_withdraw_calldata(withdrawal["account"], withdrawal["token"], withdrawal["amount"])
            reason = await asyncio.to_thread(self.vault.simulate, self.operator, data)
            if reason is not None:
                self._refund(withdrawal, reason)
                continue
            raw, tx_hash = await asyncio.to_thread(self._sign, data)
            self.core.write(lambda db, w=withdrawal, r=raw, h=tx_hash: db.execute(
                "UPDATE withdrawals SET state = 'SIGNED', raw = ?, tx_hash = ? WHERE id = ?", (r, h, w["id"])))
            await self._resume_withdrawal({**withdrawal, "raw": raw, "tx_hash": tx_hash})

    async def _resume_withdrawal(self, withdrawal: dict[str, Any]) -> None:
        receipt = await asyncio.to_thread(self._send_and_wait, withdrawal["raw"], withdrawal["tx_hash"], None)
        if receipt is None:
            return
        if int(receipt["status"], 16) != 1:
            self._refund(withdrawal, "operatorWithdraw reverted")
            return
        block = int(receipt["blockNumber"], 16)
        self.core.write(lambda db: db.execute("UPDATE withdrawals SET state = 'CONFIRMED', block = ? WHERE id = ?",
                                              (block, withdrawal["id"])))

    def _refund(self, withdrawal: dict[str, Any], reason: str) -> None:
        from matcher.model import Deposit
        log.warning("withdrawal %d failed (%s): refunding the ledger", withdrawal["id"], reason)
        self.core.submit(Deposit(withdrawal["account"], withdrawal["asset"], withdrawal["amount"],
                                 ts=self.core.clock_ms()),
                         also=lambda db, seq, result: db.execute(
                             "UPDATE withdrawals SET state = 'FAILED', reason = ? WHERE id = ?",
                             (reason, withdrawal["id"])))

"""The exchange service: wires the core, the chain follower, the settler, the streams and the HTTP API, and runs
them on one event loop (the core's only thread). `ExchangeServer(config).start()` runs it on a background thread
for tests and `bourse up`; `run(config)` serves in the foreground.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from matcher.errors import MatcherError
from matcher.fees import FeePolicy
from matcher.model import (CancelOrder, CancelReplace, ExecType, OrderUpdate, SetFeeDiscount, SetPlatformFeeRate, Trade,
                           Withdraw)
from wallet.rpc import Rpc

from . import filters, store
from .api import build_app
from .apikeys import KeyStore, Sealer
from .backlog import Backlog
from .core import ExchangeCore, trade_effects
from .curve_worker import CurveWorker
from .errors import (AMEND_INCREASE, CANCEL_REJECTED, CANCEL_REPLACE_FAILED, CANCEL_REPLACE_PARTIALLY_FAILED,
                     NEW_ORDER_REJECTED, NO_SUCH_ORDER, REPLAYED_ORDER, ApiError)
from .follower import Follower
from .front import Front
from .intake import OrderRequest
from .markets import Markets
from .order_lists import OrderLists
from .ratelimits import RateLimiter, RateLimits
from .settler import Settler
from .signed import Domain
from .streams import Streams
from .vault import VaultClient
from .views import order_view

log = logging.getLogger("bourse.exchange")
EXPIRY_MARGIN_MS = 30_000  # orders leave the book this long before their signed expiry


@dataclass
class ExchangeConfig:
    rpc_url: str
    vault: str
    markets: Markets
    signer: Any  # anything with sign_transaction(tx) -> .raw_transaction, .hash (a wallet RemoteAccount)
    operator: str
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    batch_size: int = 100
    batch_interval: float = 1.0
    poll_interval: float = 0.2
    confirmations: int = 0
    start_block: int = 0
    rate_limits: RateLimits = field(default_factory=RateLimits)
    exchange_max_open_orders: int = 1000  # per account, every market (EXCHANGE_MAX_NUM_ORDERS)
    burn_every_blocks: int = 0  # burn the collected platform-token fees every N blocks (0: only on demand)
    rewards_distributor: str | None = None  # the trade-mining distributor whose roots the operator publishes
    reward_per_epoch: int = 0  # platform-token units split among the fee payers of each epoch
    reward_every_blocks: int = 0  # close a trade-mining epoch every N blocks (0: only on demand)
    listing_vote: str | None = None  # the listing-vote contract whose Listed events open TOKEN/<platform token> markets
    max_unsettled_fills: int = 10_000  # backpressure: new orders get -1008 while this many fills wait for the chain


class ExchangeService:
    def __init__(self, config: ExchangeConfig) -> None:
        self.config = config
        self.markets = config.markets
        self.operator = config.operator
        self.rpc = Rpc(config.rpc_url)
        self.vault = VaultClient(self.rpc, config.vault)
        self.domain = Domain(self.rpc.chain_id(), self.vault.address)
        most = self.vault.max_fills()  # and a vault from before this batch format is refused here
        if config.batch_size > most:
            raise MatcherError(f"the vault settles at most {most} fills a batch, not {config.batch_size}")
        fee_recipient, fee_policy = self.vault.fee_recipient(), self._fee_policy()  # the chain answers first
        self._socket = listening_socket(config.host, config.port)  # then the port: bound before anything is written
        self.port = self._socket.getsockname()[1]
        self.front: Front | None = None  # the HTTP front door, once serving
        self.curve = CurveWorker()  # signers recovered, API-key orders signed: in a worker process once serving
        self._lock: Any = None
        try:
            self._open(config, fee_recipient, fee_policy)
        except BaseException:
            self._socket.close()
            if self._lock is not None:
                self._lock.release()
            raise

    def _open(self, config: ExchangeConfig, fee_recipient: str, fee_policy: FeePolicy) -> None:
        from wallet.files import ExclusiveLock
        from wallet.signer_server import load_or_create_token
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = ExclusiveLock(config.data_dir / ".lock", f"the exchange data dir {config.data_dir}")
        self.admin_token_file = config.data_dir / "admin.token"
        self.admin_token = load_or_create_token(self.admin_token_file)  # /admin/* answers only to it (0600 file)
        self.core = ExchangeCore(config.data_dir / "exchange.sqlite3", self.markets, fee_recipient, fee_policy)
        self.streams = Streams(self.markets, self.core.clock_ms, self.core)
        self.core.announcers.append(self.streams.publish)
        self.follower = Follower(self.core, self.vault, self.markets, config.confirmations, config.start_block)
        self.settler = Settler(self.core, self.vault, config.signer, config.operator, config.batch_size,
                               config.batch_interval, config.start_block)
        self.core.announcers.append(self.settler.hear)  # woken by fills, not by a timer
        self.core.resume_reversals()
        self._sync_fee_schedule()
        self.limits = RateLimiter(config.rate_limits)
        self.backlog = Backlog(self.core.db, lambda: self.core.changes, config.max_unsettled_fills, config.batch_size,
                               config.batch_interval)
        self.open_orders = filters.OpenOrders(self.core.db)
        self.average_prices = filters.AveragePrices(self.core.db, lambda: self.core.changes)
        self.core.listeners.append(self.open_orders.listener)
        self.keys = KeyStore(self.core.db, Sealer(config.data_dir / "secrets.key"),
                             lambda change: self.core.write(change, touches_fills=False))  # keys, agents, nonces
        self.follower.on_agent = self._agent_event
        self.order_lists = OrderLists(self)
        self.core.listeners.append(self.order_lists.listener)
        self.order_lists.resume()
        self.burns = self._burns()
        self.settler.burns = self.burns
        self.rewards = self._rewards()
        self.settler.rewards = self.rewards
        self.listings = self._listings()
        self.follower.listings = self.listings
        self.app = build_app(self)

    def _agent_event(self, event: Any) -> None:
        """The vault approved or revoked an agent: follow it; a revoked agent's open orders leave the book."""
        agent = self.keys.agent(event.args["agent"])
        if agent is None or agent["account"] != event.args["maker"]:
            return
        if event.name == "AgentApproved":
            self.keys.set_agent_state(agent["agent"], "APPROVED", event.args["expiry"])
            return
        self.keys.set_agent_state(agent["agent"], "REVOKED")
        for row in store.rows(self.core.db, "SELECT o.order_id, o.symbol, o.account FROM agent_orders a JOIN orders o "
                              "ON o.order_id = a.order_id WHERE a.agent = ? AND o.status IN ('NEW', "
                              "'PARTIALLY_FILLED')", agent["agent"]):
            self.core.cancel(row["account"], row["symbol"], row["order_id"], "CANCELED", "agent revoked on chain")

    def exchange_filters(self) -> list[dict[str, Any]]:
        return [{"filterType": "EXCHANGE_MAX_NUM_ORDERS", "maxNumOrders": self.config.exchange_max_open_orders}]

    def _burns(self) -> Any:
        """The fee burner, when the vault's platform token is an asset of this exchange (else None)."""
        from .burns import Burns
        token = self.vault.platform_token()
        platform = self.markets.by_token.get(token)
        if platform is None:
            return None
        return Burns(self.core, platform.symbol, token, self.config.burn_every_blocks)

    def _rewards(self) -> Any:
        """Trade mining, when a distributor is configured and the platform token is an asset here (else None)."""
        from .rewards import Rewards
        platform = self.markets.by_token.get(self.vault.platform_token())
        if self.config.rewards_distributor is None or platform is None:
            return None
        return Rewards(self.core, self.config.rewards_distributor, platform.symbol, self.config.reward_per_epoch,
                       self.config.reward_every_blocks)

    def _listings(self) -> Any:
        """Markets opened by listing votes, when a listing-vote contract is configured and the platform token (every
        listed market's quote) is an asset here (else None)."""
        from .listings import ListingPolicy, Listings
        platform = self.markets.by_token.get(self.vault.platform_token())
        if self.config.listing_vote is None or platform is None:
            return None
        listings = Listings(self.core, self.vault, self.markets, self.config.listing_vote, ListingPolicy(platform))
        listings.resume()
        return listings

    def _fee_policy(self) -> FeePolicy:
        """Which asset is the platform token; its discount and rates are journaled state (`_sync_fee_schedule`,
        then the follower, set them), so that a replay charges every fee as it was charged."""
        platform = self.markets.by_token.get(self.vault.platform_token())
        return FeePolicy(platform.symbol) if platform is not None else FeePolicy()

    def _sync_fee_schedule(self) -> None:
        """Bring the engine's fee schedule to what the vault publishes now, by journaled commands (only what
        differs); later changes arrive as the vault's FeeDiscountSet/PlatformTokenRateSet events."""
        policy = self.core.engine.fee_policy
        if not policy.platform_asset:
            return
        now = self.core.clock_ms()
        discount = self.vault.fee_discount_bps()
        if discount != policy.discount_bps:
            self.core.submit(SetFeeDiscount(discount, ts=now))
        for asset in self.markets.assets.values():
            rate = self.vault.platform_token_rate(asset.token)
            if rate != policy.rates.get(asset.symbol, 0):
                self.core.submit(SetPlatformFeeRate(asset.symbol, rate, ts=now))

    # --- requests -------------------------------------------------------------------------------------------
    def place(self, request: OrderRequest, admitted: bool = False, agent: str | None = None) -> dict[str, Any]:
        """Accept a signed order: Binance's response to POST /api/v3/order. `admitted`: a later leg of an order
        list the backpressure let in already (it is not refused for the backlog). `agent`: the API key's agent
        that signed it, recorded with the order."""
        if not admitted:
            self.backlog.check()
        self.check_filters(request)
        self._check_nonce(request)
        result, row = self._submit(request, None, agent)
        if not result.ok:
            raise ApiError.from_engine(result.code, result.reason)
        return self._order_response(request, result, row)

    def cancel_replace(self, request: OrderRequest, cancel: CancelOrder, allow_failure: bool) -> dict[str, Any]:
        """Binance's POST /api/v3/order/cancelReplace. STOP_ON_FAILURE: nothing happens unless the old order can
        be cancelled (-2022); ALLOW_FAILURE: the new order is placed even so. When only one part succeeds: HTTP
        409, -2021, and `data` says what happened to each (as Binance)."""
        self.backlog.check()
        self.check_filters(request)
        self._check_nonce(request)  # an unusable new order changes nothing, in either mode
        engine = self.core.engine
        old = engine.open_order(cancel.account, cancel.symbol, cancel.order_id, cancel.client_order_id)
        unknown = {"code": CANCEL_REJECTED, "msg": "Unknown order sent."}
        if old is None and not allow_failure:
            raise ApiError(CANCEL_REPLACE_FAILED, "Order cancel-replace failed.", data={
                "cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED", "cancelResponse": unknown,
                "newOrderResponse": None})
        old_id = old.order_id if old is not None else 0
        result, row = self._submit(request, cancel if old is not None else None)
        cancelled = (order_view(store.one(self.core.db, "SELECT * FROM orders WHERE order_id = ?", old_id),
                                request.market) if old is not None else unknown)  # type: ignore[arg-type]
        if not result.ok:
            error = ApiError.from_engine(result.code, result.reason)
            data = {"cancelResult": "SUCCESS" if old is not None else "FAILURE", "newOrderResult": "FAILURE",
                    "cancelResponse": cancelled, "newOrderResponse": error.body()}
            if old is None:
                raise ApiError(CANCEL_REPLACE_FAILED, "Order cancel-replace failed.", data=data)
            raise ApiError(CANCEL_REPLACE_PARTIALLY_FAILED, f"Order cancel-replace partially failed: the old order "
                                                            f"was cancelled; the new one: {error.msg}", 409, data)
        placed = self._order_response(request, result, row)
        if old is None:
            raise ApiError(CANCEL_REPLACE_PARTIALLY_FAILED, "Order cancel-replace partially failed: the order to "
                                                            "cancel is unknown; the new one was placed.", 409, {
                "cancelResult": "FAILURE", "newOrderResult": "SUCCESS", "cancelResponse": unknown,
                "newOrderResponse": placed})
        return {"cancelResult": "SUCCESS", "newOrderResult": "SUCCESS", "cancelResponse": cancelled,
                "newOrderResponse": placed}

    def check_filters(self, request: OrderRequest) -> None:
        command = request.command
        filters.check(command, request.market, self.average_prices.percent_bounds, self.core.clock_ms(),
                      self.core.engine.last_price.get(command.symbol, 0), self.config.exchange_max_open_orders,
                      self.open_orders)

    def _check_nonce(self, request: OrderRequest) -> None:
        account, signed = request.command.account, request.signed
        used, floor = self.core.db.execute(  # one statement: this is on every order's path
            "SELECT EXISTS (SELECT 1 FROM orders WHERE account = ? AND nonce = ?), "
            "(SELECT floor FROM nonce_floors WHERE account = ?)", (account, str(signed.nonce), account)).fetchone()
        if used:
            raise ApiError(REPLAYED_ORDER, "Order nonce was already used by this maker (replayed order).")
        if floor is not None and signed.nonce < int(floor):
            raise ApiError(REPLAYED_ORDER, "Order nonce is below the maker's on-chain floor (cancelled).")

    def _submit(self, request: OrderRequest, replaces: CancelOrder | None,
                agent: str | None = None) -> tuple[Any, dict[str, Any] | None]:
        """The order (after cancelling `replaces`, in the same command), journaled with its row (and the agent
        that signed it, if an API key's): the engine's result (its `ts` the order's time) and the row as inserted
        (None if the engine refused the order)."""
        command, signed, now = request.command, request.signed, self.core.clock_ms()
        written: list[dict[str, Any]] = []

        def also(db: Any, seq: int, result: Any) -> None:
            if result.ok:
                new = next(e for e in result.events if isinstance(e, OrderUpdate) and e.order_id == result.order_id
                           and e.exec_type is ExecType.NEW)
                written.append(store.order_row(new, signed, command, now))
                store.insert_order(db, written[-1])
                if agent is not None:
                    db.execute("INSERT OR IGNORE INTO agent_orders VALUES (?, ?)", (new.order_id, agent))

        _, result = self.core.submit(command if replaces is None else CancelReplace(replaces, command), also=also)
        return result, written[-1] if written else None

    def _order_response(self, request: OrderRequest, result: Any, inserted: dict[str, Any] | None) -> dict[str, Any]:
        """Binance's answer to a placed order, from its row as the command left it: the row inserted when the
        engine's only word on the order was NEW (it rests, or waits as a stop), else read back (it traded, expired,
        was prevented...)."""
        row = inserted
        if row is None or any(isinstance(e, OrderUpdate) and e.order_id == result.order_id and
                              e.exec_type is not ExecType.NEW for e in result.events):
            row = store.one(self.core.db, "SELECT * FROM orders WHERE order_id = ?", result.order_id)
        market = request.market
        fills = [{"price": market.price_text(t.price), "qty": market.qty_text(t.qty),
                  "commission": market.asset_text(t.taker_fee_asset, t.taker_fee) if t.taker_fee_asset else "0",
                  "commissionAsset": t.taker_fee_asset, "tradeId": t.trade_id}
                 for t in result.events if isinstance(t, Trade) and t.taker_order_id == result.order_id]
        return {**order_view(row, market), "transactTime": request.command.ts, "fills": fills}  # type: ignore[arg-type]

    def cancel(self, maker: str, symbol: str, order_id: int, client_id: str) -> dict[str, Any]:
        _, result = self.core.submit(CancelOrder(maker, symbol, order_id, client_id, ts=self.core.clock_ms()))
        if not result.ok:
            raise ApiError(CANCEL_REJECTED, "Unknown order sent.")
        row = store.one(self.core.db, "SELECT * FROM orders WHERE order_id = ?", result.order_id)
        return order_view(row, self.markets.get(symbol))  # type: ignore[arg-type]

    def amend(self, account: str, market: Any, order_id: int, client_id: str, new_qty: int) -> dict[str, Any]:
        """Binance's order/amend/keepPriority: the order keeps its id and place; only a decrease is allowed."""
        from matcher.model import AmendOrder
        order = self.core.engine.open_order(account, market.symbol, order_id, client_id)
        if order is None:
            raise ApiError(NO_SUCH_ORDER, "Order does not exist.")
        if new_qty >= order.qty:
            raise ApiError(AMEND_INCREASE, "The requested quantity increase is not supported: amend only lowers "
                                           "an order's quantity (Order amend (quantity increase) is not supported).")
        now = self.core.clock_ms()
        seq, result = self.core.submit(AmendOrder(account, market.symbol, order.order_id, new_qty, ts=now))
        if not result.ok:
            raise ApiError.from_engine(result.code, result.reason)
        row = store.one(self.core.db, "SELECT * FROM orders WHERE order_id = ?", order.order_id)
        return {"transactTime": now, "executionId": seq, "amendedOrder": order_view(row, market)}  # type: ignore

    def request_withdrawal(self, user: str, asset: str, token: str, amount: int, nonce: int) -> dict[str, Any]:
        core = self.core
        if core.db.execute("SELECT 1 FROM withdrawals WHERE account = ? AND nonce = ?", (user, str(nonce))).fetchone():
            raise ApiError(REPLAYED_ORDER, "Withdrawal nonce was already used (replayed request).")
        now = core.clock_ms()

        def also(db: Any, seq: int, result: Any) -> None:
            if result.ok:
                db.execute("INSERT INTO withdrawals (id, account, asset, token, amount, nonce, state, created_ms) "
                           "VALUES (?,?,?,?,?,?,?,?)", (seq, user, asset, token, str(amount), str(nonce), "PENDING",
                                                        now))

        seq, result = core.submit(Withdraw(user, asset, amount, ts=now), also=also)
        if not result.ok:
            raise ApiError(NEW_ORDER_REJECTED, "Account has insufficient balance for requested action.")
        return {"id": seq, "state": "PENDING", "asset": asset, "amount": str(amount)}

    # --- views ------------------------------------------------------------------------------------------------
    def ledger_snapshot(self) -> dict[str, Any]:
        """The ledger at the follower's block, with what is in flight, for `bourse reconcile` and `por build`."""
        core = self.core
        as_of = self.follower.synced_block
        tokens = {symbol: asset.token for symbol, asset in self.markets.assets.items()}
        balances = [{"account": account, "asset": asset, "token": tokens[asset], "total": str(total)}
                    for (account, asset), total in sorted(core.ledger().items())]
        in_flight = []
        for trade in store.rows(core.db, "SELECT * FROM trades WHERE state IN ('PENDING', 'SUBMITTED', 'FAILED') OR "
                                "(state = 'CONFIRMED' AND block > ?)", as_of):
            moves = trade_effects(trade, self.markets, core.fee_account)
            start = trade["reversed"] if trade["state"] == "FAILED" else 0  # a failed fill counts until reversed
            for payer, receiver, asset, amount in moves[start:]:
                if amount:
                    in_flight.append({"account": payer, "asset": asset, "token": tokens[asset], "delta": str(-amount)})
                    in_flight.append({"account": receiver, "asset": asset, "token": tokens[asset],
                                      "delta": str(amount)})
        for w in store.rows(core.db, "SELECT * FROM withdrawals WHERE state IN ('PENDING', 'SIGNED') OR "
                            "(state = 'CONFIRMED' AND block > ?)", as_of):
            in_flight.append({"account": w["account"], "asset": w["asset"], "token": w["token"],
                              "delta": str(-w["amount"])})
        for burn in self.burns.in_flight(as_of) if self.burns is not None else ():  # off the ledger, not yet the vault
            in_flight.append({"account": core.fee_account, "asset": burn["asset"],
                              "token": tokens[burn["asset"]], "delta": str(-int(burn["amount"]))})
        return {"asOfBlock": as_of, "fromBlock": self.config.start_block, "chainId": self.domain.chain_id,
                "vault": self.vault.address,
                "feeAccount": core.fee_account, "balances": balances, "inFlight": in_flight,
                "shortfalls": store.rows(core.db, "SELECT account, asset, amount, reason FROM shortfalls")}

    # --- background work ------------------------------------------------------------------------------------
    async def follow_forever(self) -> None:
        while True:
            try:
                to_block, events = await asyncio.to_thread(self.follower.fetch, self.follower.synced_block)
                self.follower.apply(to_block, events)
            except Exception as exc:  # node down or restarting: try again
                log.warning("following the vault failed (%s); retrying", exc)
                await asyncio.sleep(1.0)
            await asyncio.sleep(self.config.poll_interval)

    async def settle_forever(self) -> None:
        while True:
            try:
                if await self.settler.step():
                    await asyncio.sleep(0)  # a full batch went out and more may wait: only let requests in
                    continue
                await self.settler.wait_for_work(min(self.config.batch_interval, 0.2))
            except Exception as exc:
                log.warning("settlement pass failed (%s); retrying", exc, exc_info=log.isEnabledFor(logging.DEBUG))
                await asyncio.sleep(1.0)

    async def expire_forever(self) -> None:
        while True:
            try:
                self.expire_due()
            except Exception:
                log.exception("expiring orders failed")
            await asyncio.sleep(1.0)

    def expire_due(self) -> None:
        threshold = (self.core.clock_ms() + EXPIRY_MARGIN_MS) // 1000
        for row in store.rows(self.core.db, "SELECT order_id, symbol, account FROM orders WHERE status IN "
                              "('NEW', 'PARTIALLY_FILLED') AND expiry <= ?", threshold):
            if row["order_id"] in self.core.engine.orders:
                self.core.cancel(row["account"], row["symbol"], row["order_id"], "EXPIRED", "signed expiry reached")

    async def serve(self, ready: threading.Event | None = None) -> None:
        loop = self.core.loop = asyncio.get_running_loop()
        self.core.schedule_commit = loop.call_soon  # group commits, one per turn of the loop
        self.curve.start(loop)
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()  # aiohttp serves what the front door hands it (WebSockets, pages, the unusual)
        assert runner.server is not None
        self.front = front = Front(self.app, runner.server)
        server = await asyncio.get_running_loop().create_server(front, sock=self._socket, backlog=1024)
        tasks = [asyncio.create_task(c) for c in (self.follow_forever(), self.settle_forever(),
                                                   self.expire_forever(), self.streams.run_timed())]
        if ready is not None:
            ready.set()
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            server.close()
            front.close()
            await runner.cleanup()
            self.curve.close()
            self.core.close()
            self._lock.release()


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port and listening; MatcherError saying so when the port is taken."""
    try:
        sock = socket.create_server((host, port), reuse_port=False, backlog=1024)
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise MatcherError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.setblocking(False)
    return sock


class ExchangeServer:
    """The service on a background thread with its own event loop."""

    def __init__(self, config: ExchangeConfig) -> None:
        self.config = config
        self.service: ExchangeService | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None

    def start(self, timeout: float = 60.0) -> ExchangeServer:
        ready = threading.Event()

        def main() -> None:
            self._loop = new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self.service = ExchangeService(self.config)
                self._task = self._loop.create_task(self.service.serve(ready))
                self._loop.run_until_complete(self._task)
            except asyncio.CancelledError:
                pass
            except BaseException as exc:
                self.error = exc
                ready.set()
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=main, name="bourse-exchange", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise MatcherError(f"the exchange did not start within {timeout:.0f} s")
        if self.error is not None:
            from wallet.errors import WalletError
            if isinstance(self.error, (MatcherError, WalletError, OSError)):
                raise self.error
            raise MatcherError(f"the exchange did not start: {self.error}")
        return self

    @property
    def url(self) -> str:
        assert self.service is not None
        return f"http://{self.config.host}:{self.service.port}"

    def call(self, function: Any, *args: Any) -> Any:
        """Run `function(service, *args)` on the service's loop (the core is single-threaded) and return it."""
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(_call(function, self.service, *args), self._loop)
        return future.result(60)

    def stop(self) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(30)


async def _call(function: Any, *args: Any) -> Any:
    return function(*args)


def run(config: ExchangeConfig) -> None:
    service = ExchangeService(config)  # recovers the engine from its journal
    gc.collect()
    gc.freeze()  # the recovered state out of the collector's way: collections then walk only what came since
    with asyncio.Runner(loop_factory=new_event_loop) as runner:  # asyncio.run, on the loop below
        runner.run(service.serve())


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is installed (a dependency except on Windows): ~15 us less per request than asyncio's
    own on this path (sockets, callbacks, timers), which is about 4% of a signed order's cost; else asyncio's."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is installed wherever it builds
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


__all__ = ["ExchangeConfig", "ExchangeServer", "ExchangeService", "run"]

"""The matching engine: commands in, a result code and events out; deterministic and integer-only.

The engine never reads the clock (time arrives in commands), so replaying the
same commands rebuilds the same state, checked by `state_hash()`.

This is the exchange's hot path, written for CPython and for mypyc, which
compiles it at install (see compiled.py): enum members come from `Final` module
constants (state.py), events are recorded as short records (see `model.Result`),
an order holds the ledger balance it locks, and the three frequent commands are
dispatched without a lookup. The layers: state.py (what a command can change,
and the reads on it) <- matching.py (the matching rules) <- this module (the
commands).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from .balances import Balance, put_at
from .book import Book, Order, shown
from .fees import FeePolicy
from .market import MarketSpec
from .matching import Matching
from .errors import BadMarketSpec
from .model import (AddMarket, AmendOrder, BalanceRecord, CancelOrder, CancelReplace, Code, Command, Deposit, NewRecord,
                    PlaceOrder, Result, SetFeeDiscount, SetFeePreference, SetPlatformFeeRate, Transfer, Withdraw)
from .orders import lock_for_market_order, validate_market_order, validate_stop_order
from .state import (BUY, CANCELED, FEE_ACCOUNT, GTC, LIMIT, LIMIT_MAKER, MARKET, NEW, OK, X_REPLACED, Market,
                    base_units, crosses, is_stop, order_value)


class Engine(Matching):
    def __init__(self, markets: Iterable[MarketSpec], fee_account: str = FEE_ACCOUNT,
                 book_class: type[Book] = Book, fee_policy: FeePolicy | None = None) -> None:
        super().__init__(markets, fee_account, book_class, fee_policy)
        # a cancel-replace's cancelled order's funds, not yet released: the balance and the amount (see _lock)
        self._held: Balance | None = None
        self._held_amount = 0
        self._handlers: dict[type, Callable[[Any], Result]] = {  # the rest (see process)
            AmendOrder: self._amend, Deposit: self._deposit, Withdraw: self._withdraw,
            SetFeePreference: self._set_fee_preference, Transfer: self._transfer,
            SetPlatformFeeRate: self._set_platform_fee_rate, SetFeeDiscount: self._set_fee_discount,
            AddMarket: self._add_market}

    # -- entry point ------------------------------------------------------------------------------
    def process(self, command: Command) -> Result:
        log: list[Any] = []
        self._log = log
        ledger = self.ledger
        if ledger.count or self._dirty_count:  # only after a command raised (a bug): leave nothing behind from it
            ledger.take_changed()
            self._dirty_count = 0
        if isinstance(command, CancelReplace):  # the commands by how often they come
            result = self._cancel_replace(command)
        elif isinstance(command, PlaceOrder):
            result = self._place(command, self._markets.get(command.symbol))
        elif isinstance(command, CancelOrder):
            result = self._cancel(command)
        else:
            handler = self._handlers.get(type(command))
            if handler is None:
                raise TypeError(f"not a command: {command!r}")
            result = handler(command)
        count = ledger.count
        if count:
            balances = ledger.changed
            for i in range(count):
                b = balances[i]
                b.changed = False
                log.append(BalanceRecord(b.key, b.free_hi, b.free_lo, b.locked_hi, b.locked_lo))
            ledger.count = 0
        count = self._dirty_count
        if count:
            dirty = self._dirty
            for i in range(count):
                self._publish(dirty[i], log)
            self._dirty_count = 0
        result.log = log
        return result

    def _mark_dirty(self, m: Market) -> None:
        """`m`'s book may have changed: publish its depth after the command (once, however often it changed)."""
        dirty, count = self._dirty, self._dirty_count
        if not count or dirty[count - 1] is not m:
            self._dirty_count = put_at(dirty, count, m)

    def _cancel_replace(self, command: CancelReplace) -> Result:
        # what the cancelled order held stays locked until the new order locks its funds: where both are in one
        # balance (a moved order), the release and the new lock are one change to it (see _lock)
        cancelled = self._cancel_order(command.cancel, False)
        if cancelled is None:
            return Result(Code.UNKNOWN_ORDER, reason="unknown order sent")
        place = command.place
        try:  # the new order is usually the cancelled one moved: the same market (no second lookup) and, on the same
            # side for the same account, the same balance to lock funds in (no lookup either)
            if place.symbol == cancelled.symbol:
                return self._place(place, cancelled.market, cancelled.lock if place.side is cancelled.side and
                                   place.account == cancelled.account else None)
            return self._place(place, self._markets.get(place.symbol))
        finally:
            held = self._held
            if held is not None:  # the new order was refused before it locked anything
                self._held = None
                self.ledger.unlock(held, self._held_amount)

    def _lock(self, lock: Balance, amount: int) -> bool:
        """Lock what a new order could spend, if its balance holds it. A cancel-replace's held release (the
        cancelled order's funds) is released first, in the same change when it is in the same balance."""
        held = self._held
        if held is None:
            return self.ledger.try_lock(lock, amount)
        self._held = None
        if held is lock:
            return self.ledger.try_relock(lock, self._held_amount, amount)
        self.ledger.unlock(held, self._held_amount)
        return self.ledger.try_lock(lock, amount)

    def _set_fee_preference(self, command: SetFeePreference) -> Result:
        if command.pay_in_platform_token:
            self.pays_in_platform_token.add(command.account)
        else:
            self.pays_in_platform_token.discard(command.account)
        return Result(OK)

    def _set_platform_fee_rate(self, command: SetPlatformFeeRate) -> Result:
        if command.rate < 0:
            return Result(Code.INVALID_ORDER, reason="platform-token fee rate must not be negative")
        self.fee_policy = self.fee_policy.with_rate(command.asset, command.rate)
        return Result(OK)

    def _set_fee_discount(self, command: SetFeeDiscount) -> Result:
        if not 0 <= command.discount_bps <= 10_000:
            return Result(Code.INVALID_ORDER, reason="fee discount must be between 0 and 10000 basis points")
        self.fee_policy = self.fee_policy.with_discount(command.discount_bps)
        return Result(OK)

    def _add_market(self, command: AddMarket) -> Result:
        try:
            spec = command.spec()
        except BadMarketSpec as exc:
            return Result(Code.INVALID_ORDER, reason=str(exc))
        refused = self.open_market(spec)
        return Result(Code.INVALID_ORDER, reason=refused) if refused else Result(OK)

    # -- balances ---------------------------------------------------------------------------------------
    def _deposit(self, cmd: Deposit) -> Result:
        if cmd.amount <= 0:
            return Result(Code.INVALID_ORDER, reason="deposit amount must be positive")
        self.ledger.add_free(self.ledger.get((cmd.account, cmd.asset)), cmd.amount)
        return Result(OK)

    def _transfer(self, cmd: Transfer) -> Result:
        refused = self._debit_free(cmd.source, cmd.asset, cmd.amount, "transfer")
        if refused is None:
            self.ledger.add_free(self.ledger.get((cmd.destination, cmd.asset)), cmd.amount)
            return Result(OK)
        return refused

    def _withdraw(self, cmd: Withdraw) -> Result:
        return self._debit_free(cmd.account, cmd.asset, cmd.amount, "withdrawal") or Result(OK)

    def _debit_free(self, account: str, asset: str, amount: int, what: str) -> Result | None:
        """Take `amount` out of a free balance, or the reason it cannot be taken (and nothing changed)."""
        if amount <= 0:
            return Result(Code.INVALID_ORDER, reason=f"{what} amount must be positive")
        if self.ledger.free((account, asset)) < amount:
            return Result(Code.INSUFFICIENT_BALANCE, reason="insufficient free balance")
        self.ledger.add_free(self.ledger.get((account, asset)), -amount)
        return None

    # -- placing ----------------------------------------------------------------------------------------
    def _place(self, cmd: PlaceOrder, m: Market | None, lock: Balance | None = None) -> Result:
        """Place an order in `m`, the market its symbol names (None: none does). `lock`, if given, is the balance the
        order locks its funds in (its account's in the asset a buy or sell of `m` spends)."""
        if m is None:
            return Result(Code.UNKNOWN_MARKET, reason=f"unknown symbol {cmd.symbol}")
        kind, side, price, qty = cmd.type, cmd.side, cmd.price, cmd.qty
        notional = 0
        stop = kind is not LIMIT and is_stop(kind)
        if kind is MARKET:
            invalid = validate_market_order(cmd, m.min_notional)
            if invalid is not None:
                return Result(invalid[0], reason=invalid[1])
        elif stop or cmd.trailing_delta or cmd.iceberg_qty:
            invalid = validate_stop_order(cmd, m.min_notional, m.per_lot_tick, self.last_price.get(m.symbol, 0))
            if invalid is not None:
                return Result(invalid[0], reason=invalid[1])
            notional = order_value(m, price, qty)
        elif price <= 0:
            return Result(Code.PRICE_FILTER, reason="price must be a positive whole number of ticks")
        elif qty <= 0:
            return Result(Code.LOT_SIZE, reason="quantity must be a positive whole number of lots")
        elif cmd.quote_qty:
            return Result(Code.INVALID_ORDER, reason="quoteOrderQty is only for MARKET orders")
        else:
            notional = order_value(m, price, qty)
            if notional < m.min_notional:
                return Result(Code.MIN_NOTIONAL, reason="order value below the market's minimum notional")
        account, client_order_id = cmd.account, cmd.client_order_id
        if client_order_id and (account, client_order_id) in self.client_ids:
            return Result(Code.DUPLICATE_CLIENT_ORDER_ID, reason="duplicate client order id among open orders")
        book = m.book
        if kind is LIMIT_MAKER and crosses(book, side, price):
                return Result(Code.WOULD_TAKE, reason="order would immediately match and take")
        if kind is MARKET:
            asset, amount = lock_for_market_order(cmd, m.spec, book)
        elif side is BUY:
            asset, amount = m.quote, notional
        else:
            asset, amount = m.base, base_units(m, qty)
        if lock is None:
            holders = m.quote_holders if asset == m.quote else m.base_holders
            lock = holders.get(account)
            if lock is None:
                lock = self.ledger.balances.get((account, asset))
                if lock is not None:
                    holders[account] = lock
        if lock is None and not amount:
            lock = self.ledger.get((account, asset))  # a MARKET order with nothing to take locks nothing
        if lock is None or not self._lock(lock, amount):  # what the order could spend
            return Result(Code.INSUFFICIENT_BALANCE, reason="account has insufficient balance for requested action")
        order_id = self.next_order_id
        self.next_order_id = order_id + 1
        order = Order(order_id, account, m.symbol, side, kind, cmd.tif, price, qty, client_order_id, cmd.stp, cmd.ts,
                      cmd.stop_price, cmd.quote_qty, 0, 0, amount, NEW, cmd.max_platform_fee_rate)
        order.lock = lock
        order.market = m
        if cmd.iceberg_qty:
            order.iceberg_qty = cmd.iceberg_qty
            order.visible = min(cmd.iceberg_qty, qty)
        if cmd.trailing_delta:
            order.trailing_delta = cmd.trailing_delta
            if not cmd.stop_price:  # tracks from the last price at once (or from the first trade)
                order.trail_price = self.last_price.get(m.symbol, 0)
        self.orders.add(order)
        if client_order_id:
            self.client_ids[(account, client_order_id)] = order.order_id
        self._log.append(NewRecord(order, qty))
        if stop:
            m.stops.append(order)
            return Result(OK, order_id)
        self._mark_dirty(m)
        if (kind is LIMIT or kind is LIMIT_MAKER) and cmd.tif is GTC and not crosses(book, side, price):
            book.add(order)  # nothing to match: it rests at once
        else:
            self._execute(order, m)
        if m.fired:
            self._trigger_stops(m)
        return Result(OK, order_id)

    # -- cancel and amend ---------------------------------------------------------------------------------
    def open_order(self, account: str, symbol: str, order_id: int, client_order_id: str) -> Order | None:
        """An open order of `account` in `symbol`, by id or (id 0) by client order id; None if there is none."""
        if not order_id and client_order_id:
            order_id = self.client_ids.get((account, client_order_id), 0)
        order = self.orders.find(order_id)
        if order is None or order.account != account or order.symbol != symbol:
            return None
        return order

    def _cancel(self, cmd: CancelOrder) -> Result:
        order = self._cancel_order(cmd, True)
        if order is None:
            return Result(Code.UNKNOWN_ORDER, reason="unknown order sent")
        return Result(OK, order.order_id)

    def _cancel_order(self, cmd: CancelOrder, release: bool) -> Order | None:
        """Cancel an open order of the command's account; None if there is none. What it held locked is released,
        or (`release` False: a cancel-replace) held for the new order (`_held`)."""
        order = self.orders.find(cmd.order_id or self.client_ids.get((cmd.account, cmd.client_order_id), 0))
        if order is None or order.account != cmd.account or order.symbol != cmd.symbol:
            return None
        m: Market = order.market
        if order.type is not LIMIT and is_stop(order.type) and order in m.stops:
            m.stops.remove(order)
        else:
            m.book.remove(order)
            self._mark_dirty(m)
        order.status = CANCELED  # _close, inlined: this is most of every cancel-replace
        self.orders.remove(order.order_id)
        if order.client_order_id:
            del self.client_ids[(order.account, order.client_order_id)]
        if order.locked:
            if release:
                self.ledger.unlock(order.lock, order.locked)
            else:
                self._held, self._held_amount = order.lock, order.locked
            order.locked = 0
        self._log.append(order)  # a cancelled order never changes again: the order is its event's record
        return order

    def _amend(self, cmd: AmendOrder) -> Result:
        order = self.open_order(cmd.account, cmd.symbol, cmd.order_id, "")
        if order is None:
            return Result(Code.UNKNOWN_ORDER, reason="unknown order sent")
        if not order.filled < cmd.new_qty < order.qty:
            return Result(Code.LOT_SIZE, reason="new quantity must be below the current and above the filled quantity")
        m = self._markets[order.symbol]
        cut = order.qty - cmd.new_qty
        amount = order.price * cut * m.per_lot_tick if order.side is BUY else cut * m.lot_size
        self.ledger.unlock(order.lock, amount)
        order.locked -= amount
        parked = is_stop(order.type) and order in m.stops
        was_shown = shown(order)
        order.qty = cmd.new_qty
        if order.iceberg_qty:
            order.visible = min(order.visible, order.qty - order.filled)
        if not parked:
            m.book.reduce(order, was_shown - shown(order))
            self._mark_dirty(m)
        self._report(order, X_REPLACED)
        return Result(OK, order.order_id)

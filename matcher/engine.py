"""The matching engine: commands in, a result code and events out; deterministic and integer-only.

The engine never reads the clock (time arrives in commands), so replaying the
same commands rebuilds the same state, checked by `state_hash()`.

This is the hot path of the exchange, written for CPython's speed: enum members
are read from module constants (an enum class attribute costs ~70 ns), events are
recorded as flat tuples (see `model.Result`), and balance keys are plain tuples of
strings (an enum's hash is a Python-level call).
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Final, Iterable

from .balances import Key, Ledger
from .book import Book, Levels, Order, Top
from .fees import FeePolicy
from .market import MarketSpec
from .model import (BALANCE_EVENT, DEPTH_EVENT, ORDER_EVENT, TICKER_EVENT, AmendOrder, CancelOrder, CancelReplace,
                    Code, Command, Deposit, ExecType, OrderType, PlaceOrder, Result, SetFeePreference, Side, Status,
                    Stp, TimeInForce, Trade, Transfer, Withdraw)
from .orders import lock_for_market_order, validate_market_order

FEE_ACCOUNT = "fees"

# enum members as constants (`Final`, so a compiled build keeps them in C statics)
BUY: Final = Side.BUY
SELL: Final = Side.SELL
LIMIT: Final = OrderType.LIMIT
MARKET: Final = OrderType.MARKET
LIMIT_MAKER: Final = OrderType.LIMIT_MAKER
STOP_LOSS_LIMIT: Final = OrderType.STOP_LOSS_LIMIT
TAKE_PROFIT_LIMIT: Final = OrderType.TAKE_PROFIT_LIMIT
GTC: Final = TimeInForce.GTC
FOK: Final = TimeInForce.FOK
NEW: Final = Status.NEW
PARTIALLY_FILLED: Final = Status.PARTIALLY_FILLED
FILLED: Final = Status.FILLED
CANCELED: Final = Status.CANCELED
EXPIRED: Final = Status.EXPIRED
EXPIRED_IN_MATCH: Final = Status.EXPIRED_IN_MATCH
X_NEW: Final = ExecType.NEW
X_TRADE: Final = ExecType.TRADE
X_CANCELED: Final = ExecType.CANCELED
X_REPLACED: Final = ExecType.REPLACED
X_EXPIRED: Final = ExecType.EXPIRED
X_PREVENTION: Final = ExecType.TRADE_PREVENTION
STP_NONE: Final = Stp.NONE
EXPIRE_MAKER: Final = Stp.EXPIRE_MAKER
EXPIRE_TAKER: Final = Stp.EXPIRE_TAKER
EXPIRE_BOTH: Final = Stp.EXPIRE_BOTH
OK: Final = Code.OK


class Market:
    """A market's spec flattened for the hot path, with its book and parked stop orders."""

    __slots__ = ("spec", "symbol", "base", "quote", "per_lot_tick", "lot_size", "min_notional", "maker_fee_bps",
                 "taker_fee_bps", "book", "stops", "top", "update_id")

    def __init__(self, spec: MarketSpec, book: Book) -> None:
        self.spec, self.symbol, self.book = spec, spec.symbol, book
        self.base, self.quote = spec.base.symbol, spec.quote.symbol
        self.per_lot_tick, self.lot_size, self.min_notional = spec.quote_per_lot_tick, spec.lot_size, spec.min_notional
        self.maker_fee_bps, self.taker_fee_bps = spec.maker_fee_bps, spec.taker_fee_bps
        self.stops: list[Order] = []
        self.top: Top = (0, 0, 0, 0)  # the best bid/ask last published
        self.update_id = 0  # of the last diff-depth event


class Engine:
    def __init__(self, markets: Iterable[MarketSpec], fee_account: str = FEE_ACCOUNT,
                 book_class: type[Book] = Book, fee_policy: FeePolicy | None = None) -> None:
        self.fee_policy = fee_policy or FeePolicy()
        self.pays_in_platform_token: set[str] = set()
        self._markets = {spec.symbol: Market(spec, book_class()) for spec in markets}
        self.markets = {symbol: m.spec for symbol, m in self._markets.items()}
        self.books = {symbol: m.book for symbol, m in self._markets.items()}
        self.stops = {symbol: m.stops for symbol, m in self._markets.items()}
        self.fee_account = fee_account
        self.ledger = Ledger()
        self.orders: dict[Any, Order] = {}  # open orders, resting or parked stops
        self.client_ids: dict[Key, int] = {}
        self.last_price: dict[str, int] = {}
        self.next_order_id = 1
        self.next_trade_id = 1
        self._log: list[Any] = []  # the current command's event records
        self._dirty: list[Market] = []  # markets whose book it may have changed
        self._handlers: dict[type, Callable[[Any], Result]] = {
            PlaceOrder: self._place, CancelOrder: self._cancel, AmendOrder: self._amend,
            CancelReplace: self._cancel_replace, Deposit: self._deposit, Withdraw: self._withdraw,
            SetFeePreference: self._set_fee_preference, Transfer: self._transfer}

    # -- entry point ------------------------------------------------------------------------------
    def process(self, command: Command) -> Result:
        handler = self._handlers.get(type(command))
        if handler is None:
            raise TypeError(f"not a command: {command!r}")
        log: list[Any] = []
        self._log = log
        touched, dirty = self.ledger.touched, self._dirty  # kept between commands (one allocation fewer each)
        if touched or dirty:  # only after a command raised (a bug): leave nothing behind from it
            touched.clear()
            dirty.clear()
        result = handler(command)
        if touched:
            for b in touched:
                log.append((BALANCE_EVENT, b.key, b.free, b.locked))
            touched.clear()
        if dirty:
            for m in dirty:
                changed = m.book.take_touched()
                if changed is not None:
                    self._publish(m, changed[0], changed[1], log)
            dirty.clear()
        result.log = log
        return result

    def _cancel_replace(self, command: CancelReplace) -> Result:
        if self._cancel_order(command.cancel) is None:
            return Result(Code.UNKNOWN_ORDER, reason="unknown order sent")
        return self._place(command.place)

    def _set_fee_preference(self, command: SetFeePreference) -> Result:
        if command.pay_in_platform_token:
            self.pays_in_platform_token.add(command.account)
        else:
            self.pays_in_platform_token.discard(command.account)
        return Result(OK)

    # -- market data ---------------------------------------------------------------------------------
    def _publish(self, m: Market, bids: Levels, asks: Levels, log: list[Any]) -> None:
        """Binance's diff depth for the levels a command changed, and the book ticker if the best bid or ask
        moved. The ticker can only have moved if a changed level is at or better than the old best (or a side
        was empty): otherwise the old best levels are untouched and still the best."""
        update_id = m.update_id + 1
        m.update_id = update_id
        log.append((DEPTH_EVENT, m.symbol, update_id, bids, asks))
        old = m.top
        if (bids and (not old[0] or bids[0][0] >= old[0])) or (asks and (not old[2] or asks[0][0] <= old[2])):
            top = m.book.top()
            if top != old:
                m.top = top
                log.append((TICKER_EVENT, m.symbol, update_id, top))

    @property
    def update_ids(self) -> dict[str, int]:
        """Each market's last diff-depth update id (Binance's `u`)."""
        return {symbol: m.update_id for symbol, m in self._markets.items()}

    def adopt(self, order: Order, parked: bool) -> None:
        """Take in an open order restored from a snapshot: into its book, or among the parked stop orders."""
        m = self._markets[order.symbol]
        order.lock = self.ledger.get((order.account, m.quote if order.side is BUY else m.base))
        if parked:
            m.stops.append(order)
        else:
            m.book.add(order)
        self.orders[order.order_id] = order
        if order.client_order_id:
            self.client_ids[(order.account, order.client_order_id)] = order.order_id

    def market(self, symbol: str) -> Market:
        return self._markets[symbol]

    def book_ticker(self, symbol: str) -> Top:
        """Best bid, its quantity, best ask, its quantity (0 for an empty side)."""
        return self._markets[symbol].book.top()

    def depth(self, symbol: str, limit: int = 100) -> dict[str, object]:
        """An L2 snapshot with the update id diff events continue from (Binance's lastUpdateId)."""
        book = self.books[symbol]
        return {"lastUpdateId": self._markets[symbol].update_id, "bids": book.depth(BUY, limit),
                "asks": book.depth(SELL, limit)}

    def restored(self) -> None:
        """After state was loaded from a snapshot: restoring is not a change, and the ticker is where it is."""
        for m in self._markets.values():
            m.book.clear_touched()
            m.top = m.book.top()

    # -- balances ---------------------------------------------------------------------------------------
    def balance(self, account: str, asset: str) -> tuple[int, int]:
        b = self.ledger.balances.get((account, asset))
        return (0, 0) if b is None else (b.free, b.locked)

    @property
    def free(self) -> dict[Key, int]:
        """Non-zero free balances by (account, asset) (a copy)."""
        return self.ledger.free_view()

    @property
    def locked(self) -> dict[Key, int]:
        """Non-zero locked balances by (account, asset) (a copy)."""
        return self.ledger.locked_view()

    def _deposit(self, cmd: Deposit) -> Result:
        if cmd.amount <= 0:
            return Result(Code.INVALID_ORDER, reason="deposit amount must be positive")
        self.ledger.add_free(self.ledger.get((cmd.account, cmd.asset)), cmd.amount)
        return Result(OK)

    def _transfer(self, cmd: Transfer) -> Result:
        if cmd.amount <= 0:
            return Result(Code.INVALID_ORDER, reason="transfer amount must be positive")
        ledger = self.ledger
        if ledger.free((cmd.source, cmd.asset)) < cmd.amount:
            return Result(Code.INSUFFICIENT_BALANCE, reason="insufficient free balance")
        ledger.add_free(ledger.get((cmd.source, cmd.asset)), -cmd.amount)
        ledger.add_free(ledger.get((cmd.destination, cmd.asset)), cmd.amount)
        return Result(OK)

    def _withdraw(self, cmd: Withdraw) -> Result:
        if cmd.amount <= 0:
            return Result(Code.INVALID_ORDER, reason="withdrawal amount must be positive")
        ledger = self.ledger
        if ledger.free((cmd.account, cmd.asset)) < cmd.amount:
            return Result(Code.INSUFFICIENT_BALANCE, reason="insufficient free balance")
        ledger.add_free(ledger.get((cmd.account, cmd.asset)), -cmd.amount)
        return Result(OK)

    # -- placing ----------------------------------------------------------------------------------------
    def _place(self, cmd: PlaceOrder) -> Result:
        m = self._markets.get(cmd.symbol)
        if m is None:
            return Result(Code.UNKNOWN_MARKET, reason=f"unknown symbol {cmd.symbol}")
        kind, side, price, qty = cmd.type, cmd.side, cmd.price, cmd.qty
        if kind is MARKET:
            invalid = validate_market_order(cmd, m.min_notional)
            if invalid is not None:
                return Result(invalid[0], reason=invalid[1])
        elif price <= 0:
            return Result(Code.PRICE_FILTER, reason="price must be a positive whole number of ticks")
        elif qty <= 0:
            return Result(Code.LOT_SIZE, reason="quantity must be a positive whole number of lots")
        elif cmd.quote_qty:
            return Result(Code.INVALID_ORDER, reason="quoteOrderQty is only for MARKET orders")
        elif (kind is STOP_LOSS_LIMIT or kind is TAKE_PROFIT_LIMIT) and cmd.stop_price <= 0:
            return Result(Code.PRICE_FILTER, reason="stop orders need a positive stop price")
        elif price * qty * m.per_lot_tick < m.min_notional:
            return Result(Code.MIN_NOTIONAL, reason="order value below the market's minimum notional")
        account, client_order_id = cmd.account, cmd.client_order_id
        if client_order_id and (account, client_order_id) in self.client_ids:
            return Result(Code.DUPLICATE_CLIENT_ORDER_ID, reason="duplicate client order id among open orders")
        book = m.book
        if kind is LIMIT_MAKER and _crosses(book, side, price):
                return Result(Code.WOULD_TAKE, reason="order would immediately match and take")
        if kind is MARKET:
            asset, amount = lock_for_market_order(cmd, m.spec, book)
            key = (account, asset)
        elif side is BUY:
            key, amount = (account, m.quote), price * qty * m.per_lot_tick
        else:
            key, amount = (account, m.base), qty * m.lot_size
        lock = self.ledger.balances.get(key)
        if lock is None or lock.free < amount:
            if amount:
                return Result(Code.INSUFFICIENT_BALANCE,
                              reason="account has insufficient balance for requested action")
            lock = self.ledger.get(key)  # a MARKET order with nothing to take locks nothing
        order_id = self.next_order_id
        self.next_order_id = order_id + 1
        order = Order(order_id, account, m.symbol, side, kind, cmd.tif, price, qty, client_order_id, cmd.stp, cmd.ts,
                      cmd.stop_price, cmd.quote_qty, 0, 0, amount)
        order.lock = lock
        self.ledger.lock(lock, amount)  # what the order could spend
        self.orders[order.order_id] = order
        if client_order_id:
            self.client_ids[(account, client_order_id)] = order.order_id
        self._log.append((ORDER_EVENT, order, NEW, X_NEW, qty, 0, 0, 0, 0, ""))
        if (kind is STOP_LOSS_LIMIT or kind is TAKE_PROFIT_LIMIT):
            m.stops.append(order)
            return Result(OK, order_id)
        self._dirty.append(m)
        if (kind is LIMIT or kind is LIMIT_MAKER) and cmd.tif is GTC and not _crosses(book, side, price):
            book.add(order)  # nothing to match: it rests at once
        else:
            self._execute(order, m)
        if m.stops:
            self._trigger_stops(m)
        return Result(OK, order_id)

    def _close(self, order: Order, status: Status) -> None:
        """Take an order out of the open set and release what it still locks."""
        order.status = status
        self.orders.pop(order.order_id, None)
        if order.client_order_id:
            self.client_ids.pop((order.account, order.client_order_id), None)
        if order.locked:
            self.ledger.unlock(order.lock, order.locked)
            order.locked = 0

    def _report(self, order: Order, exec_type: ExecType, last_qty: int = 0, last_price: int = 0,
                reason: str = "") -> None:
        self._log.append((ORDER_EVENT, order, order.status, exec_type, order.qty, order.filled, order.cum_quote,
                          last_qty, last_price, reason))

    # -- matching ---------------------------------------------------------------------------------------------
    def _execute(self, order: Order, m: Market) -> None:
        if order.tif is FOK and order.type is not MARKET and not self._fillable(order, m.book):
            self._close(order, EXPIRED)
            self._report(order, X_EXPIRED, reason="FOK order could not be filled in full")
            return
        self._match(order, m)
        if order.order_id not in self.orders:  # filled, expired in match, or a finished quote-sized order
            return
        if order.type is not MARKET and order.tif is GTC:
            m.book.add(order)
            return
        self._close(order, EXPIRED)
        self._report(order, X_EXPIRED, reason="remaining quantity could not be matched")

    def _fillable(self, order: Order, book: Book) -> bool:
        available = 0
        buying = order.side is BUY
        for maker in book.walk(SELL if buying else BUY):
            if maker.price > order.price if buying else maker.price < order.price:
                break
            if maker.account == order.account and order.stp is not STP_NONE:
                if (order.stp is EXPIRE_TAKER or order.stp is EXPIRE_BOTH):
                    break
                continue
            available += maker.qty - maker.filled
            if available >= order.qty:
                return True
        return False

    def _match(self, order: Order, m: Market) -> None:
        """Take liquidity for `order` in price-time priority, at each resting order's price."""
        book = m.book
        buying = order.side is BUY
        opposite = SELL if buying else BUY
        limit = order.price  # 0 only for a MARKET order without a protection price: no limit
        by_quote = order.type is MARKET and order.quote_qty > 0
        while True:
            if by_quote:
                if (buying and order.locked <= 0) or (order.qty and order.qty - order.filled <= 0):
                    break
            elif order.qty - order.filled <= 0:
                break
            maker = book.front(opposite)
            if maker is None or (limit and (maker.price > limit if buying else maker.price < limit)):
                break
            if order.stp is not STP_NONE and maker.account == order.account:
                if (order.stp is EXPIRE_MAKER or order.stp is EXPIRE_BOTH):
                    book.pop_front(opposite)
                    self._close(maker, EXPIRED_IN_MATCH)
                    self._report(maker, X_PREVENTION, reason="self-trade prevention")
                if (order.stp is EXPIRE_TAKER or order.stp is EXPIRE_BOTH):
                    self._close(order, EXPIRED_IN_MATCH)
                    self._report(order, X_PREVENTION, reason="self-trade prevention")
                    return
                continue
            qty = maker.qty - maker.filled
            if by_quote:
                per_lot = maker.price * m.per_lot_tick
                budget = order.locked if buying else order.quote_qty - order.cum_quote
                qty = min(qty, budget // per_lot)
                if not buying:
                    qty = min(qty, order.locked // m.lot_size)
                if order.qty:
                    qty = min(qty, order.qty - order.filled)
            else:
                qty = min(qty, order.qty - order.filled)
            if qty <= 0:
                break
            self._trade(maker, order, qty, m)
        if by_quote:
            self._finish_quote_order(order, m)

    def _finish_quote_order(self, order: Order, m: Market) -> None:
        """A MARKET order sized in quote is done once matched: FILLED if less than one more lot's worth of
        its budget is left at the last price, else EXPIRED; what it did not use is released."""
        capped = order.qty > 0 and order.filled == order.qty
        order.qty = order.filled
        left = order.locked if order.side is BUY else order.quote_qty - order.cum_quote
        last = self.last_price.get(m.symbol)
        done = order.filled > 0 and (capped or (last is not None and left < last * m.per_lot_tick))
        self._close(order, FILLED if done else EXPIRED)
        if not done:
            self._report(order, X_EXPIRED, reason="quote amount could not be spent")
            return
        log = self._log
        for i in range(len(log) - 1, -1, -1):  # its last trade report is where it became FILLED, as on Binance
            record = log[i]
            if type(record) is tuple and record[0] == ORDER_EVENT and record[1] is order:
                log[i] = (ORDER_EVENT, order, FILLED, record[3], order.qty, *record[5:])
                break

    def _trade(self, maker: Order, taker: Order, qty: int, m: Market) -> None:
        price = maker.price
        quote = price * qty * m.per_lot_tick
        base = qty * m.lot_size
        buyer, seller = (taker, maker) if taker.side is BUY else (maker, taker)
        # the buyer releases what it locked for these lots at its own limit and pays the trade price
        release = buyer.price * qty * m.per_lot_tick if buyer.type is not MARKET else quote
        ledger = self.ledger
        buyer.locked -= release
        ledger.add_locked(buyer.lock, -release)  # (buyer, quote asset)
        ledger.add_free(buyer.lock, release - quote)
        seller.locked -= base
        ledger.add_locked(seller.lock, -base)  # (seller, base asset)
        maker_bps, taker_bps = m.maker_fee_bps, m.taker_fee_bps
        buyer_fee, buyer_fee_asset = self._credit_after_fee(
            buyer.account, m.base, base, base * (taker_bps if buyer is taker else maker_bps) // 10_000)
        seller_fee, seller_fee_asset = self._credit_after_fee(
            seller.account, m.quote, quote, quote * (taker_bps if seller is taker else maker_bps) // 10_000)
        m.book.reduce(maker, qty)
        maker.filled += qty
        maker.cum_quote += quote
        taker.filled += qty
        taker.cum_quote += quote
        maker_is_buyer = maker is buyer
        trade = Trade(self.next_trade_id, m.symbol, price, qty, quote, maker.order_id, taker.order_id,
                      maker.account, taker.account, taker.side,
                      buyer_fee if maker_is_buyer else seller_fee, seller_fee if maker_is_buyer else buyer_fee,
                      taker.ts, buyer_fee_asset if maker_is_buyer else seller_fee_asset,
                      seller_fee_asset if maker_is_buyer else buyer_fee_asset)
        self.next_trade_id += 1
        self.last_price[m.symbol] = price
        if maker.qty == maker.filled:
            m.book.pop_front(maker.side)
            self._close(maker, FILLED)
        else:
            maker.status = PARTIALLY_FILLED
        if taker.quote_qty == 0 and taker.qty == taker.filled:
            self._close(taker, FILLED)
        else:  # quote-sized market orders are closed by _finish_quote_order
            taker.status = PARTIALLY_FILLED
        self._report(maker, X_TRADE, qty, price)
        self._report(taker, X_TRADE, qty, price)
        self._log.append(trade)

    def _credit_after_fee(self, account: str, asset: str, amount: int, fee: int) -> tuple[int, str]:
        """Credit a trade's proceeds; the fee comes out of them, or out of the platform token at the
        discount when the account opted in and has enough free (the settlement vault's own rule)."""
        policy = self.fee_policy
        if fee and account in self.pays_in_platform_token and asset != policy.platform_asset:
            platform_fee = policy.platform_fee(asset, fee)
            ledger = self.ledger
            key = (account, policy.platform_asset)
            if platform_fee is not None and ledger.free(key) >= platform_fee:
                if platform_fee:
                    ledger.add_free(ledger.get(key), -platform_fee)
                    ledger.add_free(ledger.get((self.fee_account, policy.platform_asset)), platform_fee)
                ledger.add_free(ledger.get((account, asset)), amount)
                return platform_fee, policy.platform_asset
        self.ledger.add_free(self.ledger.get((account, asset)), amount - fee)
        if fee:
            self.ledger.add_free(self.ledger.get((self.fee_account, asset)), fee)
        return fee, asset

    def _trigger_stops(self, m: Market) -> None:
        """Stop-limit orders whose stop the last trade price crossed become limit orders, oldest first."""
        while True:
            last = self.last_price.get(m.symbol)
            if last is None:
                return
            fired = next((o for o in m.stops if _stop_hit(o, last)), None)
            if fired is None:
                return
            m.stops.remove(fired)
            self._execute(fired, m)

    # -- cancel and amend ---------------------------------------------------------------------------------
    def _find(self, account: str, symbol: str, order_id: int, client_order_id: str) -> Order | None:
        if not order_id and client_order_id:
            order_id = self.client_ids.get((account, client_order_id), 0)
        order = self.orders.get(order_id)
        if order is None or order.account != account or order.symbol != symbol:
            return None
        return order

    def _cancel(self, cmd: CancelOrder) -> Result:
        order = self._cancel_order(cmd)
        if order is None:
            return Result(Code.UNKNOWN_ORDER, reason="unknown order sent")
        return Result(OK, order.order_id)

    def _cancel_order(self, cmd: CancelOrder) -> Order | None:
        order = self.orders.get(cmd.order_id or self.client_ids.get((cmd.account, cmd.client_order_id), 0))
        if order is None or order.account != cmd.account or order.symbol != cmd.symbol:
            return None
        m = self._markets[order.symbol]
        if (order.type is STOP_LOSS_LIMIT or order.type is TAKE_PROFIT_LIMIT) and order in m.stops:
            m.stops.remove(order)
        else:
            m.book.remove(order)
            self._dirty.append(m)
        order.status = CANCELED  # _close, inlined: this is most of every cancel-replace
        del self.orders[order.order_id]
        if order.client_order_id:
            del self.client_ids[(order.account, order.client_order_id)]
        if order.locked:
            self.ledger.unlock(order.lock, order.locked)
            order.locked = 0
        self._log.append((ORDER_EVENT, order, CANCELED, X_CANCELED, order.qty, order.filled, order.cum_quote, 0, 0,
                          ""))
        return order

    def _amend(self, cmd: AmendOrder) -> Result:
        order = self._find(cmd.account, cmd.symbol, cmd.order_id, "")
        if order is None:
            return Result(Code.UNKNOWN_ORDER, reason="unknown order sent")
        if not order.filled < cmd.new_qty < order.qty:
            return Result(Code.LOT_SIZE, reason="new quantity must be below the current and above the filled quantity")
        m = self._markets[order.symbol]
        cut = order.qty - cmd.new_qty
        amount = order.price * cut * m.per_lot_tick if order.side is BUY else cut * m.lot_size
        self.ledger.unlock(order.lock, amount)
        order.locked -= amount
        if not ((order.type is STOP_LOSS_LIMIT or order.type is TAKE_PROFIT_LIMIT) and order in m.stops):
            m.book.reduce(order, cut)
            self._dirty.append(m)
        order.qty = cmd.new_qty
        self._report(order, X_REPLACED)
        return Result(OK, order.order_id)

    # -- state ------------------------------------------------------------------------------------------------
    def state_hash(self) -> str:
        """A digest of books, open orders, balances and counters: equal states hash equal."""
        h = hashlib.sha256()
        h.update(f"{self.next_order_id}/{self.next_trade_id}".encode())
        for symbol in sorted(self.books):
            h.update(symbol.encode())
            for o in self.books[symbol].orders():
                h.update(f"|{o.order_id},{o.side.value},{o.price},{o.qty},{o.filled},{o.locked}".encode())
            for o in self.stops[symbol]:
                h.update(f"|s{o.order_id},{o.stop_price},{o.qty}".encode())
            h.update(f"#{self.last_price.get(symbol)}#{self._markets[symbol].update_id}".encode())
        free, locked = self.free, self.locked
        for key in sorted(free):
            h.update(f"F{key}={free[key]}".encode())
        for key in sorted(locked):
            h.update(f"L{key}={locked[key]}".encode())
        h.update(",".join(sorted(self.pays_in_platform_token)).encode())
        return h.hexdigest()


def _crosses(book: Book, side: Side, price: int) -> bool:
    """Whether an order at `price` would trade with the best of the other side."""
    if side is BUY:
        best = book.best(SELL)
        return best is not None and best <= price
    best = book.best(BUY)
    return best is not None and best >= price


def _stop_hit(order: Order, last: int) -> bool:
    # STOP_LOSS: a buy fires when the price rises to the stop, a sell when it falls to it; TAKE_PROFIT the reverse
    rising = order.side is BUY if order.type is STOP_LOSS_LIMIT else order.side is SELL
    return last >= order.stop_price if rising else last <= order.stop_price

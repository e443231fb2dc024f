"""The matching engine: commands in, a result code and events out; deterministic and integer-only.

The engine never reads the clock (time arrives in commands), so replaying the
same commands rebuilds the same state, checked by `state_hash()`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable

from .book import Book, Order
from .market import MarketSpec
from .model import (SetFeePreference, AmendOrder, BalanceUpdate, BookTicker, CancelOrder, CancelReplace, Code, Command, DepthUpdate, Deposit, Event, ExecType,
                    OrderType, OrderUpdate, PlaceOrder, Result, Side, Status, Stp, TimeInForce, Trade, Transfer,
                    Withdraw)

FEE_ACCOUNT = "fees"
PRICE_SCALE = 10**18


@dataclass(frozen=True)
class FeePolicy:
    """Fees paid in the platform token: `rates[asset]` platform-token units per asset unit (x 10**18)."""

    platform_asset: str = ""
    discount_bps: int = 0
    rates: dict[str, int] = field(default_factory=dict)

    def platform_fee(self, asset: str, fee: int) -> int | None:
        rate = self.rates.get(asset)
        if not self.platform_asset or not rate:
            return None
        return fee * rate // PRICE_SCALE * (10_000 - self.discount_bps) // 10_000
LIMIT_TYPES = (OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT)
STOP_TYPES = (OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT)


class Engine:
    def __init__(self, markets: Iterable[MarketSpec], fee_account: str = FEE_ACCOUNT,
                 book_class: type = Book, fee_policy: "FeePolicy | None" = None) -> None:
        self.fee_policy = fee_policy or FeePolicy()
        self.pays_in_platform_token: set[str] = set()
        self.markets = {m.symbol: m for m in markets}
        self.books = {symbol: book_class() for symbol in self.markets}
        self.fee_account = fee_account
        self.free: dict[tuple[str, str], int] = {}
        self.locked: dict[tuple[str, str], int] = {}
        self.orders: dict[int, Order] = {}  # open orders, resting or parked stops
        self.client_ids: dict[tuple[str, str], int] = {}
        self.stops: dict[str, list[Order]] = {symbol: [] for symbol in self.markets}
        self.last_price: dict[str, int] = {}
        self.update_ids: dict[str, int] = {symbol: 0 for symbol in self.markets}
        self._tickers: dict[str, tuple[int, int, int, int]] = {}  # last published best bid/ask
        self.next_order_id = 1
        self.next_trade_id = 1
        self._events: list[Event] = []
        self._touched: dict[tuple[str, str], None] = {}
        self._handlers = {PlaceOrder: self._place, CancelOrder: self._cancel, AmendOrder: self._amend,
                          CancelReplace: self._cancel_replace, Deposit: self._deposit, Withdraw: self._withdraw,
                          SetFeePreference: self._set_fee_preference, Transfer: self._transfer}

    # -- entry point ------------------------------------------------------------------------------
    def process(self, command: Command) -> Result:
        self._events, self._touched = [], {}
        handler = self._handlers.get(type(command))
        if handler is None:
            raise TypeError(f"not a command: {command!r}")
        result = handler(command)
        for key in self._touched:
            self._events.append(BalanceUpdate(key[0], key[1], self.free.get(key, 0), self.locked.get(key, 0)))
        for symbol, book in self.books.items():
            if book.touched:
                self._publish_depth(symbol, book)
        result.events = self._events
        return result

    def _cancel_replace(self, command: CancelReplace) -> Result:
        result = self._cancel(command.cancel)
        if not result.ok:
            return result
        placed = self._place(command.place)
        return Result(placed.code, order_id=placed.order_id, reason=placed.reason)

    def _set_fee_preference(self, command: SetFeePreference) -> Result:
        if command.pay_in_platform_token:
            self.pays_in_platform_token.add(command.account)
        else:
            self.pays_in_platform_token.discard(command.account)
        return Result(Code.OK)

    # -- market data ---------------------------------------------------------------------------------
    def _publish_depth(self, symbol: str, book: Book) -> None:
        before = self._tickers.get(symbol, (0, 0, 0, 0))
        update_id = self.update_ids[symbol] + 1
        self.update_ids[symbol] = update_id
        bids, asks = [], []
        level_qty = book.level_qty
        for side, price in book.touched:
            if side is Side.BUY:
                bids.append((price, level_qty(side, price)))
            else:
                asks.append((price, level_qty(side, price)))
        book.touched.clear()
        if len(bids) > 1:
            bids.sort(reverse=True)
        if len(asks) > 1:
            asks.sort()
        self._events.append(DepthUpdate(symbol, update_id, update_id, tuple(bids), tuple(asks)))
        after = self._ticker(symbol, book)
        if after != before:
            self._tickers[symbol] = after
            self._events.append(BookTicker(symbol, update_id, *after))

    @staticmethod
    def _ticker(symbol: str, book: Book) -> tuple[int, int, int, int]:
        bid, ask = book.best(Side.BUY), book.best(Side.SELL)
        return (bid or 0, book.level_qty(Side.BUY, bid) if bid else 0,
                ask or 0, book.level_qty(Side.SELL, ask) if ask else 0)

    def depth(self, symbol: str, limit: int = 100) -> dict[str, object]:
        """An L2 snapshot with the update id diff events continue from (Binance's lastUpdateId)."""
        book = self.books[symbol]
        return {"lastUpdateId": self.update_ids[symbol], "bids": book.depth(Side.BUY, limit),
                "asks": book.depth(Side.SELL, limit)}

    # -- balances ---------------------------------------------------------------------------------------
    def balance(self, account: str, asset: str) -> tuple[int, int]:
        return self.free.get((account, asset), 0), self.locked.get((account, asset), 0)

    def _add(self, book: dict[tuple[str, str], int], key: tuple[str, str], amount: int) -> None:
        value = book.get(key, 0) + amount
        assert value >= 0, f"balance of {key} would go negative"
        if value:
            book[key] = value
        else:
            book.pop(key, None)
        self._touched[key] = None

    def _lock(self, account: str, asset: str, amount: int) -> None:
        self._move(self.free, self.locked, (account, asset), amount)

    def _unlock(self, account: str, asset: str, amount: int) -> None:
        self._move(self.locked, self.free, (account, asset), amount)

    def _move(self, source: dict[tuple[str, str], int], target: dict[tuple[str, str], int],
              key: tuple[str, str], amount: int) -> None:
        """`_add(source, -amount)` then `_add(target, amount)`, in one call (this is on every order's path)."""
        left = source.get(key, 0) - amount
        assert left >= 0, f"balance of {key} would go negative"
        if left:
            source[key] = left
        else:
            source.pop(key, None)
        value = target.get(key, 0) + amount
        if value:
            target[key] = value
        else:
            target.pop(key, None)
        self._touched[key] = None

    def _deposit(self, cmd: Deposit) -> Result:
        if cmd.amount <= 0:
            return Result(Code.INVALID_ORDER, reason="deposit amount must be positive")
        self._add(self.free, (cmd.account, cmd.asset), cmd.amount)
        return Result(Code.OK)

    def _transfer(self, cmd: Transfer) -> Result:
        if cmd.amount <= 0:
            return Result(Code.INVALID_ORDER, reason="transfer amount must be positive")
        if self.free.get((cmd.source, cmd.asset), 0) < cmd.amount:
            return Result(Code.INSUFFICIENT_BALANCE, reason="insufficient free balance")
        self._add(self.free, (cmd.source, cmd.asset), -cmd.amount)
        self._add(self.free, (cmd.destination, cmd.asset), cmd.amount)
        return Result(Code.OK)

    def _withdraw(self, cmd: Withdraw) -> Result:
        if cmd.amount <= 0:
            return Result(Code.INVALID_ORDER, reason="withdrawal amount must be positive")
        if self.free.get((cmd.account, cmd.asset), 0) < cmd.amount:
            return Result(Code.INSUFFICIENT_BALANCE, reason="insufficient free balance")
        self._add(self.free, (cmd.account, cmd.asset), -cmd.amount)
        return Result(Code.OK)

    # -- placing ----------------------------------------------------------------------------------------
    def _reject(self, code: Code, reason: str) -> Result:
        return Result(code, reason=reason)

    def _place(self, cmd: PlaceOrder) -> Result:
        market = self.markets.get(cmd.symbol)
        if market is None:
            return self._reject(Code.UNKNOWN_MARKET, f"unknown symbol {cmd.symbol}")
        invalid = self._validate(cmd, market)
        if invalid is not None:
            return invalid
        if cmd.client_order_id and (cmd.account, cmd.client_order_id) in self.client_ids:
            return self._reject(Code.DUPLICATE_CLIENT_ORDER_ID, "duplicate client order id among open orders")
        book = self.books[cmd.symbol]
        opposite = Side.SELL if cmd.side is Side.BUY else Side.BUY
        if cmd.type is OrderType.LIMIT_MAKER and self._crosses(cmd.side, cmd.price, book.best(opposite)):
            return self._reject(Code.WOULD_TAKE, "order would immediately match and take")
        lock_asset, lock_amount = self._lock_needed(cmd, market, book)
        if self.free.get((cmd.account, lock_asset), 0) < lock_amount:
            return self._reject(Code.INSUFFICIENT_BALANCE, "account has insufficient balance for requested action")
        order = Order(self.next_order_id, cmd.account, cmd.symbol, cmd.side, cmd.type, cmd.tif, cmd.price, cmd.qty,
                      cmd.client_order_id, cmd.stp, cmd.ts, stop_price=cmd.stop_price, quote_qty=cmd.quote_qty,
                      locked=lock_amount)
        self.next_order_id += 1
        self._lock(cmd.account, lock_asset, lock_amount)
        self._open(order)
        self._report(order, ExecType.NEW)
        if cmd.type in STOP_TYPES:
            self.stops[cmd.symbol].append(order)
            return Result(Code.OK, order_id=order.order_id)
        self._execute(order, market, book)
        self._trigger_stops(cmd.symbol, cmd.ts)
        return Result(Code.OK, order_id=order.order_id)

    def _validate(self, cmd: PlaceOrder, market: MarketSpec) -> Result | None:
        if cmd.type is OrderType.MARKET:
            # a MARKET order may carry a protection price (the worst it will trade at; 0 = none) and, when sized
            # by quote amount, a base quantity cap: what a signed settlement order needs
            if cmd.price < 0:
                return self._reject(Code.PRICE_FILTER, "protection price must not be negative")
            if cmd.qty <= 0 and cmd.quote_qty <= 0:
                return self._reject(Code.INVALID_ORDER, "MARKET orders take quantity or quoteOrderQty")
            if cmd.qty < 0 or cmd.quote_qty < 0:
                return self._reject(Code.LOT_SIZE, "quantity must be positive")
            if cmd.quote_qty and cmd.quote_qty < market.min_notional:
                return self._reject(Code.MIN_NOTIONAL, "order value below the market's minimum notional")
            return None
        if cmd.price <= 0:
            return self._reject(Code.PRICE_FILTER, "price must be a positive whole number of ticks")
        if cmd.qty <= 0:
            return self._reject(Code.LOT_SIZE, "quantity must be a positive whole number of lots")
        if cmd.quote_qty:
            return self._reject(Code.INVALID_ORDER, "quoteOrderQty is only for MARKET orders")
        if cmd.type in STOP_TYPES and cmd.stop_price <= 0:
            return self._reject(Code.PRICE_FILTER, "stop orders need a positive stop price")
        if market.notional(cmd.price, cmd.qty) < market.min_notional:
            return self._reject(Code.MIN_NOTIONAL, "order value below the market's minimum notional")
        return None

    @staticmethod
    def _crosses(side: Side, price: int, opposite_best: int | None) -> bool:
        if opposite_best is None:
            return False
        return opposite_best <= price if side is Side.BUY else opposite_best >= price

    def _lock_needed(self, cmd: PlaceOrder, market: MarketSpec, book: Book) -> tuple[str, int]:
        """What accepting the order locks: quote for buys, base for sells (market orders: what they can use)."""
        if cmd.type is not OrderType.MARKET:
            if cmd.side is Side.BUY:
                return market.quote.symbol, market.notional(cmd.price, cmd.qty)
            return market.base.symbol, market.base_units(cmd.qty)
        opposite = Side.SELL if cmd.side is Side.BUY else Side.BUY
        if cmd.side is Side.BUY:
            if cmd.quote_qty:
                return market.quote.symbol, cmd.quote_qty
            cost, left = 0, cmd.qty
            for maker in book.walk(opposite):
                if cmd.price and not self._crosses(cmd.side, cmd.price, maker.price):
                    break
                take = min(left, maker.remaining)
                cost += market.notional(maker.price, take)
                left -= take
                if not left:
                    break
            return market.quote.symbol, cost
        if cmd.qty and not cmd.quote_qty:
            return market.base.symbol, market.base_units(cmd.qty)
        lots, budget = 0, cmd.quote_qty
        for maker in book.walk(opposite):
            if cmd.price and not self._crosses(cmd.side, cmd.price, maker.price):
                break
            per_lot = market.notional(maker.price, 1)
            take = min(maker.remaining, budget // per_lot)
            if cmd.qty:
                take = min(take, cmd.qty - lots)
            lots += take
            budget -= take * per_lot
            if take < maker.remaining or (cmd.qty and lots == cmd.qty):
                break
        return market.base.symbol, market.base_units(lots)

    def _open(self, order: Order) -> None:
        self.orders[order.order_id] = order
        if order.client_order_id:
            self.client_ids[(order.account, order.client_order_id)] = order.order_id

    def _close(self, order: Order, status: Status) -> None:
        """Take an order out of the open set and release what it still locks."""
        order.status = status
        self.orders.pop(order.order_id, None)
        if order.client_order_id:
            self.client_ids.pop((order.account, order.client_order_id), None)
        if order.locked:
            market = self.markets[order.symbol]
            asset = market.quote.symbol if order.side is Side.BUY else market.base.symbol
            self._unlock(order.account, asset, order.locked)
            order.locked = 0

    # -- matching ---------------------------------------------------------------------------------------------
    def _execute(self, order: Order, market: MarketSpec, book: Book) -> None:
        if order.tif is TimeInForce.FOK and order.type is not OrderType.MARKET and not self._fillable(order, book):
            self._close(order, Status.EXPIRED)
            self._report(order, ExecType.EXPIRED, reason="FOK order could not be filled in full")
            return
        self._match(order, market, book)
        if order.order_id not in self.orders:  # filled, expired in match, or a finished quote-sized order
            return
        if order.type in LIMIT_TYPES and order.tif is TimeInForce.GTC:
            book.add(order)
            return
        self._close(order, Status.EXPIRED)
        self._report(order, ExecType.EXPIRED, reason="remaining quantity could not be matched")

    def _fillable(self, order: Order, book: Book) -> bool:
        opposite = Side.SELL if order.side is Side.BUY else Side.BUY
        available = 0
        for maker in book.walk(opposite):
            if not self._crosses(order.side, order.price, maker.price):
                break
            if maker.account == order.account and order.stp is not Stp.NONE:
                if order.stp in (Stp.EXPIRE_TAKER, Stp.EXPIRE_BOTH):
                    break
                continue
            available += maker.remaining
            if available >= order.qty:
                return True
        return False

    def _match(self, order: Order, market: MarketSpec, book: Book) -> None:
        """Take liquidity for `order` in price-time priority, at each resting order's price."""
        opposite = Side.SELL if order.side is Side.BUY else Side.BUY
        by_quote = order.type is OrderType.MARKET and order.quote_qty > 0
        while True:
            if by_quote:
                if (order.side is Side.BUY and order.locked <= 0) or (order.qty and order.remaining <= 0):
                    break
            elif order.remaining <= 0:
                break
            maker = book.front(opposite)
            if maker is None:
                break
            if (order.type is not OrderType.MARKET or order.price) and \
                    not self._crosses(order.side, order.price, maker.price):
                break
            if maker.account == order.account and order.stp is not Stp.NONE:
                if order.stp in (Stp.EXPIRE_MAKER, Stp.EXPIRE_BOTH):
                    book.pop_front(opposite)
                    self._close(maker, Status.EXPIRED_IN_MATCH)
                    self._report(maker, ExecType.TRADE_PREVENTION, reason="self-trade prevention")
                if order.stp in (Stp.EXPIRE_TAKER, Stp.EXPIRE_BOTH):
                    self._close(order, Status.EXPIRED_IN_MATCH)
                    self._report(order, ExecType.TRADE_PREVENTION, reason="self-trade prevention")
                    return
                continue
            qty = maker.remaining
            if by_quote:
                per_lot = market.notional(maker.price, 1)
                budget = order.locked if order.side is Side.BUY else order.quote_qty - order.cum_quote
                qty = min(qty, budget // per_lot)
                if order.side is Side.SELL:
                    qty = min(qty, order.locked // market.lot_size)
                if order.qty:
                    qty = min(qty, order.remaining)
            else:
                qty = min(qty, order.remaining)
            if qty <= 0:
                break
            self._trade(maker, order, maker.price, qty, market, book, opposite)
        if by_quote:
            self._finish_quote_order(order, market)

    def _finish_quote_order(self, order: Order, market: MarketSpec) -> None:
        """A MARKET order sized in quote is done once matched: FILLED if less than one more lot's worth of
        its budget is left at the last price, else EXPIRED; what it did not use is released."""
        capped = order.qty > 0 and order.filled == order.qty
        order.qty = order.filled
        left = order.locked if order.side is Side.BUY else order.quote_qty - order.cum_quote
        last = self.last_price.get(market.symbol)
        done = order.filled > 0 and (capped or (last is not None and left < market.notional(last, 1)))
        self._close(order, Status.FILLED if done else Status.EXPIRED)
        if not done:
            self._report(order, ExecType.EXPIRED, reason="quote amount could not be spent")
            return
        for event in reversed(self._events):  # its last trade report is where it became FILLED, as on Binance
            if isinstance(event, OrderUpdate) and event.order_id == order.order_id:
                event.status, event.qty = Status.FILLED, order.qty
                break

    def _trade(self, maker: Order, taker: Order, price: int, qty: int, market: MarketSpec, book: Book,
               maker_side: Side) -> None:
        quote = market.notional(price, qty)
        base = market.base_units(qty)
        buyer, seller = (taker, maker) if taker.side is Side.BUY else (maker, taker)
        # the buyer releases what it locked for these lots at its own limit and pays the trade price
        release = market.notional(buyer.price, qty) if buyer.type is not OrderType.MARKET else quote
        buyer.locked -= release
        self._add(self.locked, (buyer.account, market.quote.symbol), -release)
        self._add(self.free, (buyer.account, market.quote.symbol), release - quote)
        seller.locked -= base
        self._add(self.locked, (seller.account, market.base.symbol), -base)
        maker_fee_bps, taker_fee_bps = market.maker_fee_bps, market.taker_fee_bps
        buyer_fee, buyer_fee_asset = self._credit_after_fee(
            buyer.account, market.base.symbol, base, base * (taker_fee_bps if buyer is taker else maker_fee_bps) // 10_000)
        seller_fee, seller_fee_asset = self._credit_after_fee(
            seller.account, market.quote.symbol, quote,
            quote * (taker_fee_bps if seller is taker else maker_fee_bps) // 10_000)
        book.reduce(maker, qty)
        for order in (maker, taker):
            order.filled += qty
            order.cum_quote += quote
        maker_is_buyer = maker is buyer
        trade = Trade(self.next_trade_id, market.symbol, price, qty, quote, maker.order_id, taker.order_id,
                      maker.account, taker.account, taker.side,
                      buyer_fee if maker_is_buyer else seller_fee, seller_fee if maker_is_buyer else buyer_fee,
                      taker.ts, buyer_fee_asset if maker_is_buyer else seller_fee_asset,
                      seller_fee_asset if maker_is_buyer else buyer_fee_asset)
        self.next_trade_id += 1
        self.last_price[market.symbol] = price
        if maker.remaining == 0:
            book.pop_front(maker_side)
            self._close(maker, Status.FILLED)
        else:
            maker.status = Status.PARTIALLY_FILLED
        if taker.quote_qty == 0 and taker.remaining == 0:
            self._close(taker, Status.FILLED)
        else:  # quote-sized market orders are closed by _finish_quote_order
            taker.status = Status.PARTIALLY_FILLED
        self._report(maker, ExecType.TRADE, last_qty=qty, last_price=price)
        self._report(taker, ExecType.TRADE, last_qty=qty, last_price=price)
        self._events.append(trade)

    def _credit_after_fee(self, account: str, asset: str, amount: int, fee: int) -> tuple[int, str]:
        """Credit a trade's proceeds; the fee comes out of them, or out of the platform token at the
        discount when the account opted in and has enough free (the settlement vault's own rule)."""
        policy = self.fee_policy
        if fee and account in self.pays_in_platform_token and asset != policy.platform_asset:
            platform_fee = policy.platform_fee(asset, fee)
            key = (account, policy.platform_asset)
            if platform_fee is not None and self.free.get(key, 0) >= platform_fee:
                if platform_fee:
                    self._add(self.free, key, -platform_fee)
                    self._add(self.free, (self.fee_account, policy.platform_asset), platform_fee)
                self._add(self.free, (account, asset), amount)
                return platform_fee, policy.platform_asset
        self._add(self.free, (account, asset), amount - fee)
        if fee:
            self._add(self.free, (self.fee_account, asset), fee)
        return fee, asset

    def _trigger_stops(self, symbol: str, ts: int) -> None:
        """Stop-limit orders whose stop the last trade price crossed become limit orders, oldest first."""
        while True:
            last = self.last_price.get(symbol)
            if last is None:
                return
            fired = next((o for o in self.stops[symbol] if self._stop_hit(o, last)), None)
            if fired is None:
                return
            self.stops[symbol].remove(fired)
            market, book = self.markets[symbol], self.books[symbol]
            self._execute(fired, market, book)

    @staticmethod
    def _stop_hit(order: Order, last: int) -> bool:
        # STOP_LOSS: a buy fires when the price rises to the stop, a sell when it falls to it; TAKE_PROFIT the reverse
        rising = order.side is Side.BUY if order.type is OrderType.STOP_LOSS_LIMIT else order.side is Side.SELL
        return last >= order.stop_price if rising else last <= order.stop_price

    # -- cancel and amend ---------------------------------------------------------------------------------
    def _find(self, account: str, symbol: str, order_id: int, client_order_id: str) -> Order | None:
        if not order_id and client_order_id:
            order_id = self.client_ids.get((account, client_order_id), 0)
        order = self.orders.get(order_id)
        if order is None or order.account != account or order.symbol != symbol:
            return None
        return order

    def _cancel(self, cmd: CancelOrder) -> Result:
        order = self._find(cmd.account, cmd.symbol, cmd.order_id, cmd.client_order_id)
        if order is None:
            return self._reject(Code.UNKNOWN_ORDER, "unknown order sent")
        if order in self.stops[order.symbol]:
            self.stops[order.symbol].remove(order)
        else:
            self.books[order.symbol].remove(order)
        self._close(order, Status.CANCELED)
        self._report(order, ExecType.CANCELED)
        return Result(Code.OK, order_id=order.order_id)

    def _amend(self, cmd: AmendOrder) -> Result:
        order = self._find(cmd.account, cmd.symbol, cmd.order_id, "")
        if order is None:
            return self._reject(Code.UNKNOWN_ORDER, "unknown order sent")
        if not order.filled < cmd.new_qty < order.qty:
            return self._reject(Code.LOT_SIZE, "new quantity must be below the current and above the filled quantity")
        market = self.markets[order.symbol]
        cut = order.qty - cmd.new_qty
        if order.side is Side.BUY:
            self._unlock(order.account, market.quote.symbol, market.notional(order.price, cut))
            order.locked -= market.notional(order.price, cut)
        else:
            self._unlock(order.account, market.base.symbol, market.base_units(cut))
            order.locked -= market.base_units(cut)
        if order in self.stops[order.symbol]:
            order.qty = cmd.new_qty
        else:
            self.books[order.symbol].reduce(order, cut)
            order.qty = cmd.new_qty
        self._report(order, ExecType.REPLACED)
        return Result(Code.OK, order_id=order.order_id)

    # -- events and state ------------------------------------------------------------------------------------
    def _report(self, order: Order, exec_type: ExecType, last_qty: int = 0, last_price: int = 0,
                reason: str = "") -> None:
        self._events.append(OrderUpdate(
            order.order_id, order.client_order_id, order.account, order.symbol, order.side, order.type, order.tif,
            order.price, order.qty, order.status, exec_type, order.filled, order.cum_quote, last_qty, last_price,
            reason, order.ts))

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
            h.update(f"#{self.last_price.get(symbol)}#{self.update_ids[symbol]}".encode())
        for key in sorted(self.free):
            h.update(f"F{key}={self.free[key]}".encode())
        for key in sorted(self.locked):
            h.update(f"L{key}={self.locked[key]}".encode())
        h.update(",".join(sorted(self.pays_in_platform_token)).encode())
        return h.hexdigest()

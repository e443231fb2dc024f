"""Matching: price-time priority, trades at the resting order's price, fees, self-trade prevention, icebergs, stops.

An iceberg shows one slice (`iceberg_qty` lots) of its quantity at a time; a taker matches only what it shows, and
when a slice is used up the next one joins the back of its price level, as on Binance. Every trade is shown to
the parked stop orders of its market (`follow`); those it triggers run, in trigger order, once the command's own
matching is done: a STOP_LOSS_LIMIT / TAKE_PROFIT_LIMIT as a limit order, a STOP_LOSS / TAKE_PROFIT as a market
order bounded by its protection price (what it locked for a buy; 0 = none for a sell) that never rests.
"""

from __future__ import annotations

from .balances import Balance
from .book import Book, Order
from .fees import PRICE_SCALE
from .model import TRADE_EVENT
from .state import (BUY, EXPIRE_BOTH, EXPIRE_MAKER, EXPIRE_TAKER, EXPIRED, EXPIRED_IN_MATCH, FILLED, FOK, GTC, MARKET,
                    ORDER_EVENT, PARTIALLY_FILLED, SELL, STOP_LOSS, STP_NONE, TAKE_PROFIT, X_EXPIRED, X_PREVENTION,
                    X_TRADE, EngineState, Market, base_units, fee_of, follow, order_value, within)


class Matching(EngineState):
    def _execute(self, order: Order, m: Market) -> None:
        if order.tif is FOK and order.type is not MARKET and not self._fillable(order, m.book):
            self._close(order, EXPIRED)
            self._report(order, X_EXPIRED, reason="FOK order could not be filled in full")
            return
        self._match(order, m)
        if self.orders.find(order.order_id) is None:  # filled, expired in match, or a finished quote-sized order
            return
        if order.type is not MARKET and order.tif is GTC and order.type is not STOP_LOSS \
                and order.type is not TAKE_PROFIT:
            if order.iceberg_qty:
                order.visible = min(order.iceberg_qty, order.qty - order.filled)
            m.book.add(order)
            return
        self._close(order, EXPIRED)
        self._report(order, X_EXPIRED, reason="remaining quantity could not be matched")

    def _fillable(self, order: Order, book: Book) -> bool:
        available = 0
        buying = order.side is BUY
        for maker in book.walk(SELL if buying else BUY):
            if not within(buying, order.price, maker.price):
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
            if maker is None or not within(buying, limit, maker.price):
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
            qty = maker.visible if maker.iceberg_qty else maker.qty - maker.filled
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
        quote = order_value(m, price, qty)
        base = base_units(m, qty)
        buyer, seller = (taker, maker) if taker.side is BUY else (maker, taker)
        # the buyer releases what it locked for these lots at its own limit and pays the trade price
        release = order_value(m, buyer.price, qty) if buyer.type is not MARKET else quote
        ledger = self.ledger
        buyer.locked -= release
        ledger.add_locked(buyer.lock, -release)  # (buyer, quote asset)
        ledger.add_free(buyer.lock, release - quote)
        seller.locked -= base
        ledger.add_locked(seller.lock, -base)  # (seller, base asset)
        maker_bps, taker_bps = m.maker_fee_bps, m.taker_fee_bps
        buyer_fee, buyer_fee_asset = self._credit_after_fee(
            buyer, m.base, m.base_holders, base, fee_of(base, taker_bps if buyer is taker else maker_bps))
        seller_fee, seller_fee_asset = self._credit_after_fee(
            seller, m.quote, m.quote_holders, quote, fee_of(quote, taker_bps if seller is taker else maker_bps))
        book = m.book
        book.reduce(maker, qty)
        maker.filled += qty
        maker.cum_quote += quote
        if maker.iceberg_qty:
            maker.visible -= qty
        taker.filled += qty
        taker.cum_quote += quote
        maker_is_buyer = maker is buyer
        trade = (TRADE_EVENT, self.next_trade_id, m.symbol, price, qty, quote, maker.order_id, taker.order_id,
                 maker.account, taker.account, taker.side,
                 buyer_fee if maker_is_buyer else seller_fee, seller_fee if maker_is_buyer else buyer_fee,
                 taker.ts, buyer_fee_asset if maker_is_buyer else seller_fee_asset,
                 seller_fee_asset if maker_is_buyer else buyer_fee_asset)  # a Trade's fields, in order
        self.next_trade_id += 1
        self.last_price[m.symbol] = price
        if maker.qty == maker.filled:
            book.pop_front(maker.side)
            self._close(maker, FILLED)
        else:
            maker.status = PARTIALLY_FILLED
            if maker.iceberg_qty and not maker.visible:  # the next slice joins the back of the queue
                book.pop_front(maker.side)
                maker.visible = min(maker.iceberg_qty, maker.qty - maker.filled)
                book.add(maker)
        if taker.quote_qty == 0 and taker.qty == taker.filled:
            self._close(taker, FILLED)
        else:  # quote-sized market orders are closed by _finish_quote_order
            taker.status = PARTIALLY_FILLED
        self._report(maker, X_TRADE, qty, price)
        self._report(taker, X_TRADE, qty, price)
        self._log.append(trade)
        if m.stops:
            self._follow_stops(m, price)

    def _holding(self, holders: dict[str, Balance], account: str, asset: str) -> Balance:
        """`account`'s balance in `asset`, one of a market's two assets, found through the market's holders of it
        (`holders`: a lookup by the account's name, where the ledger's needs a new (account, asset) key)."""
        balance = holders.get(account)
        if balance is None:
            balance = holders[account] = self.ledger.get((account, asset))
        return balance

    def _credit_after_fee(self, order: Order, asset: str, holders: dict[str, Balance], amount: int,
                          fee: int) -> tuple[int, str]:
        """Credit a trade's proceeds in `asset` (one of the market's two; `holders` its holders); the fee comes out
        of them, or out of the platform token at the discount when the account opted in, has enough free, and the
        order signed a platform-token rate that covers it (the settlement vault checks that bound: fee x 10**18 <=
        amount x the signed rate)."""
        policy = self.fee_policy
        account = order.account
        if fee and account in self.pays_in_platform_token and asset != policy.platform_asset:
            platform_fee = policy.platform_fee(asset, fee)
            ledger = self.ledger
            key = (account, policy.platform_asset)
            if platform_fee is not None and ledger.free(key) >= platform_fee \
                    and platform_fee * PRICE_SCALE <= amount * order.max_platform_fee_rate:
                if platform_fee:
                    ledger.add_free(ledger.get(key), -platform_fee)
                    ledger.add_free(ledger.get((self.fee_account, policy.platform_asset)), platform_fee)
                ledger.add_free(self._holding(holders, account, asset), amount)
                return platform_fee, policy.platform_asset
        self.ledger.add_free(self._holding(holders, account, asset), amount - fee)
        if fee:
            self.ledger.add_free(self._holding(holders, self.fee_account, asset), fee)
        return fee, asset

    def _follow_stops(self, m: Market, price: int) -> None:
        """Show a trade to the market's parked stop orders; those it triggers leave them, oldest first."""
        stops = m.stops
        i = 0
        while i < len(stops):
            order = stops[i]
            if follow(order, price):
                del stops[i]
                m.fired.append(order)
            else:
                i += 1

    def _trigger_stops(self, m: Market) -> None:
        """Run the stop orders the command's trades triggered, in trigger order (their own trades may trigger
        more)."""
        fired = m.fired
        while fired:
            self._execute(fired.pop(0), m)

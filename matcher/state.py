"""The engine's state and the reads on it: markets with their books, open orders, the ledger, market data.

`EngineState` holds everything a command can change; `matching.Matching` adds
the matching rules on top of it and `engine.Engine` the commands. The constants
below are enum members under short names: `Final`, so that a compiled build
keeps them in C statics (an enum class attribute costs ~70 ns in CPython).
"""

from __future__ import annotations

import hashlib
from typing import Any, Final, Iterable

from mypy_extensions import i64

from .balances import Balance, Key, Ledger
from .book import Book, Order, Top
from .errors import BadMarketSpec
from .fees import FeePolicy
from .market import Asset, MarketSpec
from .model import (ORDER_EVENT, TICKER_EVENT, Code, ExecType, OrderType, Side, SideDepthRecord, Status, Stp,
                    TimeInForce)
from .open_orders import OpenOrders

FEE_ACCOUNT = "fees"

BUY: Final = Side.BUY
SELL: Final = Side.SELL
LIMIT: Final = OrderType.LIMIT
MARKET: Final = OrderType.MARKET
LIMIT_MAKER: Final = OrderType.LIMIT_MAKER
STOP_LOSS_LIMIT: Final = OrderType.STOP_LOSS_LIMIT
TAKE_PROFIT_LIMIT: Final = OrderType.TAKE_PROFIT_LIMIT
STOP_LOSS: Final = OrderType.STOP_LOSS
TAKE_PROFIT: Final = OrderType.TAKE_PROFIT
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


def _compiled() -> bool:
    """Whether this module runs compiled: mypyc makes its functions built-in ones."""
    return type(_compiled).__name__ != "function"


COMPILED: Final = _compiled()
# A compiled build keeps ints below this unboxed, and multiplies i64s natively: the native paths below (order_value,
# base_units, fee_of) are taken there only; in the Python sources i64() would be one more call, for nothing. One
# short of 2**62: the largest int a compiled build keeps unboxed, so that arithmetic with it is native too.
NATIVE_LIMIT: Final = (1 << 62) - 1


class Market:
    """A market's spec flattened for the hot path, with its book and parked stop orders."""

    __slots__ = ("spec", "symbol", "base", "quote", "per_lot_tick", "lot_size", "min_notional", "maker_fee_bps",
                 "taker_fee_bps", "book", "stops", "fired", "top", "update_id", "base_holders", "quote_holders",
                 "native_per_lot_tick", "native_ticks_lots", "native_lot_size", "native_lots", "top_bid", "top_ask")

    def __init__(self, spec: MarketSpec, book: Book) -> None:
        self.spec, self.symbol, self.book = spec, spec.symbol, book
        self.base, self.quote = spec.base.symbol, spec.quote.symbol
        self.per_lot_tick, self.lot_size, self.min_notional = spec.quote_per_lot_tick, spec.lot_size, spec.min_notional
        # below `native_ticks_lots` ticks x lots (`native_lots` lots), an order's value (its base units) fits in 62
        # bits: multiplied natively (see order_value and base_units)
        fits = COMPILED and 0 < self.per_lot_tick < NATIVE_LIMIT
        self.native_per_lot_tick: i64 = self.per_lot_tick if fits else 0
        self.native_ticks_lots = NATIVE_LIMIT // self.per_lot_tick if fits else -1
        fits = COMPILED and 0 < self.lot_size < NATIVE_LIMIT
        self.native_lot_size: i64 = self.lot_size if fits else 0
        self.native_lots = NATIVE_LIMIT // self.lot_size if fits else -1
        self.maker_fee_bps, self.taker_fee_bps = spec.maker_fee_bps, spec.taker_fee_bps
        self.stops: list[Order] = []  # parked stop orders, oldest first
        self.fired: list[Order] = []  # stop orders a trade of the current command triggered, in trigger order
        self.top: Top = (0, 0, 0, 0)  # the best bid/ask last published
        self.top_bid = self.top_ask = 0  # its prices (0: the side was empty), unboxed in a compiled build
        self.update_id = 0  # of the last diff-depth event
        # each account's ledger balance in the base and the quote asset, found once (balances are never dropped)
        self.base_holders: dict[str, Balance] = {}
        self.quote_holders: dict[str, Balance] = {}


def set_top(m: Market, top: Top) -> None:
    """The book ticker last published, and its prices."""
    m.top = top
    m.top_bid, m.top_ask = top[0], top[2]


def order_value(m: Market, price: int, qty: int) -> int:
    """price x qty x the market's quote per lot and tick: an order's value in quote units. A compiled build's int
    multiply takes a slow path (both operands boxed into new objects) whenever one is 2**30 or more, as the quote per
    lot and tick usually is; when the product cannot pass 62 bits it is worked out as a native 64-bit product."""
    ticks_lots = price * qty
    if 0 <= ticks_lots < m.native_ticks_lots:
        return i64(ticks_lots) * m.native_per_lot_tick
    return ticks_lots * m.per_lot_tick


def fee_of(amount: int, bps: int) -> int:
    """`bps` basis points of `amount`, rounded down (natively when the product cannot pass 62 bits)."""
    if COMPILED and 0 <= bps <= 10_000 and 0 <= amount < NATIVE_LIMIT // (bps + 1):
        return i64(amount) * i64(bps) // 10_000
    return amount * bps // 10_000


def base_units(m: Market, qty: int) -> int:
    """qty lots in the base asset's units (natively when that cannot pass 62 bits, as in order_value)."""
    if 0 <= qty < m.native_lots:
        return i64(qty) * m.native_lot_size
    return qty * m.lot_size


class EngineState:
    def __init__(self, markets: Iterable[MarketSpec], fee_account: str = FEE_ACCOUNT,
                 book_class: type[Book] = Book, fee_policy: FeePolicy | None = None) -> None:
        self.fee_policy = fee_policy or FeePolicy()
        self.pays_in_platform_token: set[str] = set()
        self._book_class = book_class
        self._asset_by_symbol: dict[str, Asset] = {}  # every market's assets
        self._asset_by_token: dict[str, Asset] = {}
        self._markets: dict[str, Market] = {}
        self.markets: dict[str, MarketSpec] = {}
        self.books: dict[str, Book] = {}
        self.stops: dict[str, list[Order]] = {}
        for spec in markets:
            refused = self.open_market(spec)
            if refused:
                raise BadMarketSpec(refused)
        self.fee_account = fee_account
        self.ledger = Ledger()
        self.orders = OpenOrders()  # open orders, resting or parked stops, by id
        self.client_ids: dict[Key, int] = {}
        self.last_price: dict[str, int] = {}
        self.next_order_id = 1
        self.next_trade_id = 1
        self._log: list[Any] = []  # the current command's event records
        # markets whose book the current command may have changed: the first `_dirty_count` entries (the list is
        # reused, not cleared, so that marking one allocates nothing)
        self._dirty: list[Market] = []
        self._dirty_count = 0

    # -- market data ---------------------------------------------------------------------------------
    def _publish(self, m: Market, log: list[Any]) -> None:
        """Binance's diff depth for the levels a command changed (if any did), and the book ticker if the best bid
        or ask moved. The ticker can only have moved if a changed level is at or better than the old best (or a
        side was empty): otherwise the old best levels are untouched and still the best."""
        update_id = m.update_id + 1
        record = m.book.take_depth(m.symbol, update_id)
        if record is None:
            return
        m.update_id = update_id
        log.append(record)
        moved = False
        if isinstance(record, SideDepthRecord):
            best = record.price
            if record.bids:
                moved = not m.top_bid or best >= m.top_bid
            else:
                moved = not m.top_ask or best <= m.top_ask
        else:
            bids, asks = record[3], record[4]
            if bids:
                best = bids[0]
                moved = not m.top_bid or best >= m.top_bid
            if not moved and asks:
                best = asks[0]
                moved = not m.top_ask or best <= m.top_ask
        if moved:
            top = m.book.top()
            if top != m.top:
                set_top(m, top)
                log.append((TICKER_EVENT, m.symbol, update_id, top))

    @property
    def update_ids(self) -> dict[str, int]:
        """Each market's last diff-depth update id (Binance's `u`)."""
        return {symbol: m.update_id for symbol, m in self._markets.items()}

    def adopt(self, order: Order, parked: bool) -> None:
        """Take in an open order restored from a snapshot: into its book, or among the parked stop orders."""
        m = self._markets[order.symbol]
        order.lock = self.ledger.get((order.account, m.quote if order.side is BUY else m.base))
        order.market = m
        if parked:
            m.stops.append(order)
        else:
            m.book.add(order)
        self.orders.add(order)
        if order.client_order_id:
            self.client_ids[(order.account, order.client_order_id)] = order.order_id

    def market(self, symbol: str) -> Market:
        return self._markets[symbol]

    def open_market(self, spec: MarketSpec) -> str:
        """Add a market with an empty book; "" or why it cannot be added (nothing changed then): its symbol is
        taken, or one of its asset symbols already names another token (or the same token with other decimals)."""
        if spec.symbol in self._markets:
            return f"market {spec.symbol} exists"
        for asset in (spec.base, spec.quote):
            for other in (self._asset_by_symbol.get(asset.symbol), self._asset_by_token.get(asset.token)):
                if other is not None and other != asset:
                    return f"asset {asset.symbol} ({asset.token}) conflicts with {other.symbol} ({other.token})"
        for asset in (spec.base, spec.quote):
            self._asset_by_symbol[asset.symbol] = self._asset_by_token[asset.token] = asset
        m = Market(spec, self._book_class())
        self._markets[spec.symbol] = m
        self.markets[spec.symbol] = spec
        self.books[spec.symbol] = m.book
        self.stops[spec.symbol] = m.stops
        return ""

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
            set_top(m, m.book.top())

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

    # -- orders -------------------------------------------------------------------------------------------
    def _close(self, order: Order, status: Status) -> None:
        """Take an order out of the open set and release what it still locks."""
        order.status = status
        self.orders.discard(order.order_id)
        if order.client_order_id:
            key = (order.account, order.client_order_id)
            if key in self.client_ids:
                del self.client_ids[key]
        if order.locked:
            self.ledger.unlock(order.lock, order.locked)
            order.locked = 0

    def _report(self, order: Order, exec_type: ExecType, last_qty: int = 0, last_price: int = 0,
                reason: str = "") -> None:
        self._log.append((ORDER_EVENT, order, order.status, exec_type, order.qty, order.filled, order.cum_quote,
                          last_qty, last_price, reason))

    # -- state ------------------------------------------------------------------------------------------------
    def state_hash(self) -> str:
        """A digest of books, open orders, balances and counters: equal states hash equal."""
        h = hashlib.sha256()
        h.update(f"{self.next_order_id}/{self.next_trade_id}".encode())
        for symbol in sorted(self.books):
            h.update(symbol.encode())
            for o in self.books[symbol].orders():
                h.update(f"|{o.order_id},{o.side.value},{o.price},{o.qty},{o.filled},{o.locked}".encode())
                if o.max_platform_fee_rate:
                    h.update(f"p{o.max_platform_fee_rate}".encode())
                if o.iceberg_qty:
                    h.update(f"i{o.iceberg_qty},{o.visible}".encode())
            for o in self.stops[symbol]:
                h.update(f"|s{o.order_id},{o.stop_price},{o.qty}".encode())
                if o.trailing_delta or o.iceberg_qty:
                    h.update(f"t{o.trailing_delta},{o.trail_price},{o.iceberg_qty}".encode())
            h.update(f"#{self.last_price.get(symbol)}#{self._markets[symbol].update_id}".encode())
        free, locked = self.free, self.locked
        for key in sorted(free):
            h.update(f"F{key}={free[key]}".encode())
        for key in sorted(locked):
            h.update(f"L{key}={locked[key]}".encode())
        h.update(",".join(sorted(self.pays_in_platform_token)).encode())
        policy = self.fee_policy
        if policy.discount_bps or policy.rates:
            h.update(f"D{policy.discount_bps}R{sorted(policy.rates.items())}".encode())
        return h.hexdigest()


def within(buying: bool, limit: int, price: int) -> bool:
    """Whether a resting order at `price` is inside the limit of a buy (`buying`) or sell order (0 = no limit)."""
    if not limit:
        return True
    return price <= limit if buying else price >= limit


def crosses(book: Book, side: Side, price: int) -> bool:
    """Whether an order at `price` would trade with the best of the other side."""
    if side is BUY:
        best = book.best(SELL)
        return best is not None and best <= price
    best = book.best(BUY)
    return best is not None and best >= price


def is_stop(kind: OrderType) -> bool:
    return kind is STOP_LOSS_LIMIT or kind is TAKE_PROFIT_LIMIT or kind is STOP_LOSS or kind is TAKE_PROFIT


def stop_hit(order: Order, last: int) -> bool:
    return reached(order.type, order.side, order.stop_price, last)


def reached(kind: OrderType, side: Side, stop_price: int, last: int) -> bool:
    """Whether a trade at `last` reaches a stop price: a STOP_LOSS buy when the price rises to it, a sell when it
    falls to it; TAKE_PROFIT the reverse."""
    loss = kind is STOP_LOSS_LIMIT or kind is STOP_LOSS
    rising = side is BUY if loss else side is SELL
    return last >= stop_price if rising else last <= stop_price


def follow(order: Order, price: int) -> bool:
    """A parked stop order sees a trade at `price`; whether that triggers it. A trailing stop (Binance's
    trailingDelta, in basis points) starts tracking at its stop price (or at once without one) and triggers when the
    price moves the delta against the best price since: a sell down from the highest, a buy up from the lowest."""
    delta = order.trailing_delta
    if not delta:
        return stop_hit(order, price)
    best = order.trail_price
    if not best:
        if not order.stop_price or stop_hit(order, price):
            order.trail_price = price  # tracking starts at this trade
        return False
    if order.side is BUY:
        if price < best:
            order.trail_price = price
            return False
        return price * 10_000 >= best * (10_000 + delta)
    if price > best:
        order.trail_price = price
        return False
    return price * 10_000 <= best * (10_000 - delta)

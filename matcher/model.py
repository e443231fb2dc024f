"""Commands in, events out: the engine's vocabulary, in Binance's spot terms."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Final, Sequence

from mypy_extensions import i64, mypyc_attr

from .balances import joined
from .market import Asset, MarketSpec


class Side(str, enum.Enum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(str, enum.Enum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    LIMIT_MAKER = "LIMIT_MAKER"
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"
    STOP_LOSS = "STOP_LOSS"  # a stop that becomes a MARKET order (with a protection price) when triggered
    TAKE_PROFIT = "TAKE_PROFIT"


class TimeInForce(str, enum.Enum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class Status(str, enum.Enum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"


class ExecType(str, enum.Enum):
    NEW = "NEW"
    TRADE = "TRADE"
    CANCELED = "CANCELED"
    REPLACED = "REPLACED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    TRADE_PREVENTION = "TRADE_PREVENTION"


class Stp(str, enum.Enum):
    """Self-trade prevention, chosen by the taker."""

    NONE = "NONE"
    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_MAKER = "EXPIRE_MAKER"
    EXPIRE_BOTH = "EXPIRE_BOTH"


class Code(enum.IntEnum):
    """Result codes: a rejected command is a normal outcome, not an exception."""

    OK = 0
    UNKNOWN_MARKET = 1
    PRICE_FILTER = 2
    LOT_SIZE = 3
    MIN_NOTIONAL = 4
    INSUFFICIENT_BALANCE = 5
    UNKNOWN_ORDER = 6
    DUPLICATE_CLIENT_ORDER_ID = 7
    WOULD_TAKE = 8  # LIMIT_MAKER that would match
    INVALID_ORDER = 9  # a combination Binance refuses (e.g. MARKET with a price)
    WOULD_TRIGGER = 10  # a stop order whose stop the last price has already reached


# -- commands ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Deposit:
    account: str
    asset: str
    amount: int
    ts: int = 0


@dataclass(frozen=True)
class Withdraw:
    account: str
    asset: str
    amount: int
    ts: int = 0


@dataclass(frozen=True)
class Transfer:
    """Move free balance between accounts (a ledger correction, such as undoing a fill the chain refused)."""

    source: str
    destination: str
    asset: str
    amount: int
    ts: int = 0


@dataclass(frozen=True)
class PlaceOrder:
    account: str
    symbol: str
    side: Side
    type: OrderType
    qty: int = 0  # lots (for a MARKET order sized by quote_qty: an optional cap)
    price: int = 0  # ticks (for a MARKET order: an optional protection price, the worst it trades at)
    quote_qty: int = 0  # quote units, MARKET orders by amount
    tif: TimeInForce = TimeInForce.GTC
    stop_price: int = 0
    client_order_id: str = ""
    stp: Stp = Stp.NONE
    ts: int = 0
    max_platform_fee_rate: int = 0  # what its fee in the platform token may be at most, per unit received (x 1e18)
    trailing_delta: int = 0  # stop orders: trigger after the price moves this many basis points against the order
    iceberg_qty: int = 0  # lots shown in the book at a time (0: all of it)


@dataclass(frozen=True)
class CancelOrder:
    account: str
    symbol: str
    order_id: int = 0
    client_order_id: str = ""
    ts: int = 0


@dataclass(frozen=True)
class AmendOrder:
    """Reduce an open order's quantity, keeping its place in the queue."""

    account: str
    symbol: str
    order_id: int
    new_qty: int
    ts: int = 0


@dataclass(frozen=True)
class SetFeePreference:
    """Opt in (or out) to paying fees in the platform token at the configured discount."""

    account: str
    pay_in_platform_token: bool
    ts: int = 0


@dataclass(frozen=True)
class SetPlatformFeeRate:
    """Platform-token units charged per unit of `asset` fee (x 10**18; 0: fees in `asset` are never converted), as
    the settlement vault publishes it."""

    asset: str
    rate: int
    ts: int = 0


@dataclass(frozen=True)
class SetFeeDiscount:
    """The discount on fees paid in the platform token, in basis points, as the settlement vault publishes it."""

    discount_bps: int
    ts: int = 0


@dataclass(frozen=True)
class AddMarket:
    """Open a market while the engine runs (a listing): its spec, flat so that the journal stores it as it
    stores every command. Refused if the symbol exists or an asset symbol is already another token's."""

    symbol: str
    base: str
    base_token: str
    base_decimals: int
    quote: str
    quote_token: str
    quote_decimals: int
    tick_size: int
    lot_size: int
    min_notional: int
    maker_fee_bps: int
    taker_fee_bps: int
    ts: int = 0

    @staticmethod
    def of(spec: MarketSpec, ts: int = 0) -> "AddMarket":
        return AddMarket(spec.symbol, spec.base.symbol, spec.base.token, spec.base.decimals, spec.quote.symbol,
                         spec.quote.token, spec.quote.decimals, spec.tick_size, spec.lot_size, spec.min_notional,
                         spec.maker_fee_bps, spec.taker_fee_bps, ts)

    def spec(self) -> MarketSpec:
        """The market's spec (raises BadMarketSpec if it is not a valid one)."""
        return MarketSpec(self.symbol, Asset(self.base, self.base_token, self.base_decimals),
                          Asset(self.quote, self.quote_token, self.quote_decimals), self.tick_size, self.lot_size,
                          self.min_notional, self.maker_fee_bps, self.taker_fee_bps)


@dataclass(frozen=True)
class CancelReplace:
    """Cancel an order and place a new one (which joins the back of the queue)."""

    cancel: CancelOrder
    place: PlaceOrder


Command = Deposit | Withdraw | Transfer | PlaceOrder | CancelOrder | AmendOrder | CancelReplace | SetFeePreference | \
    SetPlatformFeeRate | SetFeeDiscount | AddMarket


# -- events ------------------------------------------------------------------------------------
# Events are slotted records, not frozen ones: a frozen dataclass costs ~4.4 us to build against
# ~0.5 us (object.__setattr__ per field), and the engine builds several per command. Treat them as read-only.
@dataclass(slots=True)
class OrderUpdate:
    order_id: int
    client_order_id: str
    account: str
    symbol: str
    side: Side
    type: OrderType
    tif: TimeInForce
    price: int
    qty: int
    status: Status
    exec_type: ExecType
    filled: int
    cum_quote: int
    last_qty: int = 0
    last_price: int = 0
    reason: str = ""
    ts: int = 0


@dataclass(slots=True)
class Trade:
    trade_id: int
    symbol: str
    price: int
    qty: int
    quote: int
    maker_order_id: int
    taker_order_id: int
    maker: str
    taker: str
    taker_side: Side
    maker_fee: int
    taker_fee: int
    ts: int = 0
    maker_fee_asset: str = ""  # the asset the maker received, or the platform token at a discount
    taker_fee_asset: str = ""


@dataclass(slots=True)
class DepthUpdate:
    """Binance's diff depth: levels changed by one command, with their new total (0 = gone)."""

    symbol: str
    first_update_id: int  # U
    last_update_id: int  # u
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]


@dataclass(slots=True)
class BookTicker:
    symbol: str
    update_id: int
    bid_price: int
    bid_qty: int
    ask_price: int
    ask_qty: int


@dataclass(slots=True)
class BalanceUpdate:
    account: str
    asset: str
    free: int
    locked: int


Event = OrderUpdate | Trade | BalanceUpdate | DepthUpdate | BookTicker


# -- results ----------------------------------------------------------------------------------
# The engine records events as flat tuples, tagged by kind: a typed event costs several times more to build than
# the tuple, and the engine writes several per command. `Result.events` turns them into the typed records above,
# once, on first access (values are copied into the tuple when the event happens; only an order's fixed fields,
# such as its id, account and price, are read from the order later). The records most commands write are not
# tuples: an accepted order's is a `NewRecord` (the order and its quantity then), a changed balance's a
# `BalanceRecord`, one side's one or two changed levels a `SideDepthRecord`, and a cancelled order is its own record
# (it never changes again, so its fields are still those of the moment it was cancelled).
# The tags are strings: a compiled build keeps a string constant as an object, where an int constant is boxed again
# for every record.
ORDER_EVENT: Final = "order"
DEPTH_EVENT: Final = "depth"
TICKER_EVENT: Final = "ticker"
TRADE_EVENT: Final = "trade"


# The record classes are what a compiled build makes natively: kept out of the garbage collector (nothing they
# hold refers back to them) and each reusing the last one freed (a command usually writes one of each and its caller
# drops them before the next); their int fields are kept unboxed. No-ops in the sources.
@mypyc_attr(free_list_len=1, acyclic=True)
class NewRecord:
    """An accepted order's event record: the order, and its quantity when it was accepted (an amend may change it)."""

    __slots__ = ("order", "qty")

    def __init__(self, order: Any, qty: int) -> None:
        self.order = order
        self.qty = qty


@mypyc_attr(free_list_len=1, acyclic=True)
class SideDepthRecord:
    """The depth record of a command that changed one or two levels of one side of a book (most commands; others
    write (DEPTH_EVENT, symbol, update_id, bids, asks)): which side, the update id, and the levels, best first (a
    level's total is 0 once it is gone)."""

    __slots__ = ("bids", "symbol", "update_id", "price", "total", "two", "price2", "total2")

    def __init__(self, bids: bool, symbol: str, update_id: int, price: int, total: int, two: bool = False,
                 price2: int = 0, total2: int = 0) -> None:
        self.bids = bids
        self.symbol = symbol
        self.update_id = update_id
        self.price = price
        self.total = total
        self.two = two  # a second level
        self.price2 = price2
        self.total2 = total2

    def levels(self) -> tuple[tuple[int, int], ...]:
        if self.two:
            return ((self.price, self.total), (self.price2, self.total2))
        return ((self.price, self.total),)


@mypyc_attr(free_list_len=1, acyclic=True)
class BalanceRecord:
    """A changed balance's event record: its (account, asset) key and its free and locked amounts then, in the
    ledger's limbs (see balances.py: joining them is left to whoever reads the amounts)."""

    __slots__ = ("key", "free_hi", "free_lo", "locked_hi", "locked_lo")

    def __init__(self, key: Any, free_hi: int, free_lo: i64, locked_hi: int, locked_lo: i64) -> None:
        self.key = key
        self.free_hi = free_hi
        self.free_lo = free_lo
        self.locked_hi = locked_hi
        self.locked_lo = locked_lo

    @property
    def free(self) -> int:
        return joined(self.free_hi, self.free_lo)

    @property
    def locked(self) -> int:
        return joined(self.locked_hi, self.locked_lo)


def typed_event(record: Any) -> Event:
    if type(record) is not tuple:
        if type(record) is BalanceRecord:
            account, asset = record.key
            return BalanceUpdate(account, asset, record.free, record.locked)
        if type(record) is SideDepthRecord:
            changed = record.levels()
            return DepthUpdate(record.symbol, record.update_id, record.update_id, changed if record.bids else (),
                               () if record.bids else changed)
        if type(record) is NewRecord:
            o = record.order
            return OrderUpdate(o.order_id, o.client_order_id, o.account, o.symbol, o.side, o.type, o.tif, o.price,
                               record.qty, Status.NEW, ExecType.NEW, 0, 0, 0, 0, "", o.ts)
        o = record  # a cancelled order
        return OrderUpdate(o.order_id, o.client_order_id, o.account, o.symbol, o.side, o.type, o.tif, o.price, o.qty,
                           Status.CANCELED, ExecType.CANCELED, o.filled, o.cum_quote, 0, 0, "", o.ts)
    kind = record[0]
    if kind == TRADE_EVENT:
        return Trade(*record[1:])
    if kind == ORDER_EVENT:
        _, o, status, exec_type, qty, filled, cum_quote, last_qty, last_price, reason = record
        return OrderUpdate(o.order_id, o.client_order_id, o.account, o.symbol, o.side, o.type, o.tif, o.price, qty,
                           status, exec_type, filled, cum_quote, last_qty, last_price, reason, o.ts)
    if kind == DEPTH_EVENT:
        _, symbol, update_id, bids, asks = record
        return DepthUpdate(symbol, update_id, update_id, levels(bids), levels(asks))
    if kind == TICKER_EVENT:
        _, symbol, update_id, top = record
        return BookTicker(symbol, update_id, *top)
    raise ValueError(f"not an event record: {record!r}")


def levels(flat: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """(price, total) pairs from a depth record's flat (price, total, price, total, ...) tuple."""
    return tuple(zip(flat[::2], flat[1::2]))


# A compiled build keeps the last freed Result for the next command (one per command: a caller usually drops it
# before the next) rather than freeing and allocating it, and leaves it out of the garbage collector: nothing it
# holds can refer back to it. Both are no-ops in the sources.
@mypyc_attr(free_list_len=1, acyclic=True)
class Result:
    """A command's outcome: a result code, the order it placed or touched, a reason, and the events it caused."""

    __slots__ = ("code", "order_id", "reason", "log", "_events")

    def __init__(self, code: Code, order_id: int = 0, reason: str = "") -> None:
        self.code, self.order_id, self.reason = code, order_id, reason
        # event records, as the engine wrote them: the engine sets its list here (none until then; not a fresh list
        # per result, which the engine would throw away at once)
        self.log: Sequence[Any] = ()
        self._events: list[Event] | None = None

    @property
    def ok(self) -> bool:
        return self.code is Code.OK

    @property
    def events(self) -> list[Event]:
        if self._events is None:
            self._events = [typed_event(record) for record in self.log]
        return self._events

    def __repr__(self) -> str:
        return f"Result({self.code!r}, order_id={self.order_id}, reason={self.reason!r}, events={len(self.log)})"

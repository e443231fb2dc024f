"""Commands in, events out: the engine's vocabulary, in Binance's spot terms."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Side(str, enum.Enum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(str, enum.Enum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    LIMIT_MAKER = "LIMIT_MAKER"
    STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"


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
class CancelReplace:
    """Cancel an order and place a new one (which joins the back of the queue)."""

    cancel: CancelOrder
    place: PlaceOrder


Command = Deposit | Withdraw | Transfer | PlaceOrder | CancelOrder | AmendOrder | CancelReplace | SetFeePreference


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


@dataclass
class Result:
    code: Code
    events: list[Event] = field(default_factory=list)
    order_id: int = 0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.code is Code.OK

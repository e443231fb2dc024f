"""The exchange's errors in Binance's shape: `{"code": -1013, "msg": "..."}` with an HTTP status.

Codes follow Binance where it has one; Bourse-specific conditions (chain and signature rules) use -3xxx.
"""

from __future__ import annotations

from matcher.errors import MatcherError
from matcher.model import Code

UNKNOWN = -1000
SERVER_BUSY = -1008  # too many fills wait for settlement: new orders wait until it catches up
TIMESTAMP = -1021  # an order's signed expiry is in the past or too close
INVALID_SIGNATURE = -1022
ILLEGAL_PARAM = -1100  # a parameter of the wrong type
MALFORMED = -1102  # missing, empty or malformed
UNKNOWN_PARAM = -1104
BAD_PRECISION = -1111
INVALID_SYMBOL = -1121
BAD_INTERVAL = -1120
INVALID_ORDER_TYPE = -1116
INVALID_SIDE = -1117
INVALID_TIF = -1115
FILTER_FAILURE = -1013
NEW_ORDER_REJECTED = -2010  # insufficient balance
CANCEL_REJECTED = -2011  # cancel of an unknown order
NO_SUCH_ORDER = -2013
AMEND_INCREASE = -2038  # order amend may only lower the quantity
CANCEL_REPLACE_PARTIALLY_FAILED = -2021  # the old order was cancelled, the new one rejected
CANCEL_REPLACE_FAILED = -2022  # the old order could not be cancelled: nothing changed
DUPLICATE_CLIENT_ORDER_ID = -2012
WOULD_TAKE = -2010
REPLAYED_ORDER = -3001  # the maker's nonce (or a withdrawal's) was already used
NOT_FOUND = -3004
REJECTED_MBX_KEY = -2015  # Binance: "Invalid API-key, IP, or permissions for action."

ENGINE_CODES = {
    Code.UNKNOWN_MARKET: (INVALID_SYMBOL, "Invalid symbol."),
    Code.PRICE_FILTER: (FILTER_FAILURE, "Filter failure: PRICE_FILTER"),
    Code.LOT_SIZE: (FILTER_FAILURE, "Filter failure: LOT_SIZE"),
    Code.MIN_NOTIONAL: (FILTER_FAILURE, "Filter failure: MIN_NOTIONAL"),
    Code.INSUFFICIENT_BALANCE: (NEW_ORDER_REJECTED, "Account has insufficient balance for requested action."),
    Code.UNKNOWN_ORDER: (CANCEL_REJECTED, "Unknown order sent."),
    Code.DUPLICATE_CLIENT_ORDER_ID: (DUPLICATE_CLIENT_ORDER_ID, "Duplicate client order id among open orders."),
    Code.WOULD_TAKE: (WOULD_TAKE, "Order would immediately match and take."),
    Code.WOULD_TRIGGER: (NEW_ORDER_REJECTED, "Order would trigger immediately."),
    Code.INVALID_ORDER: (FILTER_FAILURE, "Order rejected: invalid combination of parameters."),
}


class ApiError(MatcherError):
    """A request the exchange refuses; nothing changed."""

    def __init__(self, code: int, msg: str, status: int = 400, data: dict[str, object] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status, self.data = code, msg, status, data
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        if self.data is None:
            return {"code": self.code, "msg": self.msg}
        return {"code": self.code, "msg": self.msg, "data": self.data}

    @classmethod
    def from_engine(cls, code: Code, reason: str) -> ApiError:
        api_code, msg = ENGINE_CODES.get(code, (UNKNOWN, "Order rejected."))
        return cls(api_code, f"{msg} ({reason})" if reason and reason not in msg else msg)

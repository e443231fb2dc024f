"""Bourse's matching engine: deterministic, journaled, integer-only, Binance spot semantics."""

from . import compiled

compiled.select()  # the compiled hot modules, or their sources (see compiled.py); before anything imports them

from .engine import Engine  # noqa: E402
from .errors import MatcherError
from .market import Asset, MarketSpec
from .model import (AmendOrder, CancelOrder, CancelReplace, Code, Deposit, ExecType, OrderType, PlaceOrder, Side,
                    Status, Stp, TimeInForce, Transfer, Withdraw)

__all__ = ["Engine", "MatcherError", "Asset", "MarketSpec", "AmendOrder", "CancelOrder", "CancelReplace", "Code",
           "Deposit", "ExecType", "OrderType", "PlaceOrder", "Side", "Status", "Stp", "TimeInForce", "Transfer",
           "Withdraw"]

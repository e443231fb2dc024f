"""Binance's order lists, placed with an API key: OCO (two legs; when one fills or ends, the other is cancelled),
OTO (a working order; its pending order is placed once the working order has filled) and OTOCO (the pending part
is an OCO pair). Each leg is an ordinary order signed by the key's agent, so the vault bounds it as any other.

The links live in SQLite beside the orders; what a list must do next (cancel a sibling, place a pending leg) is
worked out from the legs' states, after each command and again at start-up, so a crash between two steps is
finished on restart. A stop leg counts as working once its stop triggers (it has left the engine's parked stops),
as on Binance: then the other leg of its OCO pair is cancelled.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .errors import ILLEGAL_PARAM, MALFORMED, ApiError

SCHEMA = """
CREATE TABLE IF NOT EXISTS order_lists (
    list_id INTEGER PRIMARY KEY, symbol TEXT NOT NULL, account TEXT NOT NULL, contingency TEXT NOT NULL,
    client_id TEXT NOT NULL, status TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,
    api_key TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS order_lists_by_account ON order_lists (account, list_id);
CREATE TABLE IF NOT EXISTS order_list_legs (
    list_id INTEGER NOT NULL, role TEXT NOT NULL, order_id INTEGER, params TEXT NOT NULL,
    PRIMARY KEY (list_id, role));
CREATE INDEX IF NOT EXISTS order_list_legs_by_order ON order_list_legs (order_id);
"""
DONE = ("FILLED", "CANCELED", "EXPIRED", "REJECTED", "EXPIRED_IN_MATCH")
STOP_TYPES = ("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
LEG_TYPES = ("LIMIT", "LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT", "MARKET")
OCO_ROLES = {"OCO": ("above", "below"), "OTOCO": ("pendingAbove", "pendingBelow")}


def create(db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)


def leg_params(query: dict[str, Any], prefix: str, side: str, quantity: str, symbol: str) -> dict[str, Any]:
    """One leg's order parameters from Binance's prefixed fields (aboveType, abovePrice, ...)."""
    kind = query.get(f"{prefix}Type")
    if kind not in LEG_TYPES:
        raise ApiError(MALFORMED if kind is None else ILLEGAL_PARAM,
                       f"Parameter '{prefix}Type' must be one of {', '.join(LEG_TYPES)}.")
    params = {"symbol": symbol, "side": side, "type": kind, "quantity": quantity,
              "newOrderRespType": "RESULT"}
    for field, key in (("Price", "price"), ("StopPrice", "stopPrice"), ("TimeInForce", "timeInForce"),
                       ("ClientOrderId", "newClientOrderId"), ("TrailingDelta", "trailingDelta"),
                       ("IcebergQty", "icebergQty")):
        if query.get(f"{prefix}{field}") not in (None, ""):
            params[key] = query[f"{prefix}{field}"]
    if kind in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT") and "timeInForce" not in params:
        params["timeInForce"] = "GTC"
    return params


class OrderLists:
    def __init__(self, service: Any) -> None:
        self.service = service
        self.core = service.core
        create(self.core.db)
        self._leg_orders = {r[0] for r in self.core.db.execute(
            "SELECT l.order_id FROM order_list_legs l JOIN order_lists o ON o.list_id = l.list_id WHERE "
            "o.status = 'EXECUTING' AND l.order_id IS NOT NULL")}  # so a command touching none costs no query
        self._parked_legs = {order_id: symbol for order_id, symbol in self.core.db.execute(
            "SELECT l.order_id, r.symbol FROM order_list_legs l JOIN order_lists o ON o.list_id = l.list_id JOIN "
            "orders r ON r.order_id = l.order_id WHERE o.status = 'EXECUTING' AND r.type IN "
            f"({','.join(repr(t) for t in STOP_TYPES)}) AND r.status = 'NEW'")}  # stop legs that may trigger

    # --- placing ----------------------------------------------------------------------------------------------
    def place(self, contingency: str, symbol: str, principal: Any, client_id: str,
              legs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """Place the list's first legs now (all of them for OCO; the working order for OTO/OTOCO); the rest wait."""
        from .agent_orders import agent_order
        now = self.core.clock_ms()
        immediate = list(OCO_ROLES["OCO"]) if contingency == "OCO" else ["working"]
        requests = {role: agent_order(legs[role], principal, self.service.keys, self.service.markets,
                                      self.service.domain, self.core.engine, now) for role in immediate}
        self.service.backlog.check()
        for request in requests.values():  # every immediate leg passes the filters before any is placed
            self.service.check_filters(request)
        list_id = int(self.core.db.execute("SELECT COALESCE(MAX(list_id), 0) + 1 FROM order_lists").fetchone()[0])
        rows = [(list_id, role, None, json.dumps(params)) for role, params in legs.items()]
        self.core.write(lambda db: (
            db.execute("INSERT INTO order_lists VALUES (?,?,?,?,?,?,?,?,?)",
                       (list_id, symbol, principal.account, contingency, client_id, "EXECUTING", now, now,
                        principal.api_key)),
            db.executemany("INSERT INTO order_list_legs VALUES (?,?,?,?)", rows)))
        placed = []
        for role, request in requests.items():
            try:
                placed.append(self._place_leg(list_id, role, request, principal))
            except ApiError:
                self.cancel(principal.account, list_id, "a leg of the list was refused")
                raise
        self.advance(list_id)
        return self.view(list_id)

    def _place_leg(self, list_id: int, role: str, request: Any, principal: Any) -> dict[str, Any]:
        # the list as a whole passed the backpressure
        placed = self.service.place(request, admitted=True, agent=principal.agent)
        order_id = placed["orderId"]
        self._leg_orders.add(order_id)
        if request.command.type.value in STOP_TYPES:
            self._parked_legs[order_id] = request.command.symbol
        self.core.write(lambda db: (
            db.execute("UPDATE order_list_legs SET order_id = ? WHERE list_id = ? AND role = ?",
                       (order_id, list_id, role)),
            db.execute("UPDATE orders SET order_list_id = ? WHERE order_id = ?", (list_id, order_id))),
            touches_fills=False)
        return placed

    # --- what comes next --------------------------------------------------------------------------------------
    def listener(self, seq: int, command: Any, result: Any) -> None:
        """After a command: any list whose leg it touched takes its next step (on the loop, after this one)."""
        if not self._leg_orders and not self._parked_legs:
            return  # no list waits on anything (most of the time): nothing to look for
        from matcher.model import OrderUpdate, Trade
        touched = {e.order_id for e in result.events if isinstance(e, OrderUpdate)} & self._leg_orders
        if self._parked_legs and any(isinstance(e, Trade) for e in result.events):
            for order_id, symbol in list(self._parked_legs.items()):
                if not self._parked(order_id, symbol):  # triggered (or ended): its list takes its next step
                    del self._parked_legs[order_id]
                    touched.add(order_id)
        if not touched:
            return
        marks = ",".join("?" * len(touched))
        lists = [r[0] for r in self.core.db.execute(
            f"SELECT DISTINCT list_id FROM order_list_legs WHERE order_id IN ({marks})", tuple(touched))]
        if lists:
            import asyncio
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # at start-up, before the loop runs
                loop = None
            for list_id in lists:
                if loop is None:
                    self._advance_logged(list_id)
                else:
                    loop.call_soon(self._advance_logged, list_id)

    def _advance_logged(self, list_id: int) -> None:
        try:
            self.advance(list_id)
        except Exception:
            import logging
            logging.getLogger("bourse.exchange").exception("order list %d could not advance", list_id)

    def resume(self) -> None:
        for (list_id,) in self.core.db.execute("SELECT list_id FROM order_lists WHERE status = 'EXECUTING'"
                                               ).fetchall():
            self._advance_logged(list_id)

    def advance(self, list_id: int) -> None:
        row = self.core.db.execute("SELECT contingency, account, status FROM order_lists WHERE list_id = ?",
                                   (list_id,)).fetchone()
        if row is None or row[2] != "EXECUTING":
            return
        contingency, account = row[0], row[1]
        legs = self._legs(list_id)
        if contingency in ("OTO", "OTOCO"):
            working = legs["working"]
            if working["status"] == "FILLED":
                for role in [r for r in legs if r != "working" and legs[r]["order_id"] is None]:
                    principal = self._principal(list_id)
                    from .agent_orders import agent_order
                    request = agent_order(json.loads(legs[role]["params"]), principal, self.service.keys,
                                          self.service.markets, self.service.domain, self.core.engine,
                                          self.core.clock_ms())
                    self._place_leg(list_id, role, request, principal)
                legs = self._legs(list_id)
            elif working["status"] in DONE:  # the working order ended unfilled: the pending part never comes
                self._finish(list_id, account)
                return
        pair = [legs[r] for r in OCO_ROLES.get("OCO" if contingency == "OCO" else "OTOCO", ()) if r in legs]
        if pair and all(leg["order_id"] is not None for leg in pair):
            working = [leg["filled"] or self._triggered(leg) for leg in pair]
            filling = any(working)  # one fills or its stop triggers: the other goes
            ended = not filling and any(leg["status"] in DONE for leg in pair)  # one cancelled: the whole pair goes
            if ended or filling:
                for leg, works in zip(pair, working):
                    if leg["status"] not in DONE and (ended or not works):
                        self.core.cancel(account, leg["symbol"], leg["order_id"], "CANCELED",
                                         "the other order of its OCO pair filled or ended")
                legs = self._legs(list_id)
        placed = [leg for leg in legs.values() if leg["order_id"] is not None]
        if len(placed) == len(legs) and all(leg["status"] in DONE for leg in placed):
            self._finish(list_id, account)

    def _parked(self, order_id: int, symbol: str) -> bool:
        """Whether the stop order `order_id` is still waiting for its stop (not triggered, not ended)."""
        order = self.core.engine.orders.get(order_id)
        return order is not None and any(o is order for o in self.core.engine.stops[symbol])

    def _triggered(self, leg: dict[str, Any]) -> bool:
        """Whether `leg` is a stop order whose stop has triggered and that is still open."""
        if leg["status"] in DONE or leg["order_id"] is None:
            return False
        order = self.core.engine.orders.get(leg["order_id"])
        return order is not None and order.type.value in STOP_TYPES and not self._parked(leg["order_id"],
                                                                                        leg["symbol"])

    def _principal(self, list_id: int) -> Any:
        """The API key that placed the list: its pending legs are signed by the same agent."""
        from .apikeys import TRADE, Principal
        api_key = self.core.db.execute("SELECT api_key FROM order_lists WHERE list_id = ?", (list_id,)).fetchone()[0]
        found = self.service.keys.lookup(api_key)
        if found is None:
            raise ApiError(-2015, "Invalid API-key, IP, or permissions for action. (the list's key was deleted)")
        return Principal(found["account"], api_key, found["agent"], TRADE in found["permissions"].split(","))

    def _legs(self, list_id: int) -> dict[str, dict[str, Any]]:
        out = {}
        for role, order_id, params in self.core.db.execute(
                "SELECT role, order_id, params FROM order_list_legs WHERE list_id = ? ORDER BY order_id IS NULL, "
                "order_id, role", (list_id,)).fetchall():
            order = self.core.db.execute("SELECT status, filled, symbol FROM orders WHERE order_id = ?",
                                         (order_id,)).fetchone() if order_id is not None else None
            out[role] = {"order_id": order_id, "params": params, "status": order[0] if order else None,
                         "filled": int(order[1]) if order else 0, "symbol": order[2] if order else None}
        return out

    def _finish(self, list_id: int, account: str) -> None:
        now = self.core.clock_ms()
        self.core.write(lambda db: db.execute("UPDATE order_lists SET status = 'ALL_DONE', updated_ms = ? WHERE "
                                              "list_id = ?", (now, list_id)))
        self.service.streams.publish_list_status(account, self.view(list_id), now)

    # --- cancel and read --------------------------------------------------------------------------------------
    def find(self, account: str, list_id: int | None, client_id: str | None) -> int:
        if list_id:
            row = self.core.db.execute("SELECT list_id FROM order_lists WHERE list_id = ? AND account = ?",
                                       (list_id, account)).fetchone()
        elif client_id:
            row = self.core.db.execute("SELECT list_id FROM order_lists WHERE client_id = ? AND account = ? ORDER BY "
                                       "list_id DESC LIMIT 1", (client_id, account)).fetchone()
        else:
            raise ApiError(MALFORMED, "Param 'listClientOrderId' or 'orderListId' must be sent, but both were "
                                      "empty/null!")
        if row is None:
            raise ApiError(-2011, "Order list does not exist.")
        return int(row[0])

    def cancel(self, account: str, list_id: int, reason: str = "") -> dict[str, Any]:
        for leg in self._legs(list_id).values():
            if leg["order_id"] is not None and leg["status"] not in DONE:
                self.core.cancel(account, leg["symbol"], leg["order_id"], "CANCELED", reason)
        self._finish(list_id, account)
        return self.view(list_id)

    def view(self, list_id: int) -> dict[str, Any]:
        from . import store
        from .views import order_view
        symbol, contingency, client_id, status, created = self.core.db.execute(
            "SELECT symbol, contingency, client_id, status, created_ms FROM order_lists WHERE list_id = ?",
            (list_id,)).fetchone()
        market = self.service.markets.get(symbol)
        legs = self._legs(list_id)
        reports = [order_view(store.one(self.core.db, "SELECT * FROM orders WHERE order_id = ?", leg["order_id"]),
                              market) for leg in legs.values() if leg["order_id"] is not None]  # type: ignore
        return {"orderListId": list_id, "contingencyType": contingency,
                "listStatusType": "ALL_DONE" if status == "ALL_DONE" else "EXEC_STARTED",
                "listOrderStatus": status, "listClientOrderId": client_id, "transactionTime": created,
                "symbol": symbol,
                "orders": [{"symbol": symbol, "orderId": r["orderId"], "clientOrderId": r["clientOrderId"]}
                           for r in reports],
                "orderReports": reports}

    def of(self, account: str, open_only: bool, limit: int) -> list[dict[str, Any]]:
        sql = "SELECT list_id FROM order_lists WHERE account = ?" + (" AND status = 'EXECUTING'" if open_only else "")
        return [self.view(r[0]) for r in self.core.db.execute(sql + " ORDER BY list_id LIMIT ?", (account, limit))]


__all__ = ["OrderLists", "leg_params"]

"""Markets the community votes in: each `Listed(token, round)` event of the listing-vote contract opens a
TOKEN/<platform token> market, once, across restarts (the event id is recorded with the journaled AddMarket that
opens it, as deposits are).

The market's numbers come from the token's decimals (`listed_spec`); its symbol from the token's `symbol()`,
upper-cased. A token whose symbol is not 1-12 letters and digits, or names another asset, or that is listed
already, is recorded as refused with the reason (GET /bourse/v1/listings) and opens nothing.

Deposits of a token before it is listed are kept per account (`unlisted_balances`, net of escape-hatch requests)
and credited when its market opens, so nobody's early deposit is lost.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from matcher.errors import BadMarketSpec
from wallet.errors import RpcError
from matcher.market import Asset, MarketSpec
from matcher.model import AddMarket, Deposit, SetPlatformFeeRate

from . import store
from .core import ExchangeCore
from .markets import Market, Markets
from .vault import VaultClient, VaultEvent

log = logging.getLogger("bourse.exchange.listings")
SYMBOL = re.compile(r"[A-Z0-9]{1,12}")
QTY_PLACES = 2  # a lot is 0.01 of the token (or 1 unit of a token with fewer decimals)
PRICE_PLACES = 8  # a tick is 1e-8 of the quote asset per whole token, or coarser when decimals do not allow it
MIN_NOTIONAL_PLACES = 2  # at least 0.01 of the quote asset per order


@dataclass(frozen=True)
class ListingPolicy:
    """What the operator lists a voted-in token with."""

    quote: Asset  # the platform token: every listed market is TOKEN/<quote>
    maker_fee_bps: int = 10
    taker_fee_bps: int = 20


def listed_spec(symbol: str, token: str, decimals: int, policy: ListingPolicy) -> MarketSpec:
    """The market a listed token opens: lot 10^-min(2, decimals) tokens, tick 10^-p quote per token with
    p = min(8, quote decimals - lot places) (so one lot at one tick is a whole number of quote units), minimum
    notional 0.01 of the quote. BadMarketSpec if the token cannot be listed."""
    quote = policy.quote
    if not SYMBOL.fullmatch(symbol):
        raise BadMarketSpec(f"token symbol {symbol!r} is not 1-12 letters and digits")
    if not 0 <= decimals <= 36:
        raise BadMarketSpec(f"token decimals {decimals} outside 0..36")
    qty_places = min(QTY_PLACES, decimals, quote.decimals)
    price_places = min(PRICE_PLACES, quote.decimals - qty_places)
    return MarketSpec(symbol + quote.symbol, Asset(symbol, to_checksum_address(token), decimals), quote,
                      tick_size=10 ** (quote.decimals - price_places), lot_size=10 ** (decimals - qty_places),
                      min_notional=10 ** max(0, quote.decimals - MIN_NOTIONAL_PLACES),
                      maker_fee_bps=policy.maker_fee_bps, taker_fee_bps=policy.taker_fee_bps)


class Listings:
    """Follows the listing-vote contract (its events come with the vault's, in block order, from the follower)."""

    def __init__(self, core: ExchangeCore, vault: VaultClient, markets: Markets, listing_vote: str,
                 policy: ListingPolicy) -> None:
        self.core, self.vault, self.markets, self.policy = core, vault, markets, policy
        self.contract = VaultClient(vault.rpc, listing_vote, vault.log_range)  # only its event reading is used

    def resume(self) -> None:
        """After a restart: credit what is still held for a token that was listed (a crash came in between)."""
        for row in store.rows(self.core.db, "SELECT DISTINCT token FROM unlisted_balances"):
            asset = self.markets.by_token.get(row["token"])
            if asset is not None:
                self._credit_early_deposits(asset)

    @property
    def address(self) -> str:
        return self.contract.address

    # --- off the event loop: the events, with what the token says about itself ------------------------------
    def events(self, from_block: int, to_block: int) -> list[VaultEvent]:
        found = []
        for event in self.contract.events(from_block, to_block):
            if event.name == "Listed":
                found.append(VaultEvent(event.name, {**event.args, **self._describe(event.args["token"])},
                                        event.block, event.tx_hash, event.log_index))
        return found

    def _describe(self, token: str) -> dict[str, Any]:
        """The token's symbol and decimals (or why they could not be read) and the vault's platform-token rate."""
        try:
            decimals = int(decode(["uint8"], self._call(token, "decimals()"))[0])
            raw = self._call(token, "symbol()")
            symbol = decode(["string"], raw)[0] if len(raw) > 32 else raw.rstrip(b"\0").decode()
        except RpcError as exc:
            if exc.code is None:  # the node is unreachable: the follower tries this range again
                raise
            return {"refused": f"cannot read the token's symbol and decimals ({exc.message})"}
        except (DecodingError, ValueError) as exc:  # no such function (an empty answer), bytes that are not ABI
            return {"refused": f"cannot read the token's symbol and decimals ({exc})"}
        return {"symbol": str(symbol).upper(), "decimals": decimals, "rate": self.vault.platform_token_rate(token)}

    def _call(self, token: str, signature: str) -> bytes:
        return self.vault.rpc.eth_call(token, function_signature_to_4byte_selector(signature), "latest")

    # --- on the writer ----------------------------------------------------------------------------------------
    def apply(self, event: VaultEvent) -> None:
        args, core = event.args, self.core
        if core.seen(event.event_id):
            return
        token = to_checksum_address(args["token"])
        try:
            if "refused" in args:
                raise BadMarketSpec(args["refused"])
            if token in self.markets.by_token:
                raise BadMarketSpec(f"{self.markets.by_token[token].symbol} is listed already")
            spec = listed_spec(args["symbol"], token, args["decimals"], self.policy)
            market = Market(spec)
            self.markets.check(market)
        except BadMarketSpec as exc:
            reason = str(exc)  # the name `exc` ends with this block; the write below must not depend on when it runs
            log.warning("listing of %s (round %d) refused: %s", token, args["roundId"], reason)
            core.write(lambda db: self._record(db, event, token, "", "REFUSED", reason))
            return
        seq, result = core.submit(AddMarket.of(spec, ts=core.clock_ms()),
                                  also=lambda db, seq, result: self._record(
                                      db, event, token, spec.symbol, "LISTED" if result.ok else "REFUSED",
                                      result.reason))
        if not result.ok:
            log.warning("listing of %s refused by the engine: %s", spec.symbol, result.reason)
            return
        self.markets.add(market)
        log.info("listed %s (%s, round %d) at block %d", spec.symbol, token, args["roundId"], event.block)
        if args.get("rate"):
            core.submit(SetPlatformFeeRate(spec.base.symbol, args["rate"], ts=core.clock_ms()))
        self._credit_early_deposits(spec.base)

    def _record(self, db: Any, event: VaultEvent, token: str, symbol: str, status: str, reason: str) -> None:
        db.execute("INSERT OR IGNORE INTO listings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (event.event_id, token, event.args["roundId"], symbol, status, reason, event.block,
                    event.tx_hash))
        db.execute("INSERT OR IGNORE INTO chain_events VALUES (?, ?)", (event.event_id, event.block))

    def _credit_early_deposits(self, asset: Asset) -> None:
        for row in store.rows(self.core.db, "SELECT account, amount FROM unlisted_balances WHERE token = ?",
                              asset.token):
            def forget(db: Any, seq: int, result: Any, account: str = row["account"]) -> None:
                db.execute("DELETE FROM unlisted_balances WHERE account = ? AND token = ?", (account, asset.token))
            if row["amount"] > 0:
                self.core.submit(Deposit(row["account"], asset.symbol, row["amount"], ts=self.core.clock_ms()),
                                 also=forget)
            else:
                self.core.write(lambda db: forget(db, 0, None))

    def report(self) -> list[dict[str, Any]]:
        return [{"round": r["round_id"], "token": r["token"], "symbol": r["symbol"], "status": r["status"],
                 "reason": r["reason"], "block": r["block"], "txHash": r["tx_hash"]}
                for r in store.rows(self.core.db, "SELECT * FROM listings ORDER BY block, event_id")]


def hold_unlisted(db: Any, account: str, token: str, delta: int) -> None:
    """Keep a deposit (delta > 0) or an escape-hatch request (delta < 0) of a token no market trades yet."""
    row = db.execute("SELECT amount FROM unlisted_balances WHERE account = ? AND token = ?",
                     (account, token)).fetchone()
    amount = max(0, (int(row[0]) if row else 0) + delta)
    db.execute("INSERT INTO unlisted_balances VALUES (?, ?, ?) ON CONFLICT(account, token) DO UPDATE SET "
               "amount = excluded.amount", (account, token, str(amount)))

"""What `bourse up` prints once every part serves: where each part is, the contracts, the markets, demo keys."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chain import compiled as chain_compiled
from contracts.predeploy import PREDEPLOYS
from matcher import compiled

SHOWN_MARKETS = 8  # the banner lists this many markets


@dataclass
class Running:
    """A started stack, as the banner shows it (from the in-process Stack or the supervisor)."""
    rpc_url: str
    signer_url: str
    exchange_url: str
    root: Path
    resumed: bool
    demo: dict[str, Any]
    markets: Any  # matcher.exchange.markets.Markets
    operator: str
    demo_keys: list[tuple[str, str]]  # (address, private key) of the demo traders shown: public test keys
    backlog: dict[str, Any]  # the exchange's GET /bourse/v1/settlement


def banner(up: Running) -> str:
    exchange, admin_token_file = up.exchange_url, up.root / "exchange" / "admin.token"
    lines = ["", "  bourse up", "",
             f"Node (JSON-RPC, HTTP + WebSocket)  {up.rpc_url}",
             f"Block explorer                    {up.rpc_url.rstrip('/')}/explorer/",
             f"Policy signer (clef API)          {up.signer_url}  (token in {up.root / 'signer.token'})",
             f"Trading page                      {exchange}/trade/",
             f"Exchange API                      {exchange}/api/v3  (OpenAPI: {exchange}/openapi.json)",
             f"Exchange streams                  {exchange.replace('http', 'ws')}/stream?streams=brswbnb@trade",
             f"Matching engine                   {compiled.describe()}",
             f"Node EVM (opcode loop, calls)     {chain_compiled.describe()}",
             f"Exchange admin (/admin/*)         Authorization: Bearer <token in {admin_token_file}>",
             f"Settlement backlog                {up.backlog['unsettledFills']:,} unsettled fills; new orders refused "
             f"(-1008) at {up.backlog['maxUnsettledFills']:,} ({exchange}/bourse/v1/settlement)",
             f"Data                              {up.root}" + (" (resumed)" if up.resumed else ""),
             "", "Contracts", "========="]
    lines += [f"{p.label:<28} {p.address}" for p in PREDEPLOYS]
    lines += [f"{'Test USDT':<28} {up.demo['USDT']}", "", "Markets", "======="]
    markets = list(up.markets)
    for market in markets[:SHOWN_MARKETS]:
        spec = market.spec
        lines.append(f"{spec.symbol:<10} {spec.base.symbol}/{spec.quote.symbol}  tick {market.price_text(1)}  "
                     f"lot {market.qty_text(1)}  fees {spec.maker_fee_bps}/{spec.taker_fee_bps} bps")
    if len(markets) > SHOWN_MARKETS:
        lines.append(f"... and {len(markets) - SHOWN_MARKETS} more demo markets D<i>/BRS, each quoted by demo user "
                     f"4 at 0.99/1.01 (all in {exchange}/api/v3/exchangeInfo)")
    lines += ["", f"Operator (settles, in the signer)  {up.operator}",
              "Demo traders (dev accounts with BRS and USDT; public test keys):"]
    lines += [f"  {address}  {key}" for address, key in up.demo_keys]
    lines += ["", f"API keys for ccxt, python-binance, binance-connector: bourse api-key create <keystore account> "
                  f"--exchange {exchange} --rpc-url {up.rpc_url}",
              "", "Try it:", f"  python -m matcher.examples.trade --exchange {exchange} --rpc-url {up.rpc_url}", ""]
    return "\n".join(lines)

"""The whole stack on one machine (`bourse up`): node, demo markets, policy signer, exchange. Also what the
end-to-end tests start. The node is used through its public library API (`chain.Node`, `chain.server`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contracts.predeploy import PREDEPLOYS, address_of

from . import compiled
from .errors import MatcherError
from .demo import REWARD_PER_EPOCH, demo_markets, operator_policy, prepare_chain
from .exchange.service import ExchangeConfig, ExchangeServer


SHOWN_MARKETS = 8  # the banner lists this many markets


class Stack:
    def __init__(self, root: Path, host: str = "127.0.0.1", node_port: int = 0, signer_port: int = 0,
                 port: int = 0, batch_interval: float = 1.0, persistent_chain: bool = False,
                 batch_size: int = 100, rate_limits: Any = None, max_open_orders: int = 200,
                 burn_every_blocks: int = 0, extra_markets: int = 0, reward_every_blocks: int = 0,
                 max_unsettled_fills: int = 10_000) -> None:
        self.root = Path(root)
        self.host, self.node_port, self.signer_port, self.port = host, node_port, signer_port, port
        self.batch_interval, self.batch_size = batch_interval, batch_size
        self.persistent_chain = persistent_chain
        self.rate_limits = rate_limits
        self.max_open_orders = max_open_orders
        self.burn_every_blocks = burn_every_blocks
        self.extra_markets = extra_markets  # D<i>/BRS demo markets beside the two standard ones
        self.reward_every_blocks = reward_every_blocks
        self.max_unsettled_fills = max_unsettled_fills
        self._stopped = threading.Event()

    def start(self, progress: Callable[[str], None] = lambda step: None) -> Stack:
        """Start every part; `progress` hears each step. If a part fails, what started is stopped again."""
        try:
            return self._start(progress)
        except BaseException:
            self.stop()
            raise

    def _start(self, progress: Callable[[str], None]) -> Stack:
        from web3 import Web3

        from chain import Node, NodeConfig
        from chain.server import ServerThread
        from wallet.audit import AuditLog
        from wallet.policy import KeyPolicy
        from wallet.signer import HotSigner
        from wallet.signer_client import SignerClient
        from wallet.signer_server import SignerServer, load_or_create_token

        from wallet.files import ExclusiveLock
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = ExclusiveLock(self.root / ".lock", f"the data dir {self.root}")
        self.resumed = self.persistent_chain and (self.root / "chain" / "chain.sqlite3").exists()
        progress("starting the node" + (" (resuming its chain)" if self.resumed else ""))
        self.node = Node(NodeConfig(data_dir=self.root / "chain" if self.persistent_chain else None))
        self.node_server = ServerThread(self.node, self.host, self.node_port).start()
        self.rpc_url = self.node_server.url
        w3 = Web3(Web3.HTTPProvider(self.rpc_url))
        state_file = self.root / "demo.json"
        if not self.persistent_chain and state_file.exists():
            state_file.unlink()  # a fresh in-memory chain needs the demo deployed again
        progress("deploying the demo token and funding the demo traders")
        self.demo = prepare_chain(w3, state_file, extra_tokens=self.extra_markets, progress=progress)
        self.markets = demo_markets(self.demo["USDT"], max_open_orders=self.max_open_orders,
                                    extra_tokens=self.demo["tokens"])
        operator = self.node.accounts[0]
        self.operator = operator.checksum
        self.vault = address_of("SettlementVault")
        self.distributor = address_of("MerkleDistributor")
        policy = KeyPolicy.parse("operator", operator_policy(self.vault, self.node.config.chain_id,
                                                             self.distributor))
        signer = HotSigner({"operator": operator.key.to_bytes()}, {self.operator: policy},
                           AuditLog(self.root / "signer-audit.jsonl"))
        progress("starting the policy signer")
        self.signer_token = load_or_create_token(self.root / "signer.token")
        self.signer_server = SignerServer(signer, self.signer_token, self.host, self.signer_port).start()
        signer_account = SignerClient(self.signer_server.url, self.signer_token).account(self.operator)
        progress("starting the exchange (recovering its journal)")
        self.exchange = ExchangeServer(ExchangeConfig(
            self.rpc_url, self.vault, self.markets, signer_account, self.operator, self.root / "exchange", self.host,
            self.port, self.batch_size, self.batch_interval,
            exchange_max_open_orders=max(1000, self.max_open_orders * len(self.markets.by_symbol)),
            burn_every_blocks=self.burn_every_blocks, rewards_distributor=self.distributor,
            reward_per_epoch=REWARD_PER_EPOCH, reward_every_blocks=self.reward_every_blocks,
            listing_vote=address_of("ListingVote"), max_unsettled_fills=self.max_unsettled_fills,
            **({"rate_limits": self.rate_limits} if self.rate_limits is not None else {}))).start()
        if len(self.demo["tokens"]) > self.demo.get("seeded", 0):
            progress(f"placing a demo maker's bids and asks on {len(self.demo['tokens'])} demo markets")
            self._seed_liquidity(state_file)
        return self

    def _seed_liquidity(self, state_file: Path) -> None:
        """Demo user 4 deposits each new demo token (and BRS) and quotes a bid and an ask on its market. Rate limits
        are lifted while it does (start-up, before the stack is announced): two orders per market would otherwise
        take minutes at 100 orders per 10 s."""
        import json
        import time

        from .client import ExchangeClient
        from .demo import DEMO_USERS
        from .exchange.ratelimits import RateLimits
        key = self.node.accounts[DEMO_USERS].key.to_bytes()
        maker = ExchangeClient(self.exchange_url, key, self.rpc_url)
        first = self.demo.get("seeded", 0)
        new = list(range(first + 1, len(self.demo["tokens"]) + 1))
        wanted = {"BRS": 100 * len(new), **{f"D{i}": 1000 for i in new}}
        limiter = self.exchange.service.limits
        limits, limiter.limits = limiter.limits, RateLimits(0, 0, 0, 0)
        try:
            before = maker.balances()
            for asset, amount in wanted.items():
                maker.deposit(asset, str(amount))
            deadline = time.monotonic() + 300
            while True:
                now = maker.balances()
                if all(now.get(a, (0, 0))[0] >= before.get(a, (0, 0))[0] + n * 10**18 for a, n in wanted.items()):
                    break
                if time.monotonic() > deadline:
                    raise MatcherError("the demo maker's deposits were not credited within 5 minutes")
                time.sleep(0.5)
            for i in new:
                maker.order(f"D{i}BRS", "BUY", price="0.99", quantity="100", time_in_force="GTC")
                maker.order(f"D{i}BRS", "SELL", price="1.01", quantity="100", time_in_force="GTC")
        finally:
            limiter.limits = limits
        self.demo["seeded"] = len(self.demo["tokens"])
        state_file.write_text(json.dumps(self.demo))

    @property
    def exchange_url(self) -> str:
        return self.exchange.url

    @property
    def admin_token_file(self) -> Path:
        return self.root / "exchange" / "admin.token"

    @property
    def admin_token(self) -> str:
        return self.admin_token_file.read_text().strip()

    def banner(self) -> str:
        keys = [(a.checksum, "0x" + a.key.to_bytes().hex()) for a in self.node.accounts[1:3]]
        lines = ["", "  bourse up", "",
                 f"Node (JSON-RPC, HTTP + WebSocket)  {self.rpc_url}",
                 f"Block explorer                    {self.rpc_url.rstrip('/')}/explorer/",
                 f"Policy signer (clef API)          {self.signer_server.url}  (token in {self.root / 'signer.token'})",
                 f"Trading page                      {self.exchange_url}/trade/",
                 f"Exchange API                      {self.exchange_url}/api/v3  (OpenAPI: {self.exchange_url}/openapi.json)",
                 f"Exchange streams                  {self.exchange_url.replace('http', 'ws')}/stream?streams=brswbnb@trade",
                 f"Matching engine                   {compiled.describe()}",
                 f"Exchange admin (/admin/*)         Authorization: Bearer <token in {self.admin_token_file}>",
                 f"Settlement backlog                {self._backlog()}",
                 f"Data                              {self.root}" + (" (resumed)" if self.resumed else ""),
                 "", "Contracts", "========="]
        lines += [f"{p.label:<28} {p.address}" for p in PREDEPLOYS]
        lines += [f"{'Test USDT':<28} {self.demo['USDT']}", "", "Markets", "======="]
        markets = list(self.markets)
        for market in markets[:SHOWN_MARKETS]:
            spec = market.spec
            lines.append(f"{spec.symbol:<10} {spec.base.symbol}/{spec.quote.symbol}  tick {market.price_text(1)}  "
                         f"lot {market.qty_text(1)}  fees {spec.maker_fee_bps}/{spec.taker_fee_bps} bps")
        if len(markets) > SHOWN_MARKETS:
            lines.append(f"... and {len(markets) - SHOWN_MARKETS} more demo markets D<i>/BRS, each quoted by demo user "
                         f"4 at 0.99/1.01 (all in {self.exchange_url}/api/v3/exchangeInfo)")
        lines += ["", f"Operator (settles, in the signer)  {self.operator}",
                  "Demo traders (dev accounts with BRS and USDT; public test keys):"]
        lines += [f"  {address}  {key}" for address, key in keys]
        lines += ["", f"API keys for ccxt, python-binance, binance-connector: bourse api-key create <keystore account> "
                      f"--exchange {self.exchange_url} --rpc-url {self.rpc_url}",
                  "", "Try it:", f"  python -m matcher.examples.trade --exchange {self.exchange_url} "
                                 f"--rpc-url {self.rpc_url}", ""]
        return "\n".join(lines)

    def _backlog(self) -> str:
        status = self.exchange.service.backlog.status()  # type: ignore[union-attr]
        return (f"{status['unsettledFills']:,} unsettled fills; new orders refused (-1008) at "
                f"{status['maxUnsettledFills']:,} ({self.exchange_url}/bourse/v1/settlement)")

    def wait(self) -> None:
        while not self._stopped.wait(1.0):
            if self.exchange.error is not None:
                raise MatcherError(f"the exchange stopped: {self.exchange.error}")

    def stop(self) -> None:
        self._stopped.set()
        for part in ("exchange", "signer_server", "node_server"):
            server: Any = getattr(self, part, None)
            if server is not None:
                server.stop()
        node = getattr(self, "node", None)
        if node is not None:
            node.close()
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.release()

"""The whole stack in one process: node, demo markets, policy signer, exchange - what the end-to-end tests start
(`bourse up` runs the same parts as processes: `bourse.supervisor`). The node is used through its public library
API (`chain.Node`, `chain.server`); the other parts reach it by URL as they would any node."""

from __future__ import annotations

import threading
from dataclasses import astuple
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contracts.predeploy import address_of
from matcher.demo import DEMO_USERS
from matcher.errors import MatcherError

from .banner import Running, banner
from .parts import (UpSettings, claim_data_dir, markets_of, prepare_demo, seed_liquidity, start_exchange,
                    start_signer)


class Stack:
    def __init__(self, root: Path, host: str = "127.0.0.1", node_port: int = 0, signer_port: int = 0,
                 port: int = 0, batch_interval: float = 1.0, persistent_chain: bool = False,
                 batch_size: int = 100, rate_limits: Any = None, max_open_orders: int = 200,
                 burn_every_blocks: int = 0, extra_markets: int = 0, reward_every_blocks: int = 0,
                 max_unsettled_fills: int = 10_000) -> None:
        self.root = Path(root)
        self.settings = UpSettings(
            host, node_port, signer_port, port, batch_interval, batch_size, persistent_chain,
            None if rate_limits is None else list(astuple(rate_limits)),
            max_open_orders, burn_every_blocks, extra_markets, reward_every_blocks, max_unsettled_fills)
        self._stopped = threading.Event()

    def start(self, progress: Callable[[str], None] = lambda step: None) -> Stack:
        """Start every part; `progress` hears each step. If a part fails, what started is stopped again."""
        try:
            return self._start(progress)
        except BaseException:
            self.stop()
            raise

    def _start(self, progress: Callable[[str], None]) -> Stack:
        from chain import Node, NodeConfig
        from chain.server import ServerThread
        settings = self.settings
        self._lock, self.resumed = claim_data_dir(self.root, settings)
        progress("starting the node" + (" (resuming its chain)" if self.resumed else ""))
        self.node = Node(NodeConfig(data_dir=self.root / "chain" if settings.persistent_chain else None))
        self.node_server = ServerThread(self.node, settings.host, settings.node_port).start()
        self.rpc_url = self.node_server.url
        self.demo = prepare_demo(self.rpc_url, self.root, settings, progress)
        self.markets = markets_of(self.demo, settings)
        self.operator = self.node.accounts[0].checksum
        self.vault = address_of("SettlementVault")
        self.distributor = address_of("MerkleDistributor")
        progress("starting the policy signer")
        self.signer_server = start_signer(self.root, settings, self.node.accounts[0].key.to_bytes(),
                                          self.node.config.chain_id)
        self.signer_token = (self.root / "signer.token").read_text().strip()
        progress("starting the exchange (recovering its journal)")
        self.exchange = start_exchange(self.root, settings, self.rpc_url, self.signer_server.url, self.operator,
                                       self.markets)
        seed_liquidity(self.exchange, self.root, self.demo, self.node.accounts[DEMO_USERS].key.to_bytes(),
                       self.rpc_url, progress)
        return self

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
        return banner(Running(self.rpc_url, self.signer_server.url, self.exchange_url, self.root, self.resumed,
                              self.demo, self.markets, self.operator, keys,
                              self.exchange.service.backlog.status()))

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

"""The parts of `bourse up` and how each is built: the demo on the chain, the policy signer, the exchange and its
demo liquidity. The in-process `Stack` and the supervisor's part processes build them with these same functions, so
both run the same stack; every part reaches the others only by URL."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.predeploy import address_of
from matcher.demo import REWARD_PER_EPOCH, demo_markets, operator_policy, prepare_chain
from matcher.errors import MatcherError
from matcher.exchange.markets import Markets


@dataclass
class UpSettings:
    """How `bourse up` runs: what its options set. Plain values, so it travels to a part process as JSON."""
    host: str = "127.0.0.1"
    node_port: int = 0
    signer_port: int = 0
    port: int = 0
    batch_interval: float = 1.0
    batch_size: int = 100
    persistent_chain: bool = False
    rate_limits: list[int] | None = None  # RateLimits' four figures; None: Binance's defaults
    max_open_orders: int = 200
    burn_every_blocks: int = 0
    extra_markets: int = 0  # D<i>/BRS demo markets beside the two standard ones
    reward_every_blocks: int = 0
    max_unsettled_fills: int = 10_000


def claim_data_dir(root: Path, settings: UpSettings) -> tuple[Any, bool]:
    """Create and lock the data dir (one stack per data dir); (the lock, whether a kept chain resumes)."""
    from wallet.files import ExclusiveLock
    root.mkdir(parents=True, exist_ok=True)
    lock = ExclusiveLock(root / ".lock", f"the data dir {root}")
    return lock, settings.persistent_chain and (root / "chain" / "chain.sqlite3").exists()


def demo_state_file(root: Path) -> Path:
    return root / "demo.json"


def prepare_demo(rpc_url: str, root: Path, settings: UpSettings,
                 progress: Any = lambda step: None) -> dict[str, Any]:
    """Deploy the demo tokens and fund the demo traders over JSON-RPC (once per chain; a fresh in-memory chain
    needs them again)."""
    from web3 import Web3
    state_file = demo_state_file(root)
    if not settings.persistent_chain and state_file.exists():
        state_file.unlink()
    progress("deploying the demo token and funding the demo traders")
    return prepare_chain(Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 120})), state_file,
                         extra_tokens=settings.extra_markets, progress=progress)


def markets_of(demo: dict[str, Any], settings: UpSettings) -> Markets:
    return demo_markets(demo["USDT"], max_open_orders=settings.max_open_orders, extra_tokens=demo["tokens"])


def start_signer(root: Path, settings: UpSettings, operator_key: bytes, chain_id: int) -> Any:
    """The policy signer holding the operator key, allowed to sign only what settlement needs."""
    from eth_keys import keys

    from wallet.audit import AuditLog
    from wallet.policy import KeyPolicy
    from wallet.signer import HotSigner
    from wallet.signer_server import SignerServer, load_or_create_token
    operator = keys.PrivateKey(operator_key).public_key.to_checksum_address()
    policy = KeyPolicy.parse("operator", operator_policy(address_of("SettlementVault"), chain_id,
                                                         address_of("MerkleDistributor")))
    signer = HotSigner({"operator": operator_key}, {operator: policy}, AuditLog(root / "signer-audit.jsonl"))
    token = load_or_create_token(root / "signer.token")
    return SignerServer(signer, token, settings.host, settings.signer_port).start()


def start_exchange(root: Path, settings: UpSettings, rpc_url: str, signer_url: str, operator: str,
                   markets: Markets) -> Any:
    """The exchange, signing its settlement batches through the policy signer at `signer_url`."""
    from matcher.exchange.ratelimits import RateLimits
    from matcher.exchange.service import ExchangeConfig, ExchangeServer
    from wallet.signer_client import SignerClient
    token = (root / "signer.token").read_text().strip()
    limits = {"rate_limits": RateLimits(*settings.rate_limits)} if settings.rate_limits is not None else {}
    return ExchangeServer(ExchangeConfig(
        rpc_url, address_of("SettlementVault"), markets, SignerClient(signer_url, token).account(operator), operator,
        root / "exchange", settings.host, settings.port, settings.batch_size, settings.batch_interval,
        exchange_max_open_orders=max(1000, settings.max_open_orders * len(markets.by_symbol)),
        burn_every_blocks=settings.burn_every_blocks, rewards_distributor=address_of("MerkleDistributor"),
        reward_per_epoch=REWARD_PER_EPOCH, reward_every_blocks=settings.reward_every_blocks,
        listing_vote=address_of("ListingVote"), max_unsettled_fills=settings.max_unsettled_fills,
        **limits)).start()


def seed_liquidity(exchange: Any, root: Path, demo: dict[str, Any], maker_key: bytes, rpc_url: str,
                   progress: Any = lambda step: None) -> None:
    """Demo user 4 deposits each new demo token (and BRS) and quotes a bid and an ask on its market, once per demo
    token. Rate limits are lifted while it does (start-up, before the stack is announced): two orders per market
    would otherwise take minutes at 100 orders per 10 s."""
    from matcher.client import ExchangeClient
    from matcher.exchange.ratelimits import RateLimits
    first = demo.get("seeded", 0)
    new = list(range(first + 1, len(demo["tokens"]) + 1))
    if not new:
        return
    progress(f"placing a demo maker's bids and asks on {len(demo['tokens'])} demo markets")
    maker = ExchangeClient(exchange.url, maker_key, rpc_url)
    wanted = {"BRS": 100 * len(new), **{f"D{i}": 1000 for i in new}}
    limiter = exchange.service.limits
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
    demo["seeded"] = len(demo["tokens"])
    demo_state_file(root).write_text(json.dumps(demo))


"""`bourse exchange` and `bourse reconcile`: thin layers over `matcher.exchange`."""

from __future__ import annotations

import logging
import sys
import urllib.error
from pathlib import Path
from typing import Any

import click

from contracts.settlement import MAX_FILLS

from .errors import MatcherError

RPC_DEFAULT = "http://127.0.0.1:8545"
PORT = click.IntRange(0, 65535)
SECONDS = click.FloatRange(min=0, min_open=True)


class AddressType(click.ParamType):
    name = "ADDRESS"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from eth_utils import is_address, to_checksum_address
        if not isinstance(value, str) or not is_address(value):
            self.fail(f"{value!r} is not an address (0x and 40 hex digits)", param, ctx)
        return to_checksum_address(value)


ADDRESS = AddressType()


class MatcherCommand(click.Command):
    def invoke(self, ctx: click.Context) -> object:
        from wallet.errors import WalletError
        try:
            return super().invoke(ctx)
        except (MatcherError, WalletError) as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


def rate_limit_options(command: Any) -> Any:
    """Binance's rate limits, each settable (0 turns one off)."""
    for name, default, text in (
            ("--raw-requests-per-5m", 61_000, "RAW_REQUESTS per IP per 5 minutes."),
            ("--orders-per-day", 200_000, "ORDERS per account per day."),
            ("--orders-per-10s", 100, "ORDERS per account per 10 seconds."),
            ("--weight-per-minute", 6000, "REQUEST_WEIGHT per IP per minute.")):
        command = click.option(name, type=click.IntRange(min=0), default=default, show_default=True,
                                help=text + " 0: no limit.")(command)
    return command


def max_unsettled_option(command: Any) -> Any:
    return click.option("--max-unsettled-fills", type=click.IntRange(min=1), default=10_000, show_default=True,
                        help="Backpressure: while this many fills wait for settlement, new orders get -1008 "
                             "(server busy) until it catches up.")(command)


def rate_limits_of(options: dict[str, int]) -> Any:
    from .exchange.ratelimits import RateLimits
    return RateLimits(options["weight_per_minute"], options["raw_requests_per_5m"], options["orders_per_10s"],
                      options["orders_per_day"])


@click.command("exchange", cls=MatcherCommand)
@click.option("--rpc-url", default=RPC_DEFAULT, show_default=True, help="Any EVM node (this node, anvil, BSC).")
@click.option("--settlement", "vault", required=True, help="Settlement vault address.")
@click.option("--markets", "markets_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="TOML file with [[market]] tables.")
@click.option("--signer", "signer_url", required=True, help="Policy signer URL (bourse signer run).")
@click.option("--signer-token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="File with the signer's bearer token.")
@click.option("--operator", default=None, help="Operator address in the signer (default: its first account).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The exchange's journal, tables and admin token.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface the API binds to.")
@click.option("--port", type=PORT, default=8080, show_default=True, help="Port of the REST and WebSocket API.")
@click.option("--batch-size", type=click.IntRange(1, MAX_FILLS), default=100, show_default=True,
              help="Most fills in one settlement transaction.")
@click.option("--batch-interval", type=SECONDS, default=1.0, show_default=True, help="Seconds a fill may wait.")
@click.option("--confirmations", type=click.IntRange(min=0), default=0, show_default=True,
              help="Blocks a vault event must be buried under before it counts (deposits, cancels).")
@click.option("--start-block", type=click.IntRange(min=0), default=0, show_default=True,
              help="Where to start following the vault.")
@click.option("--burn-every-blocks", type=click.IntRange(min=0), default=0, show_default=True,
              help="Burn the collected platform-token fees every N blocks (0: only with `bourse burn`).")
@click.option("--listing-vote", type=ADDRESS, default=None,
              help="Listing-vote contract: each Listed(token, round) it emits opens a TOKEN/<platform token> market.")
@click.option("--distributor", type=ADDRESS, default=None,
              help="Trade-mining distributor the operator publishes each epoch's Merkle root to.")
@click.option("--reward-per-epoch", default="1000", show_default=True,
              help="Platform tokens (whole units, decimals allowed) split among each epoch's fee payers.")
@click.option("--reward-every-blocks", type=click.IntRange(min=0), default=0, show_default=True,
              help="Close a trade-mining epoch every N blocks (0: only with `bourse rewards epoch`).")
@max_unsettled_option
@rate_limit_options
def exchange_command(rpc_url: str, vault: str, markets_file: Path, signer_url: str, signer_token_file: Path,
                     operator: str | None, data_dir: Path, host: str, port: int, batch_size: int,
                     batch_interval: float, confirmations: int, start_block: int, burn_every_blocks: int,
                     listing_vote: str | None, distributor: str | None, reward_per_epoch: str,
                     reward_every_blocks: int, max_unsettled_fills: int, **limits: int) -> None:
    """Run the exchange alone against any node: signed orders in, Binance-style API out, batches settled."""
    from wallet.signer_client import SignerClient

    from . import compiled
    from .exchange.markets import load_markets
    from .exchange.service import ExchangeConfig, run
    markets = load_markets(markets_file)
    reward = _reward_units(reward_per_epoch, markets, rpc_url, vault) if distributor else 0
    client = SignerClient(signer_url, signer_token_file.read_text().strip())
    operator = operator or client.accounts()[0]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    interrupt_on_signals()
    config = ExchangeConfig(rpc_url, vault, markets, client.account(operator), operator, data_dir,
                            host, port, batch_size, batch_interval, confirmations=confirmations,
                            start_block=start_block, rate_limits=rate_limits_of(limits),
                            burn_every_blocks=burn_every_blocks, rewards_distributor=distributor,
                            reward_per_epoch=reward, reward_every_blocks=reward_every_blocks,
                            listing_vote=listing_vote, max_unsettled_fills=max_unsettled_fills)
    click.echo(f"exchange on http://{host}:{port} (vault {vault}, operator {operator}; matching engine: "
               f"{compiled.describe()}; /admin/* needs the token in {data_dir / 'admin.token'})", err=True)
    run(config)


def _reward_units(amount: str, markets: Any, rpc_url: str, vault: str) -> int:
    """The reward per epoch in units of the vault's platform token."""
    from wallet.rpc import Rpc

    from .exchange.errors import ApiError
    from .exchange.units import parse_units
    from .exchange.vault import VaultClient
    platform = markets.by_token.get(VaultClient(Rpc(rpc_url), vault).platform_token())
    if platform is None:
        raise MatcherError("--distributor: the vault's platform token is not an asset of these markets")
    try:
        return parse_units(amount, platform.decimals, "reward per epoch")
    except ApiError as exc:
        raise MatcherError(f"--reward-per-epoch: {exc.msg}") from None


def interrupt_on_signals() -> None:
    """Ctrl-C and SIGTERM stop the process cleanly, even when it was started with SIGINT ignored (as a shell
    starts background jobs, and Python then keeps that): both raise KeyboardInterrupt in the main thread."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt)


@click.command("reconcile", cls=MatcherCommand)
@click.option("--exchange", "exchange_url", default="http://127.0.0.1:8080", show_default=True,
              help="The exchange's base URL.")
@click.option("--admin-token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The exchange's admin.token (in its data dir; else $BOURSE_ADMIN_TOKEN).")
@click.option("--rpc-url", default=RPC_DEFAULT, show_default=True, help="The node the vault lives on.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")
def reconcile_command(exchange_url: str, admin_token_file: Path | None, rpc_url: str, as_json: bool) -> None:
    """Compare the exchange's ledger with the vault's balances; print every difference to the wei (exit 1 if any)."""
    from wallet.files import read_token
    from wallet.rpc import Rpc

    from .exchange.reconcile import fetch_ledger, reconcile
    token = read_token(admin_token_file)
    try:
        ledger = fetch_ledger(exchange_url, token)
    except urllib.error.HTTPError as exc:
        raise MatcherError(f"the exchange at {exchange_url} refused the ledger request (HTTP {exc.code}): "
                           "is the admin token right?") from None
    except OSError as exc:
        raise MatcherError(f"cannot reach the exchange at {exchange_url}: {exc}") from None
    differences = reconcile(ledger, Rpc(rpc_url))
    if as_json:
        import json
        click.echo(json.dumps({
            "agree": not differences, "block": ledger["asOfBlock"], "balances": len(ledger["balances"]),
            "inFlight": len(ledger["inFlight"]), "shortfalls": ledger.get("shortfalls", []),
            "differences": [{"account": d.account, "asset": d.asset, "ledger": str(d.ledger), "chain": str(d.chain)}
                            for d in differences]}, indent=2))
        if differences:
            sys.exit(1)
        return
    for difference in differences:
        click.echo(difference.line())
    for shortfall in ledger.get("shortfalls", []):
        click.echo(f"shortfall: {shortfall['account']} {shortfall['asset']} {shortfall['amount']} "
                   f"({shortfall['reason']})")
    if differences:
        sys.exit(1)
    click.echo(f"ledger and vault agree at block {ledger['asOfBlock']} ({len(ledger['balances'])} balances, "
               f"{len(ledger['inFlight'])} in-flight entries)")

"""`bourse exchange`, `bourse up` and `bourse reconcile`: thin layers over `matcher.exchange`."""

from __future__ import annotations

import logging
import sys
import urllib.error
import tempfile
from pathlib import Path

import click

from .errors import MatcherError

RPC_DEFAULT = "http://127.0.0.1:8545"


class MatcherCommand(click.Command):
    def invoke(self, ctx: click.Context) -> object:
        from wallet.errors import WalletError
        try:
            return super().invoke(ctx)
        except (MatcherError, WalletError) as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


@click.command("exchange", cls=MatcherCommand)
@click.option("--rpc-url", default=RPC_DEFAULT, show_default=True, help="Any EVM node (this node, anvil, BSC).")
@click.option("--settlement", "vault", required=True, help="Settlement vault address.")
@click.option("--markets", "markets_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="TOML file with [[market]] tables.")
@click.option("--signer", "signer_url", required=True, help="Policy signer URL (bourse signer run).")
@click.option("--signer-token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--operator", default=None, help="Operator address in the signer (default: its first account).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 256), default=100, show_default=True)
@click.option("--batch-interval", type=float, default=1.0, show_default=True, help="Seconds a fill may wait.")
@click.option("--confirmations", type=int, default=0, show_default=True)
@click.option("--start-block", type=int, default=0, show_default=True, help="Where to start following the vault.")
def exchange_command(rpc_url: str, vault: str, markets_file: Path, signer_url: str, signer_token_file: Path,
                     operator: str | None, data_dir: Path, host: str, port: int, batch_size: int,
                     batch_interval: float, confirmations: int, start_block: int) -> None:
    """Run the exchange alone against any node: signed orders in, Binance-style API out, batches settled."""
    from wallet.signer_client import SignerClient

    from . import compiled
    from .exchange.markets import load_markets
    from .exchange.service import ExchangeConfig, run
    client = SignerClient(signer_url, signer_token_file.read_text().strip())
    operator = operator or client.accounts()[0]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config = ExchangeConfig(rpc_url, vault, load_markets(markets_file), client.account(operator), operator, data_dir,
                            host, port, batch_size, batch_interval, confirmations=confirmations,
                            start_block=start_block)
    click.echo(f"exchange on http://{host}:{port} (vault {vault}, operator {operator}; matching engine: "
               f"{compiled.describe()}; /admin/* needs the token in {data_dir / 'admin.token'})", err=True)
    run(config)


@click.command("up", cls=MatcherCommand)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the chain, the signer's audit log and the exchange here (default: a temporary folder).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--node-port", type=int, default=8545, show_default=True)
@click.option("--signer-port", type=int, default=8550, show_default=True)
@click.option("--port", type=int, default=8080, show_default=True, help="Exchange API port.")
@click.option("--batch-interval", type=float, default=1.0, show_default=True)
def up_command(data_dir: Path | None, host: str, node_port: int, signer_port: int, port: int,
               batch_interval: float) -> None:
    """Start the whole stack: node (platform predeployed), demo markets, policy signer, exchange API."""
    from .stack import Stack
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    persistent = data_dir is not None
    root = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="bourse-up-"))
    stack = Stack(root, host, node_port, signer_port, port, batch_interval, persistent_chain=persistent).start()
    click.echo(stack.banner())
    try:
        stack.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


@click.command("reconcile", cls=MatcherCommand)
@click.option("--exchange", "exchange_url", default="http://127.0.0.1:8080", show_default=True,
              help="The exchange's base URL.")
@click.option("--admin-token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The exchange's admin.token (in its data dir; else $BOURSE_ADMIN_TOKEN).")
@click.option("--rpc-url", default=RPC_DEFAULT, show_default=True, help="The node the vault lives on.")
def reconcile_command(exchange_url: str, admin_token_file: Path | None, rpc_url: str) -> None:
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
    for difference in differences:
        click.echo(difference.line())
    for shortfall in ledger.get("shortfalls", []):
        click.echo(f"shortfall: {shortfall['account']} {shortfall['asset']} {shortfall['amount']} "
                   f"({shortfall['reason']})")
    if differences:
        sys.exit(1)
    click.echo(f"ledger and vault agree at block {ledger['asOfBlock']} ({len(ledger['balances'])} balances, "
               f"{len(ledger['inFlight'])} in-flight entries)")

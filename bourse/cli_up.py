"""`bourse up`: the whole stack on one machine, each part in its own process (`bourse.supervisor`)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from matcher.cli import PORT, SECONDS, interrupt_on_signals, max_unsettled_option, rate_limit_options, rate_limits_of


@click.command("up")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the chain, the signer's audit log and the exchange here (default: a temporary folder, "
                   "removed on exit).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface every part binds to.")
@click.option("--node-port", type=PORT, default=8545, show_default=True, help="JSON-RPC port of the node.")
@click.option("--signer-port", type=PORT, default=8550, show_default=True, help="Port of the policy signer.")
@click.option("--port", type=PORT, default=8080, show_default=True, help="Exchange API port.")
@click.option("--batch-interval", type=SECONDS, default=1.0, show_default=True,
              help="Seconds a fill may wait for its settlement batch.")
@click.option("--max-open-orders", type=click.IntRange(min=1), default=200, show_default=True,
              help="MAX_NUM_ORDERS: open orders per account and market (EXCHANGE_MAX_NUM_ORDERS follows).")
@click.option("--burn-every-blocks", type=click.IntRange(min=0), default=0, show_default=True,
              help="Burn the collected platform-token fees every N blocks (0: only with `bourse burn`).")
@click.option("--markets", "extra_markets", type=click.IntRange(0, 1000), default=0, show_default=True,
              help="Also deploy N demo tokens D1..DN and list a D<i>/BRS market for each, quoted by a demo maker.")
@click.option("--reward-every-blocks", type=click.IntRange(min=0), default=0, show_default=True,
              help="Close a trade-mining epoch every N blocks (0: only with `bourse rewards epoch`).")
@max_unsettled_option
@rate_limit_options
def up_command(data_dir: Path | None, host: str, node_port: int, signer_port: int, port: int,
               batch_interval: float, max_open_orders: int, burn_every_blocks: int, extra_markets: int,
               reward_every_blocks: int, max_unsettled_fills: int, **limits: int) -> None:
    """Start the whole stack: node (platform predeployed), demo markets, policy signer, exchange API - each in its
    own process; one Ctrl-C stops them all, and one that stops stops the others with a message."""
    import shutil
    from dataclasses import astuple

    from matcher.exchange.service import listening_socket

    from .parts import UpSettings
    from .supervisor import Supervisor
    interrupt_on_signals()
    for number in {node_port, signer_port, port} - {0}:  # every port free before anything is written
        listening_socket(host, number).close()
    persistent = data_dir is not None
    fresh = data_dir is None or not Path(data_dir).exists()  # what this run creates, it removes if it fails
    root = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="bourse-up-"))
    stack = Supervisor(root, UpSettings(
        host, node_port, signer_port, port, batch_interval, persistent_chain=persistent,
        rate_limits=list(astuple(rate_limits_of(limits))), max_open_orders=max_open_orders,
        burn_every_blocks=burn_every_blocks, extra_markets=extra_markets, reward_every_blocks=reward_every_blocks,
        max_unsettled_fills=max_unsettled_fills))
    tty = sys.stderr.isatty()
    started = False
    try:
        stack.start(progress=lambda step: click.echo(f"{step}...", err=True) if tty else None)
        started = True
        click.echo(stack.banner())
        stack.wait()
    except KeyboardInterrupt:
        if not started:
            raise  # Ctrl-C during start-up: "error: interrupted", exit 130
    finally:
        stack.stop()
        if not persistent or (fresh and not started):
            shutil.rmtree(root, ignore_errors=True)

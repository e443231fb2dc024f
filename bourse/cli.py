"""Entry point of the `bourse` console command: mounts each package's CLI and reports every failure as one line.

A command that fails prints `error: <what was wrong>` on stderr and exits 1 (130 on Ctrl-C), never a traceback;
`BOURSE_DEBUG=1` shows the traceback of an unexpected error.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

import click

from chain.cli import node_command
from chain.errors import ChainError
from contracts.errors import ContractsError
from matcher.cli import exchange_command, reconcile_command
from matcher.cli_api_keys import api_key_group
from matcher.cli_burn import burn_command
from matcher.cli_rewards import rewards_group
from matcher.errors import MatcherError
from wallet.cli import wallet_group
from wallet.cli_signer import signer_group
from wallet.cli_treasury import por_group
from wallet.errors import WalletError

from .cli_launchpad import launchpad_group
from .cli_up import up_command
from .errors import BourseError
from .cli_vote import vote_group

KNOWN_ERRORS = (WalletError, ChainError, MatcherError, ContractsError, BourseError)


def os_error_line(exc: OSError) -> str:
    """`Permission denied: /data/x` rather than `[Errno 13] Permission denied: '/data/x'`."""
    what = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.EADDRINUSE:
        what = "address already in use (another program listens on that port)"
    return f"{what}: {exc.filename}" if exc.filename else what


class BourseGroup(click.Group):
    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """click's main, with its usage errors and aborts as one line too (`error: Missing option '--to'. (see
        bourse wallet tx build --help)`) instead of a usage block."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.ClickException as exc:
            where = f" (see `{exc.ctx.command_path} --help`)" if isinstance(exc, click.UsageError) and exc.ctx else ""
            click.echo(f"error: {exc.format_message()}{where}", err=True)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            ctx.exit(130)
        except KNOWN_ERRORS as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)
        except OSError as exc:
            click.echo(f"error: {os_error_line(exc)}", err=True)
            ctx.exit(1)
        except Exception as exc:
            if os.environ.get("BOURSE_DEBUG"):
                raise
            click.echo(f"error: unexpected {type(exc).__name__}: {exc} (BOURSE_DEBUG=1 shows where)", err=True)
            ctx.exit(1)


@click.group(cls=BourseGroup)
@click.version_option(package_name="bourse")
def main() -> None:
    """Bourse: a local exchange stack on an EVM chain."""


main.add_command(node_command)
main.add_command(wallet_group)
main.add_command(signer_group)
main.add_command(por_group)
main.add_command(exchange_command)
main.add_command(up_command)
main.add_command(reconcile_command)
main.add_command(api_key_group)
main.add_command(burn_command)
main.add_command(launchpad_group)
main.add_command(vote_group)
main.add_command(rewards_group)

if __name__ == "__main__":
    main()

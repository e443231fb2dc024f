"""Entry point of the `bourse` console command."""

from __future__ import annotations

import click

from chain.cli import node_command
from matcher.cli import exchange_command, reconcile_command, up_command
from wallet.cli import wallet_group
from wallet.cli_signer import signer_group
from wallet.cli_treasury import por_group


@click.group()
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

if __name__ == "__main__":
    main()

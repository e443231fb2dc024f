"""Entry point of the `bourse` console command."""

from __future__ import annotations

import click

from chain.cli import node_command


@click.group()
@click.version_option(package_name="bourse")
def main() -> None:
    """Bourse: a local exchange stack on an EVM chain."""


main.add_command(node_command)

if __name__ == "__main__":
    main()

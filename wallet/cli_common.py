"""What the wallet's CLI modules share: error reporting, password and secret input, common options."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from contracts.errors import ContractsError

from .errors import PasswordError, WalletError
from .rpc import default_rpc_url
from .store import KeyStore


class WalletGroup(click.Group):
    """A click group whose commands report a WalletError as one line on stderr and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (WalletError, ContractsError) as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


def rpc_option(func: Any) -> Any:
    return click.option("--rpc-url", default=default_rpc_url, show_default="$BOURSE_RPC_URL or http://127.0.0.1:8545",
                        help="JSON-RPC endpoint of any EVM node.")(func)


def keystore_option(func: Any) -> Any:
    return click.option("--keystore", "keystore_dir", type=click.Path(file_okay=False, path_type=Path),
                        default=None, help="Keystore folder (default $BOURSE_KEYSTORE or ~/.bourse/keystore).")(func)


def password_file_option(func: Any) -> Any:
    return click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Read the password from this file (else $BOURSE_PASSWORD, else a hidden prompt).")(func)


def json_option(func: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")(func)


def read_password(what: str, password_file: Path | None, confirm: bool = False, env: str = "BOURSE_PASSWORD") -> str:
    """From the file, else the environment variable, else a hidden prompt (with confirmation for new passwords)."""
    if password_file is not None:
        try:
            password = Path(password_file).read_text().rstrip("\r\n")
        except OSError as exc:
            raise PasswordError(f"cannot read password file {password_file}: {exc.strerror}") from None
    elif os.environ.get(env):
        password = os.environ[env]
    elif sys.stdin.isatty():
        password = click.prompt(f"Password for {what}", hide_input=True, confirmation_prompt=confirm,
                                show_default=False)
    else:
        raise PasswordError(f"no password for {what}: use --password-file or ${env} (no terminal to prompt on)")
    if not password:
        raise PasswordError(f"empty password for {what}")
    return password


def read_secret(what: str) -> str:
    """A private key or mnemonic: a hidden prompt on a terminal, else one line of stdin. Never an argument."""
    if sys.stdin.isatty():
        return click.prompt(what, hide_input=True, show_default=False).strip()
    line = sys.stdin.readline().strip()
    if not line:
        raise WalletError(f"expected the {what.lower()} on stdin")
    return line


def open_store(keystore_dir: Path | None, light: bool = False) -> KeyStore:
    from .keystore import KdfParams
    return KeyStore(keystore_dir, KdfParams.light() if light else KdfParams())


def working(what: str) -> None:
    """Say what a slow step is doing (scrypt takes seconds), on a terminal only: scripts get clean stderr."""
    if sys.stderr.isatty():
        click.echo(f"{what}...", err=True)


def unlock(store: KeyStore, name: str, password_file: Path | None) -> bytes:
    account = store.get(name)
    password = read_password(account.name, password_file)
    working(f"decrypting {account.name} (scrypt)")
    return store.unlock(account.name, password)


def emit(data: Any, as_json: bool, human: str) -> None:
    click.echo(json.dumps(data, indent=2, default=str) if as_json else human)


def confirm_or_abort(question: str, assume_yes: bool) -> None:
    if assume_yes:
        return
    try:
        answer = click.confirm(question, default=False, err=True)
    except click.Abort:  # end of input: no one said yes
        answer = False
    if not answer:
        raise WalletError("not confirmed; nothing was changed (pass --yes to confirm without asking)")

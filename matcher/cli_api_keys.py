"""`bourse api-key create|list|delete`: API keys for Binance's clients, made with a keystore account (the key
never leaves the keystore: it signs the agent approval and the EIP-712 grant here)."""

from __future__ import annotations

from pathlib import Path

import click

from wallet.cli_common import (emit, json_option, keystore_option, open_store, password_file_option, rpc_option,
                               unlock)

from .cli import MatcherCommand

EXCHANGE_DEFAULT = "http://127.0.0.1:8080"


def exchange_option(func: object) -> object:
    return click.option("--exchange", "exchange_url", default=EXCHANGE_DEFAULT, show_default=True,
                        help="The exchange's base URL.")(func)  # type: ignore[arg-type]


def _client(exchange_url: str, name: str, keystore_dir: Path | None, password_file: Path | None,
            rpc_url: str | None = None) -> object:
    from .client import ExchangeClient
    key = unlock(open_store(keystore_dir), name, password_file)
    return ExchangeClient(exchange_url, key, rpc_url)


@click.group("api-key")
def api_key_group() -> None:
    """API keys for ccxt, python-binance and binance-connector, bound to an agent your account approves."""


@api_key_group.command("create", cls=MatcherCommand)
@click.argument("name")
@exchange_option
@rpc_option
@click.option("--permissions", type=click.Choice(["TRADE", "USER_DATA"]), default="TRADE", show_default=True,
              help="TRADE: place and cancel orders and read; USER_DATA: read only.")
@click.option("--ed25519-public-key", "public_key_file", type=click.Path(exists=True, dir_okay=False,
                                                                         path_type=Path), default=None,
              help="Register your own Ed25519 public key (PEM) instead of getting an HMAC secret.")
@click.option("--ip", "ips", multiple=True, help="Only this IP may use the key (repeat for more).")
@click.option("--label", default="", help="A name for the key.")
@click.option("--days", type=click.IntRange(1, 365), default=30, show_default=True,
              help="How long the vault lets the key's agent sign your orders.")
@click.option("--by-signature", is_flag=True,
              help="Sign the agent approval instead of sending a transaction: the operator submits it.")
@keystore_option
@password_file_option
@json_option
def create_command(name: str, exchange_url: str, rpc_url: str, permissions: str, public_key_file: Path | None,
                   ips: tuple[str, ...], label: str, days: int, by_signature: bool, keystore_dir: Path | None,
                   password_file: Path | None, as_json: bool) -> None:
    """Make an API key for the keystore account NAME. An HMAC secret is printed once: keep it."""
    client = _client(exchange_url, name, keystore_dir, password_file, rpc_url)
    made = client.create_api_key(  # type: ignore[attr-defined]
        permissions=permissions, key_type="ED25519" if public_key_file else "HMAC_SHA256",
        public_key=public_key_file.read_text() if public_key_file else "", ip_allowlist=",".join(ips), label=label,
        days=days, by_signature=by_signature)
    lines = [f"API key      {made['apiKey']}"]
    if "secretKey" in made:
        lines.append(f"Secret key   {made['secretKey']}   (shown once: store it now)")
    lines += [f"Agent        {made['agent']} ({made['agentState']}, until {made['agentExpiry']})",
              f"Permissions  {', '.join(made['permissions'])}",
              f"Revoke on chain at any time: revokeAgent({made['agent']}) on the settlement vault."]
    emit(made, as_json, "\n".join(lines))


@api_key_group.command("list", cls=MatcherCommand)
@click.argument("name")
@exchange_option
@keystore_option
@password_file_option
@json_option
def list_command(name: str, exchange_url: str, keystore_dir: Path | None, password_file: Path | None,
                 as_json: bool) -> None:
    """The API keys of the keystore account NAME."""
    keys = _client(exchange_url, name, keystore_dir, password_file).signed_read(  # type: ignore[attr-defined]
        "GET", "/bourse/v1/apiKey")
    human = "\n".join(f"{k['apiKey']}  {k['keyType']:<11} {','.join(k['permissions']):<9} agent {k['agent']} "
                      f"({k['agentState']})  {k['label']}" for k in keys) or "no API keys"
    emit(keys, as_json, human)


@api_key_group.command("delete", cls=MatcherCommand)
@click.argument("name")
@click.argument("api_key")
@exchange_option
@keystore_option
@password_file_option
@json_option
def delete_command(name: str, api_key: str, exchange_url: str, keystore_dir: Path | None,
                   password_file: Path | None, as_json: bool) -> None:
    """Delete API_KEY of the keystore account NAME (revoke its agent on the vault to bind the exchange too)."""
    _client(exchange_url, name, keystore_dir, password_file).signed_read(  # type: ignore[attr-defined]
        "DELETE", "/bourse/v1/apiKey", {"apiKey": api_key})
    emit({"deleted": api_key}, as_json, f"deleted {api_key}")


__all__ = ["api_key_group"]

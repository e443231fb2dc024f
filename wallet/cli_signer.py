"""`bourse signer`: the policy-limited hot signing service (clef's account_* API) and its audit log."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import click

from .cli_common import WalletGroup, emit, json_option, keystore_option, open_store, password_file_option, read_password
from .files import ExclusiveLock
from .signer_server import DEFAULT_SIGNER_PORT


@click.group("signer", cls=WalletGroup)
def signer_group() -> None:
    """The hot signer: keys unlocked once, every request checked against a policy and written to an audit log."""


@signer_group.command("run")
@click.option("--account", "names", multiple=True, required=True, help="Keystore account to unlock (repeatable).")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="TOML policy file with a [keys.<alias>] table per key.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (keep it local).")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_SIGNER_PORT, show_default=True,
              help="TCP port (clef's by default).")
@click.option("--socket", "unix_socket", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Serve on this Unix socket instead of TCP.")
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Bearer token file; created with a random token (mode 0600) if missing.")
@click.option("--audit-log", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Hash-chained JSON-lines log of every request; the 24-hour limits are rebuilt from it.")
@keystore_option
@password_file_option
def signer_run(names: tuple[str, ...], policy_file: Path, host: str, port: int, unix_socket: Path | None,
               token_file: Path, audit_log: Path, keystore_dir: Path | None, password_file: Path | None) -> None:
    """Unlock the accounts and serve account_list / account_signTransaction / account_signTypedData."""
    from .audit import AuditLog
    from .policy import load_policies
    from .signer import HotSigner, resolve_policies
    from .signer_server import SignerServer, load_or_create_token
    store = open_store(keystore_dir)
    keys, aliases = {}, {}
    for name in names:
        account = store.get(name)
        keys[account.address] = store.unlock(account.name, read_password(account.name, password_file))
        aliases[account.name] = account.address
    policies = resolve_policies(load_policies(policy_file), aliases)
    server = SignerServer(None, "", host, port, unix_socket)  # bound before anything is written
    try:
        audit_log.parent.mkdir(parents=True, exist_ok=True)
        lock = ExclusiveLock(audit_log.with_name(audit_log.name + ".lock"), f"the audit log {audit_log}")
        signer = HotSigner(keys, policies, AuditLog(audit_log))
        server.attach(signer, load_or_create_token(token_file))
    except BaseException:
        server.stop()
        raise
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    for address in signer.addresses:
        click.echo(f"unlocked {address}" + ("" if address in policies else " (no policy: signs nothing)"))
    click.echo(f"signer listening on {server.url} (audit log {audit_log}, head {signer.audit.head.seq})", err=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        lock.release()


@signer_group.group("audit", cls=WalletGroup)
def audit_group() -> None:
    """The signer's hash-chained audit log."""


@audit_group.command("verify")
@click.argument("log_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--expect-head", default=None, help="Head hash recorded elsewhere, to detect a rewritten log.")
@json_option
def audit_verify(log_file: Path, expect_head: str | None, as_json: bool) -> None:
    """Check that no line of LOG_FILE was edited, removed, reordered or cut from the end (exit 1 if one was)."""
    from .audit import verify
    head = verify(log_file, expect_head)
    emit({"valid": True, "entries": head.seq, "head": head.hash}, as_json,
         f"ok: {head.seq} entries, head {head.hash}")


__all__ = ["signer_group"]

"""`bourse wallet tx|backup|vault`: cold (offline) signing, SLIP-39 backups and the multisig vault."""

from __future__ import annotations

from pathlib import Path

import click

from .calldata import encode_call
from .cli_common import (
    WalletGroup,
    confirm_or_abort,
    emit,
    json_option,
    keystore_option,
    open_store,
    password_file_option,
    read_password,
    read_secret,
    rpc_option,
    unlock,
)
from .errors import WalletError
from .rpc import Rpc
from .units import parse_amount


def call_data(data: str | None, signature: str | None, args: tuple[str, ...]) -> bytes:
    """Calldata from --data, or from --sig and its arguments; empty for a plain transfer."""
    if data is not None and signature is not None:
        raise WalletError("give --data or --sig, not both")
    if signature is not None:
        return encode_call(signature, list(args))
    if args:
        raise WalletError(f"unexpected arguments {' '.join(args)} (function arguments need --sig)")
    if data is None:
        return b""
    try:
        return bytes.fromhex(data.removeprefix("0x"))
    except ValueError:
        raise WalletError("--data is not hex") from None


# --- tx: build online, sign offline, send online ---------------------------------------------------------------

@click.group("tx", cls=WalletGroup)
def tx_group() -> None:
    """Cold signing: `build` (online) -> `sign` (offline) -> `send` (online)."""


@tx_group.command("build")
@click.option("--from", "sender", required=True, help="Sender: an address, or an account of the keystore.")
@click.option("--to", required=True, help="Recipient or contract address.")
@click.option("--value", default="0", show_default=True, help="Native coin: 1.5, 1.5ether, 20gwei, 7wei.")
@click.option("--data", default=None, help="Raw calldata (0x...).")
@click.option("--sig", "signature", default=None, help="Function signature, e.g. 'transfer(address,uint256)'.")
@click.argument("args", nargs=-1)
@click.option("--nonce", type=click.IntRange(min=0), default=None, help="Nonce (default: the sender's next).")
@click.option("--gas", type=click.IntRange(min=21_000), default=None, help="Gas limit (default: estimate + 20%).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Unsigned tx file.")
@rpc_option
@keystore_option
@json_option
def tx_build(sender: str, to: str, value: str, data: str | None, signature: str | None, args: tuple[str, ...],
             nonce: int | None, gas: int | None, out: Path, rpc_url: str, keystore_dir: Path | None,
             as_json: bool) -> None:
    """Fill nonce, EIP-1559 fees, gas and chain id from the node; write an unsigned transaction file."""
    from eth_utils import is_address

    from .transactions import build_transaction, summary, write_unsigned
    address = sender if is_address(sender) else open_store(keystore_dir).get(sender).address
    tx = build_transaction(Rpc(rpc_url), address, to, parse_amount(value), call_data(data, signature, args),
                           gas=gas, nonce=nonce)
    write_unsigned(out, tx)
    emit({**tx.as_json(), "file": str(out), "summary": summary(tx)}, as_json,
         "\n".join(summary(tx)) + f"\nwrote {out}")


@tx_group.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--account", "name", required=True, help="Keystore account that signs (must be the sender).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Signed tx file.")
@click.option("--yes", is_flag=True, help="Sign without asking for confirmation.")
@keystore_option
@password_file_option
@json_option
def tx_sign(file: Path, name: str, out: Path, yes: bool, keystore_dir: Path | None,
            password_file: Path | None, as_json: bool) -> None:
    """Offline: show what FILE does, ask for confirmation, sign it. Opens no network connection."""
    from .transactions import read_unsigned, sign_transaction, summary, write_signed
    tx = read_unsigned(file)
    click.echo("\n".join(summary(tx)), err=True)
    confirm_or_abort("Sign this transaction?", yes)
    key = unlock(open_store(keystore_dir), name, password_file)
    signed = sign_transaction(tx, key)
    write_signed(out, signed)
    emit({"hash": signed.hash, "from": signed.sender, "chain_id": signed.chain_id, "file": str(out)}, as_json,
         f"signed {signed.hash}; wrote {out}")


@tx_group.command("send")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--no-wait", is_flag=True, help="Return the hash without waiting for the receipt.")
@rpc_option
@json_option
def tx_send(file: Path, no_wait: bool, rpc_url: str, as_json: bool) -> None:
    """Broadcast a signed transaction file and print its receipt."""
    from .cli import _receipt_line
    from .transactions import read_signed, send_signed
    receipt = send_signed(Rpc(rpc_url), read_signed(file), wait=not no_wait)
    emit(receipt, as_json, _receipt_line(receipt))


# --- backup: SLIP-39 --------------------------------------------------------------------------------------------

@click.group("backup", cls=WalletGroup)
def backup_group() -> None:
    """SLIP-39 Shamir backups. Meant for an OFFLINE machine: shares are as sensitive as the key."""


@backup_group.command("shamir")
@click.option("--account", "name", default=None, help="Split this keystore account's private key.")
@click.option("--mnemonic", "from_mnemonic", is_flag=True, help="Split a BIP-39 mnemonic (hidden prompt or stdin).")
@click.option("--threshold", "-m", type=click.IntRange(1, 16), required=True, help="Shares needed to restore.")
@click.option("--shares", "-n", type=click.IntRange(1, 16), required=True, help="Shares to create.")
@click.option("--passphrase", "use_passphrase", is_flag=True,
              help="Protect the shares with a passphrase (asked hidden, or $BOURSE_BACKUP_PASSPHRASE).")
@keystore_option
@password_file_option
@json_option
def backup_shamir(name: str | None, from_mnemonic: bool, threshold: int, shares: int, use_passphrase: bool,
                  keystore_dir: Path | None, password_file: Path | None, as_json: bool) -> None:
    """Split a key or mnemonic into N SLIP-39 shares, any M of which restore it. Run this offline."""
    from .backup import split_key, split_mnemonic
    if (name is None) == (not from_mnemonic):
        raise WalletError("choose exactly one of --account or --mnemonic")
    if from_mnemonic:
        secret_shares = split_mnemonic(read_secret("Mnemonic"), threshold, shares, _passphrase(use_passphrase, True))
    else:
        key = unlock(open_store(keystore_dir), name, password_file)  # type: ignore[arg-type]
        secret_shares = split_key(key, threshold, shares, _passphrase(use_passphrase, True))
    click.echo(f"Any {threshold} of these {shares} shares restore the secret. Store each one apart, offline.", err=True)
    emit(secret_shares, as_json, "\n".join(f"share {i}: {s}" for i, s in enumerate(secret_shares, 1)))


@backup_group.command("restore")
@click.option("--kind", type=click.Choice(["key", "mnemonic"]), default="key", show_default=True,
              help="What the shares hold.")
@click.option("--passphrase", "use_passphrase", is_flag=True, help="The shares were made with a passphrase.")
@click.option("--import", "alias", default=None, help="Store the restored key in the keystore under this alias.")
@click.option("--show", is_flag=True, help="Print the restored key or mnemonic.")
@keystore_option
@password_file_option
@json_option
def backup_restore(kind: str, use_passphrase: bool, alias: str | None, show: bool, keystore_dir: Path | None,
                   password_file: Path | None, as_json: bool) -> None:
    """Rebuild a key or mnemonic from shares (one per line on stdin, or prompted until an empty line); the
    `share N: ...` lines `backup shamir` prints are taken as they are."""
    from .backup import restore_mnemonic, restore_secret
    from .hd import key_from_mnemonic
    from .keystore import address_of, check_private_key
    shares = _read_shares()
    passphrase = _passphrase(use_passphrase, False)
    if kind == "mnemonic":
        mnemonic = restore_mnemonic(shares, passphrase)
        key = key_from_mnemonic(mnemonic)
        secret_text = mnemonic
    else:
        key = check_private_key(restore_secret(shares, passphrase))
        secret_text = "0x" + key.hex()
    result: dict[str, object] = {"address": address_of(key)}
    lines = [f"restored; first address {address_of(key)}"]
    if show:
        result["key" if kind == "key" else "mnemonic"] = secret_text
        lines.append(secret_text)
    if alias is not None:
        store = open_store(keystore_dir)
        account = store.add_key(alias, key, read_password(alias, password_file, confirm=True),
                                "m/44'/60'/0'/0/0" if kind == "mnemonic" else None)
        result["imported"] = account.as_json()
        lines.append(f"imported as {account.alias} ({account.path})")
    emit(result, as_json, "\n".join(lines))


def _read_shares() -> list[str]:
    import sys
    if not sys.stdin.isatty():
        return [_share_words(line) for line in sys.stdin if line.strip()]
    shares = []
    while True:
        share = _share_words(click.prompt(f"Share {len(shares) + 1} (empty line to finish)", default="",
                                          hide_input=True, show_default=False))
        if not share:
            return shares
        shares.append(share)


def _share_words(line: str) -> str:
    """A share's words, without the `share N:` label `backup shamir` prints before each."""
    import re
    return re.sub(r"^\s*share\s+\d+\s*:\s*", "", line, flags=re.IGNORECASE).strip()


def _passphrase(wanted: bool, confirm: bool) -> str:
    if not wanted:
        return ""
    return read_password("the backup passphrase", None, confirm=confirm, env="BOURSE_BACKUP_PASSPHRASE")


# --- vault: the multisig cold vault ----------------------------------------------------------------------------

@click.group("vault", cls=WalletGroup)
def vault_group() -> None:
    """The multisig vault: `propose` (online) -> each owner `sign` (offline) -> `execute` (online)."""


@vault_group.command("propose")
@click.argument("vault")
@click.option("--to", required=True, help="What the vault calls or pays.")
@click.option("--value", default="0", show_default=True, help="Native coin the vault sends: 1.5, 1.5ether, 7wei.")
@click.option("--data", default=None, help="Raw calldata (0x...).")
@click.option("--sig", "signature", default=None, help="Function signature, e.g. 'transfer(address,uint256)'.")
@click.argument("args", nargs=-1)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The proposal file the owners sign.")
@click.option("--lifetime", type=click.IntRange(min=1), default=7 * 86_400, show_default=True,
              help="Seconds the owners' signatures stay good for, from the latest block.")
@rpc_option
@json_option
def vault_propose(vault: str, to: str, value: str, data: str | None, signature: str | None, args: tuple[str, ...],
                  out: Path, lifetime: int, rpc_url: str, as_json: bool) -> None:
    """Write the EIP-712 transaction VAULT's owners will sign, at the vault's next nonce."""
    from .vault import propose, write_proposal
    proposal = propose(Rpc(rpc_url), vault, to, parse_amount(value), call_data(data, signature, args),
                       lifetime=lifetime)
    write_proposal(out, proposal)
    emit({**proposal.as_json(), "file": str(out)}, as_json,
         f"proposal for nonce {proposal.nonce}, digest 0x{proposal.digest.hex()}; wrote {out}")


@vault_group.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--account", "name", required=True, help="The owner's keystore account.")
@keystore_option
@password_file_option
@json_option
def vault_sign(file: Path, name: str, keystore_dir: Path | None, password_file: Path | None, as_json: bool) -> None:
    """Offline: add an owner's signature to a proposal file (in place, atomically)."""
    from .vault import add_signature, read_proposal, write_proposal
    proposal = read_proposal(file)
    updated = add_signature(proposal, unlock(open_store(keystore_dir), name, password_file))
    write_proposal(file, updated)
    emit({**updated.as_json(), "file": str(file)}, as_json, f"{len(updated.signatures)} signature(s) on {file}")


@vault_group.command("execute")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--account", "name", required=True, help="Account that pays gas to submit.")
@rpc_option
@keystore_option
@password_file_option
@json_option
def vault_execute(file: Path, name: str, rpc_url: str, keystore_dir: Path | None, password_file: Path | None,
                  as_json: bool) -> None:
    """Submit a proposal once enough owners signed it."""
    from .cli import _receipt_line
    from .vault import execute, read_proposal
    receipt = execute(Rpc(rpc_url), read_proposal(file), unlock(open_store(keystore_dir), name, password_file))
    emit(receipt, as_json, _receipt_line(receipt))


@vault_group.command("status")
@click.argument("vault")
@click.option("--proposal", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Also say which owners have signed this proposal file.")
@rpc_option
@json_option
def vault_status(vault: str, proposal: Path | None, rpc_url: str, as_json: bool) -> None:
    """Owners, threshold, nonce and balance; with --proposal, which owners have signed it."""
    from .units import format_amount
    from .vault import read_proposal, status, valid_signers
    current = status(Rpc(rpc_url), vault)
    data = {"vault": current.vault, "owners": current.owners, "threshold": current.threshold,
            "nonce": current.nonce, "balance": str(current.balance)}
    lines = [f"vault      {current.vault}", f"owners     {', '.join(current.owners)}",
             f"threshold  {current.threshold} of {len(current.owners)}", f"nonce      {current.nonce}",
             f"balance    {format_amount(current.balance)} ether"]
    if proposal is not None:
        loaded = read_proposal(proposal)
        signers = valid_signers(loaded, current.owners)
        ready = len(signers) >= current.threshold and loaded.nonce == current.nonce
        data["proposal"] = {"nonce": loaded.nonce, "signed_by": signers, "ready": ready}
        lines.append(f"proposal   nonce {loaded.nonce}, signed by {len(signers)} owner(s)"
                     + (" - ready to execute" if ready else ""))
    emit(data, as_json, "\n".join(lines))

"""`bourse wallet`: keys, keystores and signing. Thin: every command calls a library function.

Cold-signing, backup and vault commands live in `cli_cold`, treasury commands in `cli_treasury`, the policy
signer in `cli_signer`; this module mounts them.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

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
    working,
)
from .errors import WalletError
from .hd import ETHEREUM_PATH, account_path, derive_addresses, validate_mnemonic
from .keystore import check_private_key
from .signing import message_bytes, recover_message, recover_typed_data, sign_message, sign_typed_data

NEW_PASSWORD_ENV = "BOURSE_NEW_PASSWORD"


@click.group("wallet", cls=WalletGroup)
def wallet_group() -> None:
    """Keys, keystores (geth/MetaMask/cast compatible), signing, cold transactions, backups, multisig, treasury."""


@wallet_group.command("new")
@click.argument("alias")
@click.option("--mnemonic", "with_mnemonic", is_flag=True, help="Create a BIP-39 mnemonic and store its first key.")
@click.option("--words", type=click.Choice(["12", "24"]), default="12", show_default=True,
              help="Length of the new mnemonic.")
@click.option("--light", is_flag=True, help="scrypt n=4096 instead of 262144 (faster, weaker; for tests).")
@keystore_option
@password_file_option
@json_option
def new_command(alias: str, with_mnemonic: bool, words: str, light: bool, keystore_dir: Path | None,
                password_file: Path | None, as_json: bool) -> None:
    """Create a new random key (or mnemonic) and store it under ALIAS."""
    store = open_store(keystore_dir, light)
    password = read_password(alias, password_file, confirm=True)
    working(f"encrypting the new key with scrypt (n={store.kdf.n})")
    if with_mnemonic:
        account, mnemonic = store.new_mnemonic(alias, password, int(words))
        click.echo("Write these words down and keep them offline; they are shown only once:", err=True)
        click.echo(f"  {mnemonic}", err=True)
    else:
        account = store.new(alias, password)
    emit(account.as_json(), as_json, f"{account.alias}  {account.address}  {account.path}")


@wallet_group.command("import")
@click.argument("alias")
@click.option("--private-key", "from_key", is_flag=True, help="Read a raw private key (hidden prompt or stdin).")
@click.option("--mnemonic", "from_mnemonic", is_flag=True, help="Read a BIP-39 mnemonic (hidden prompt or stdin).")
@click.option("--index", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True,
              help="With --mnemonic: account index along m/44'/60'/0'/0/i.")
@click.option("--path", "derivation_path", default=None, help="With --mnemonic: a full derivation path instead.")
@click.option("--keystore-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Import an existing V3 keystore file (its password is asked; the new file uses it too).")
@click.option("--light", is_flag=True, help="scrypt n=4096 for the stored file.")
@keystore_option
@password_file_option
@json_option
def import_command(alias: str, from_key: bool, from_mnemonic: bool, index: int, derivation_path: str | None,
                   keystore_file: Path | None, light: bool, keystore_dir: Path | None, password_file: Path | None,
                   as_json: bool) -> None:
    """Import a private key, a mnemonic account or a keystore file under ALIAS. Secrets are never arguments."""
    if sum([from_key, from_mnemonic, keystore_file is not None]) != 1:
        raise WalletError("choose exactly one of --private-key, --mnemonic or --keystore-file")
    store = open_store(keystore_dir, light)
    if keystore_file is not None:
        password = read_password(str(keystore_file), password_file)
        working("decrypting the file and encrypting it again (scrypt)")
        account = store.import_keystore(alias, keystore_file, password)
    elif from_key:
        key = check_private_key(read_secret("Private key"))
        password = read_password(alias, password_file, confirm=True)
        working(f"encrypting the key with scrypt (n={store.kdf.n})")
        account = store.add_key(alias, key, password)
    else:
        mnemonic = validate_mnemonic(read_secret("Mnemonic"))
        path = derivation_path or account_path(index)
        password = read_password(alias, password_file, confirm=True)
        working(f"deriving {path} and encrypting it with scrypt (n={store.kdf.n})")
        account = store.import_mnemonic(alias, mnemonic, password, path)
    emit(account.as_json(), as_json, f"{account.alias}  {account.address}  {account.path}")


@wallet_group.command("list")
@keystore_option
@json_option
def list_command(keystore_dir: Path | None, as_json: bool) -> None:
    """List the accounts: alias, address, keystore file."""
    accounts = open_store(keystore_dir).accounts()
    if as_json:
        return emit([a.as_json() for a in accounts], True, "")
    if not accounts:
        click.echo("no accounts (create one with `bourse wallet new ALIAS`)")
    width = max((len(a.alias or "-") for a in accounts), default=5)
    for account in accounts:
        state = f"  DAMAGED: {account.damaged}" if account.damaged else ""
        click.echo(f"{(account.alias or '-'):<{width}}  {account.address or '?' * 42}  {account.path}{state}")


@wallet_group.command("address")
@click.argument("name")
@keystore_option
@json_option
def address_command(name: str, keystore_dir: Path | None, as_json: bool) -> None:
    """Print the address of an account (by alias, address or file name)."""
    account = open_store(keystore_dir).get(name)
    emit(account.as_json(), as_json, account.address)


@wallet_group.command("balance")
@click.argument("name")
@click.option("--token", "tokens", multiple=True, metavar="ADDRESS",
              help="Also an ERC-20's balance (repeatable); its symbol and decimals are read from the token.")
@rpc_option
@keystore_option
@json_option
def balance_command(name: str, tokens: tuple[str, ...], rpc_url: str, keystore_dir: Path | None,
                    as_json: bool) -> None:
    """Native coin (and token) balances of an account or any address."""
    from .rpc import Rpc
    from .treasury import balances
    from .units import format_amount
    address = _address_of(name, keystore_dir)
    rows = balances(Rpc(rpc_url), address, list(tokens))
    emit({"address": address, "balances": [{**r, "raw": str(r["raw"])} for r in rows]}, as_json,
         "\n".join(f"{format_amount(r['raw'], r['decimals'])} {r['symbol']}  ({r['raw']} base units"
                   + (f", token {r['token']})" if r["token"] else ")") for r in rows))


@wallet_group.command("export")
@click.argument("name")
@click.option("--show-private-key", is_flag=True, help="Required: print the private key in plain text.")
@keystore_option
@password_file_option
def export_command(name: str, show_private_key: bool, keystore_dir: Path | None, password_file: Path | None) -> None:
    """Print an account's private key (only with --show-private-key)."""
    if not show_private_key:
        raise WalletError("export prints a private key; pass --show-private-key if that is what you want")
    key = unlock(open_store(keystore_dir), name, password_file)
    click.echo("WARNING: anyone who sees this key controls the account's funds.", err=True)
    click.echo("0x" + key.hex())


@wallet_group.command("change-password")
@click.argument("name")
@keystore_option
@password_file_option
@click.option("--new-password-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"New password from this file (else ${NEW_PASSWORD_ENV}, else a hidden prompt).")
@json_option
def change_password_command(name: str, keystore_dir: Path | None, password_file: Path | None,
                            new_password_file: Path | None, as_json: bool) -> None:
    """Re-encrypt an account under a new password (atomically; the old file stays until the new one decrypts)."""
    store = open_store(keystore_dir)
    account = store.get(name)
    old = read_password(f"{account.name} (current)", password_file)
    new = read_password(f"{account.name} (new)", new_password_file, confirm=True, env=NEW_PASSWORD_ENV)
    working("re-encrypting with scrypt")
    store.change_password(account.name, old, new)
    emit({**account.as_json(), "changed": True}, as_json, f"password changed for {account.name}")


@wallet_group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@keystore_option
@json_option
def remove_command(name: str, yes: bool, keystore_dir: Path | None, as_json: bool) -> None:
    """Delete an account's keystore file (the key is lost unless it is backed up)."""
    store = open_store(keystore_dir)
    account = store.get(name)
    confirm_or_abort(f"Delete {account.name} ({account.address})? The key is gone unless backed up.", yes)
    store.remove(account.name)
    emit({**account.as_json(), "removed": True}, as_json, f"removed {account.name} ({account.address})")


@wallet_group.command("derive")
@click.option("--count", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many addresses to list.")
@click.option("--start", type=click.IntRange(0, 2**31 - 1), default=0, show_default=True,
              help="The first index.")
@click.option("--path", "base_path", default=ETHEREUM_PATH, show_default=True, help="Parent path of the indices.")
@json_option
def derive_command(count: int, start: int, base_path: str, as_json: bool) -> None:
    """List addresses of a mnemonic (read from a hidden prompt or stdin) along PATH/i."""
    rows = derive_addresses(read_secret("Mnemonic"), count, base_path, start=start)
    emit([{"path": p, "address": a} for p, a in rows], as_json, "\n".join(f"{p}  {a}" for p, a in rows))


@wallet_group.command("sign-message")
@click.argument("name")
@click.argument("message")
@keystore_option
@password_file_option
@json_option
def sign_message_command(name: str, message: str, keystore_dir: Path | None, password_file: Path | None,
                         as_json: bool) -> None:
    """EIP-191 (personal_sign) signature of MESSAGE (0x-prefixed hex is signed as bytes)."""
    store = open_store(keystore_dir)
    key = unlock(store, name, password_file)
    signature = sign_message(key, message_bytes(message))
    emit({"address": store.get(name).address, "message": message, "signature": signature}, as_json, signature)


@wallet_group.command("sign-typed-data")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@keystore_option
@password_file_option
@json_option
def sign_typed_data_command(name: str, file: Path, keystore_dir: Path | None, password_file: Path | None,
                            as_json: bool) -> None:
    """EIP-712 signature of the typed data in FILE (eth_signTypedData_v4 JSON)."""
    from .signing import typed_data_digest
    typed = _read_json(file)
    store = open_store(keystore_dir)
    key = unlock(store, name, password_file)
    signature = sign_typed_data(key, typed)
    emit({"address": store.get(name).address, "digest": "0x" + typed_data_digest(typed).hex(),
          "signature": signature}, as_json, signature)


@wallet_group.command("verify")
@click.option("--address", required=True, help="The address the signature should come from.")
@click.option("--signature", required=True, help="The 65-byte signature (0x-prefixed hex).")
@click.option("--message", default=None, help="The signed message (EIP-191).")
@click.option("--typed-data", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="The signed EIP-712 JSON file.")
@json_option
def verify_command(address: str, signature: str, message: str | None, typed_data: Path | None, as_json: bool) -> None:
    """Recover the signer of a message or typed data and say whether it is ADDRESS (exit 1 if not)."""
    if (message is None) == (typed_data is None):
        raise WalletError("give exactly one of --message or --typed-data")
    recovered = recover_message(message_bytes(message), signature) if message is not None else \
        recover_typed_data(_read_json(typed_data), signature)  # type: ignore[arg-type]
    matches = recovered.lower() == address.lower()
    emit({"recovered": recovered, "matches": matches}, as_json,
         f"recovered {recovered}: {'matches' if matches else 'does NOT match'} {address}")
    if not matches:
        raise click.exceptions.Exit(1)


@wallet_group.command("send")
@click.argument("name")
@click.option("--to", required=True, help="Recipient or contract address.")
@click.option("--value", default="0", show_default=True, help="Amount of native coin: 1.5, 1.5ether, 20gwei, 7wei.")
@click.option("--data", default=None, help="Raw calldata (0x...).")
@click.option("--sig", "signature", default=None, help="Function signature to call, e.g. 'transfer(address,uint256)'.")
@click.argument("args", nargs=-1)
@click.option("--gas", type=int, default=None, help="Gas limit (default: estimate + 20%).")
@click.option("--no-wait", is_flag=True, help="Return the hash without waiting for the receipt.")
@rpc_option
@keystore_option
@password_file_option
@json_option
def send_command(name: str, to: str, value: str, data: str | None, signature: str | None, args: tuple[str, ...],
                 gas: int | None, no_wait: bool, rpc_url: str, keystore_dir: Path | None, password_file: Path | None,
                 as_json: bool) -> None:
    """Build, sign and broadcast a transfer or contract call from account NAME; print the receipt."""
    from .cli_cold import call_data
    from .rpc import Rpc
    from .transactions import build_transaction, send_signed, sign_transaction
    from .units import parse_amount
    store = open_store(keystore_dir)
    account = store.get(name)
    payload = call_data(data, signature, args)
    rpc = Rpc(rpc_url)
    tx = build_transaction(rpc, account.address, to, parse_amount(value), payload, gas=gas)
    password = read_password(account.name, password_file)
    working(f"decrypting {account.name} (scrypt)")
    key = store.unlock(account.name, password)
    receipt = send_signed(rpc, sign_transaction(tx, key), wait=not no_wait)
    emit(receipt, as_json, _receipt_line(receipt))


def _address_of(name: str, keystore_dir: Path | None) -> str:
    """An address given as such, or the address of a keystore account."""
    from eth_utils import is_address, to_checksum_address
    return to_checksum_address(name) if is_address(name) else open_store(keystore_dir).get(name).address


def _receipt_line(receipt: dict[str, object]) -> str:
    if "blockNumber" not in receipt:
        return f"sent {receipt['transactionHash']}"
    return (f"transaction {receipt['transactionHash']} mined in block {int(str(receipt['blockNumber']), 16)}, "
            f"status {'success' if receipt.get('status') == '0x1' else 'reverted'}, "
            f"gas used {int(str(receipt['gasUsed']), 16)}")


def _read_json(path: Path) -> dict[str, object]:
    try:
        return json.loads(Path(path).read_bytes())
    except (ValueError, UnicodeDecodeError):
        raise WalletError(f"{path} is not JSON") from None


def _mount() -> None:
    from .cli_cold import backup_group, tx_group, vault_group
    from .cli_treasury import sweep_command
    for command in (tx_group, backup_group, vault_group, sweep_command):
        wallet_group.add_command(command)


_mount()

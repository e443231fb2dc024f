"""A keystore folder geth can use: `UTC--<time>--<address>` V3 files plus an alias index beside them.

Every file is written atomically with mode 0600 in a 0700 folder, and a new keystore file is decrypted back before
it replaces anything. Files without an alias (dropped in by geth or cast) are listed under their address; files
that are not readable keystores (cut short, edited) are listed as damaged, with the reason. A damaged alias index
is kept aside as `.aliases.json.damaged-<time>` and rebuilt from the keystore files (their aliases are then lost;
the accounts stay usable by address), with a warning.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_utils import is_address

from .errors import AccountExists, InvalidKey, InvalidKeystore, UnknownAccount, WalletError
from .files import ensure_private_dir, write_atomic
from .hd import key_from_mnemonic, new_mnemonic
from .keystore import KdfParams, address_of, check_private_key, decrypt, encrypt, keystore_address

INDEX_NAME = ".aliases.json"
LOCK_NAME = ".lock"
log = logging.getLogger("bourse.wallet")


def default_keystore_dir() -> Path:
    return Path(os.environ.get("BOURSE_KEYSTORE") or Path.home() / ".bourse" / "keystore")


@dataclass(frozen=True)
class StoredAccount:
    alias: str | None
    address: str
    path: Path
    derivation_path: str | None = None
    damaged: str | None = None  # why the file is not a readable keystore

    @property
    def name(self) -> str:
        return self.alias or self.address or self.path.name

    def as_json(self) -> dict[str, Any]:
        return {"alias": self.alias, "address": self.address, "path": str(self.path),
                "derivation_path": self.derivation_path, "damaged": self.damaged}


class KeyStore:
    """The accounts in one folder. Library calls take passwords as arguments; prompting is the CLI's job."""

    def __init__(self, directory: Path | str | None = None, kdf: KdfParams = KdfParams()) -> None:
        self.directory = Path(directory) if directory else default_keystore_dir()
        self.kdf = kdf

    # --- reading ---------------------------------------------------------------------------------------------

    def accounts(self) -> list[StoredAccount]:
        """Every account: aliased ones first (by alias), then unaliased files (by address)."""
        if self.directory.exists() and not self.directory.is_dir():
            raise WalletError(f"keystore {self.directory} is a file, not a folder")
        if not self.directory.is_dir():
            return []
        index = self._read_index()
        by_file = {entry["file"]: alias for alias, entry in index.items()}
        named, unnamed = [], []
        for path in sorted(self.directory.iterdir()):
            if path.name.startswith(".") or not path.is_file():
                continue
            alias = by_file.get(path.name)
            damaged = None
            try:
                document = json.loads(path.read_bytes())
                if not isinstance(document, dict) or not isinstance(document.get("crypto", document.get("Crypto")),
                                                                    dict):
                    raise InvalidKeystore("no crypto section")
                address = keystore_address(document)
            except (ValueError, InvalidKeystore, UnicodeDecodeError, OSError) as exc:
                if alias is None and not path.name.startswith("UTC--"):
                    continue  # some other file in the folder
                address, damaged = None, f"not a readable keystore ({type(exc).__name__}: {exc})"
            if alias is not None:
                entry = index[alias]
                named.append(StoredAccount(alias, address or entry["address"], path, entry.get("derivation_path"),
                                           damaged))
            elif address or damaged:
                unnamed.append(StoredAccount(None, address or "", path, None, damaged))
        return sorted(named, key=lambda a: a.alias or "") + unnamed

    def get(self, name: str) -> StoredAccount:
        """An account by alias, address or file name."""
        accounts = self.accounts()
        for account in accounts:
            if name in (account.alias, account.path.name):
                return account
        if is_address(name):
            for account in accounts:
                if account.address.lower() == name.lower():
                    return account
        raise UnknownAccount(name, [a.name for a in accounts])

    def unlock(self, name: str, password: str) -> bytes:
        account = self.get(name)
        if account.damaged:
            raise InvalidKeystore(f"{account.name}: {account.path} is {account.damaged}; restore it from a backup")
        return decrypt(self._load(account.path), password, account.name)

    # --- writing ---------------------------------------------------------------------------------------------

    def new(self, alias: str, password: str) -> StoredAccount:
        """A fresh random key."""
        from secrets import token_bytes
        while True:
            try:
                key = check_private_key(token_bytes(32))
                break
            except InvalidKey:  # one chance in 2^128: try again
                continue
        return self.add_key(alias, key, password)

    def new_mnemonic(self, alias: str, password: str, words: int = 12,
                     derivation_path: str = "m/44'/60'/0'/0/0") -> tuple[StoredAccount, str]:
        """A fresh BIP-39 mnemonic and the account at `derivation_path`; the caller shows the words once."""
        mnemonic = new_mnemonic(words)
        return self.add_key(alias, key_from_mnemonic(mnemonic, derivation_path), password, derivation_path), mnemonic

    def import_mnemonic(self, alias: str, mnemonic: str, password: str, derivation_path: str,
                        passphrase: str = "") -> StoredAccount:
        return self.add_key(alias, key_from_mnemonic(mnemonic, derivation_path, passphrase), password,
                            derivation_path)

    def import_keystore(self, alias: str, source: Path, password: str, new_password: str | None = None) -> StoredAccount:
        """Decrypt an existing keystore file (any variant we read) and store it re-encrypted by our rules."""
        key = decrypt(self._load(Path(source)), password, str(source))
        return self.add_key(alias, key, new_password if new_password is not None else password)

    def add_key(self, alias: str, private_key: bytes, password: str,
                derivation_path: str | None = None) -> StoredAccount:
        _check_alias(alias)
        if not password:
            raise WalletError("refusing to store a key under an empty password")
        private_key = check_private_key(private_key)
        address = address_of(private_key)
        with self._locked():
            index = self._read_index()
            if alias in index:
                raise AccountExists(f"alias {alias!r}")
            for account in self.accounts():
                if account.address == address:
                    raise AccountExists(f"address {address} (as {account.name!r})")
            path = self.directory / _geth_file_name(address)
            self._write_keystore(path, private_key, password)
            index[alias] = {"address": address, "file": path.name, "derivation_path": derivation_path}
            self._write_index(index)
        return StoredAccount(alias, address, path, derivation_path)

    def change_password(self, name: str, old_password: str, new_password: str) -> StoredAccount:
        if not new_password:
            raise WalletError("refusing to store a key under an empty password")
        with self._locked():
            account = self.get(name)
            key = decrypt(self._load(account.path), old_password, account.name)
            self._write_keystore(account.path, key, new_password)
        return account

    def remove(self, name: str) -> StoredAccount:
        """Delete the keystore file and its alias. The key is gone unless it is backed up elsewhere."""
        with self._locked():
            account = self.get(name)
            index = self._read_index()
            if account.alias is not None:
                index.pop(account.alias, None)
                self._write_index(index)
            account.path.unlink()
        return account

    # --- files -----------------------------------------------------------------------------------------------

    def _write_keystore(self, path: Path, private_key: bytes, password: str) -> None:
        document = encrypt(private_key, password, self.kdf)

        def decrypts_back(tmp: Path) -> None:
            if decrypt(json.loads(tmp.read_bytes()), password) != private_key:
                raise WalletError("keystore did not decrypt back to the key; nothing was replaced")

        write_atomic(path, json.dumps(document).encode(), check=decrypts_back)

    def _read_index(self) -> dict[str, dict[str, Any]]:
        path = self.directory / INDEX_NAME
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError):
            data = None
        if isinstance(data, dict) and all(
                isinstance(entry, dict) and isinstance(entry.get("file"), str) and isinstance(entry.get("address"), str)
                for entry in data.values()):
            return data
        return self._rebuild_index(path)

    def _rebuild_index(self, path: Path) -> dict[str, dict[str, Any]]:
        """Keep the damaged index aside and start a new, empty one: every keystore file is then listed under its
        address (the aliases were only in the index)."""
        with self._locked():
            if path.exists():
                aside = path.with_name(f"{INDEX_NAME}.damaged-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}")
                os.replace(path, aside)
                self._write_index({})
                log.warning("warning: the alias index %s was damaged; kept it as %s and rebuilt it from the keystore "
                            "files: accounts are listed by address until you give them aliases again", path, aside)
        return {}

    def _write_index(self, index: dict[str, dict[str, Any]]) -> None:
        write_atomic(self.directory / INDEX_NAME, json.dumps(index, indent=2, sort_keys=True).encode())

    def _load(self, path: Path) -> dict[str, Any]:
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            raise WalletError(f"keystore file {path} does not exist") from None
        except (ValueError, UnicodeDecodeError):
            raise InvalidKeystore(f"{path} is not a JSON keystore") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The folder's write lock; re-entrant (a write may find the index damaged and rebuild it)."""
        if getattr(self, "_lock_depth", 0):
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        ensure_private_dir(self.directory)
        with open(self.directory / LOCK_NAME, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(handle, fcntl.LOCK_UN)


def _geth_file_name(address: str) -> str:
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H-%M-%S") + f".{now.microsecond:06d}000Z"
    return f"UTC--{stamp}--{address[2:].lower()}"


def _check_alias(alias: str) -> None:
    if not alias or alias.startswith((".", "0x", "UTC--")) or any(c in alias for c in "/\\\0\n") or len(alias) > 64:
        raise WalletError(f"bad alias {alias!r}: 1-64 characters, no slashes, not starting with '.', '0x' or 'UTC--'")


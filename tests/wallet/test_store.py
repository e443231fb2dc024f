from __future__ import annotations

import json
import stat

import pytest

from wallet.errors import AccountExists, UnknownAccount, WalletError, WrongPassword
from wallet.keystore import KdfParams, encrypt
from wallet.store import INDEX_NAME, KeyStore

from .conftest import ADDR0, ADDR1, KEY0, KEY1, KEY2, PASSWORD


def _mode(path: object) -> int:
    return stat.S_IMODE(path.stat().st_mode)  # type: ignore[attr-defined]


def test_new_account_is_a_geth_named_0600_file_in_a_0700_folder(store: KeyStore) -> None:
    account = store.new("alice", PASSWORD)
    assert account.path.parent == store.directory
    assert account.path.name.startswith("UTC--") and account.path.name.endswith("--" + account.address[2:].lower())
    assert _mode(account.path) == 0o600 and _mode(store.directory) == 0o700
    assert _mode(store.directory / INDEX_NAME) == 0o600
    assert len(store.unlock("alice", PASSWORD)) == 32
    assert not list(store.directory.glob("*.tmp"))


def test_accounts_are_found_by_alias_address_or_file_name(store: KeyStore) -> None:
    account = store.add_key("alice", KEY0, PASSWORD)
    assert store.get("alice") == store.get(ADDR0.lower()) == store.get(account.path.name)
    assert [a.alias for a in store.accounts()] == ["alice"]


def test_unknown_account_suggests_the_near_alias(store: KeyStore) -> None:
    store.add_key("alice", KEY0, PASSWORD)
    with pytest.raises(UnknownAccount, match="did you mean 'alice'"):
        store.get("alise")


def test_duplicate_alias_or_address_is_refused_and_nothing_is_written(store: KeyStore) -> None:
    store.add_key("alice", KEY0, PASSWORD)
    files = sorted(store.directory.iterdir())
    with pytest.raises(AccountExists, match="alias 'alice'"):
        store.add_key("alice", KEY1, PASSWORD)
    with pytest.raises(AccountExists, match="address"):
        store.add_key("bob", KEY0, PASSWORD)
    assert sorted(store.directory.iterdir()) == files


def test_wrong_password_names_the_alias(store: KeyStore) -> None:
    store.add_key("alice", KEY0, PASSWORD)
    with pytest.raises(WrongPassword, match="^wrong password for alice$"):
        store.unlock("alice", "nope")


def test_change_password_re_encrypts_and_the_old_password_stops_working(store: KeyStore) -> None:
    account = store.add_key("alice", KEY0, PASSWORD)
    store.change_password("alice", PASSWORD, "new password")
    assert store.unlock("alice", "new password") == KEY0
    with pytest.raises(WrongPassword):
        store.unlock("alice", PASSWORD)
    assert _mode(account.path) == 0o600


def test_change_password_with_the_wrong_old_password_changes_nothing(store: KeyStore) -> None:
    account = store.add_key("alice", KEY0, PASSWORD)
    before = account.path.read_bytes()
    with pytest.raises(WrongPassword):
        store.change_password("alice", "nope", "new password")
    assert account.path.read_bytes() == before


def test_a_file_that_does_not_decrypt_back_never_replaces_the_old_one(store: KeyStore,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    account = store.add_key("alice", KEY0, PASSWORD)
    before = account.path.read_bytes()

    def broken_encrypt(key: bytes, password: str, kdf: KdfParams = KdfParams()) -> dict:
        document = encrypt(key, password, kdf)
        document["crypto"]["ciphertext"] = "00" * 32  # MAC no longer matches
        return document

    monkeypatch.setattr("wallet.store.encrypt", broken_encrypt)
    with pytest.raises(WalletError):
        store.change_password("alice", PASSWORD, "new password")
    assert account.path.read_bytes() == before
    assert sorted(p.name for p in store.directory.iterdir()) == sorted([".lock", INDEX_NAME, account.path.name])


def test_remove_deletes_the_file_and_the_alias(store: KeyStore) -> None:
    account = store.add_key("alice", KEY0, PASSWORD)
    store.remove("alice")
    assert not account.path.exists() and store.accounts() == []
    with pytest.raises(UnknownAccount):
        store.remove("alice")


def test_foreign_keystore_files_are_listed_by_address_and_usable(store: KeyStore) -> None:
    store.add_key("alice", KEY0, PASSWORD)
    foreign = store.directory / "UTC--2020-01-01T00-00-00.000000000Z--70997970c51812dc3a010c7d01b50e0d17dc79c8"
    foreign.write_text(json.dumps(encrypt(KEY1, "x", KdfParams.light())))
    (store.directory / "notes.txt").write_text("not a keystore")
    listed = store.accounts()
    assert [(a.alias, a.address) for a in listed] == [("alice", ADDR0), (None, ADDR1)]
    assert store.unlock(ADDR1, "x") == KEY1


def test_import_keystore_re_encrypts_under_our_rules(store: KeyStore, tmp_path: object) -> None:
    from pathlib import Path
    source = Path(str(tmp_path)) / "legacy.json"
    legacy = encrypt(KEY1, "old", KdfParams(n=1024, r=8, p=1))
    del legacy["address"]
    source.write_text(json.dumps(legacy))
    account = store.import_keystore("bob", source, "old")
    stored = json.loads(account.path.read_text())
    assert stored["address"] == ADDR1[2:].lower() and stored["crypto"]["kdfparams"]["n"] == 4096
    assert store.unlock("bob", "old") == KEY1
    with pytest.raises(WrongPassword):
        store.import_keystore("carol", source, "wrong")


def test_mnemonic_accounts_record_their_derivation_path(store: KeyStore) -> None:
    account, mnemonic = store.new_mnemonic("hd", PASSWORD, 24)
    assert len(mnemonic.split()) == 24 and account.derivation_path == "m/44'/60'/0'/0/0"
    imported = KeyStore(store.directory.parent / "other", KdfParams.light()).import_mnemonic(
        "again", mnemonic, PASSWORD, "m/44'/60'/0'/0/0")
    assert imported.address == account.address


def test_bad_aliases_and_empty_passwords_are_refused(store: KeyStore) -> None:
    for alias in ("", ".hidden", "a/b", "0xabc", "x" * 65):
        with pytest.raises(WalletError, match="bad alias"):
            store.add_key(alias, KEY0, PASSWORD)
    with pytest.raises(WalletError, match="empty password"):
        store.add_key("alice", KEY0, "")


def test_a_truncated_keystore_file_is_listed_as_damaged_and_named_in_errors(store: KeyStore) -> None:
    account = store.add_key("alice", KEY1, "pw")
    account.path.write_bytes(account.path.read_bytes()[:40])  # cut short
    [listed] = store.accounts()
    assert listed.alias == "alice" and listed.damaged and "not a readable keystore" in listed.damaged
    with pytest.raises(WalletError, match=f"alice: {account.path}.* restore it from a backup"):
        store.unlock("alice", "pw")


def test_a_corrupt_alias_index_is_kept_aside_and_rebuilt_from_the_files(store: KeyStore,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    account = store.add_key("alice", KEY1, "pw")
    (store.directory / ".aliases.json").write_text("{ broken")
    with caplog.at_level("WARNING", logger="bourse.wallet"):
        [listed] = store.accounts()
    assert listed.address == account.address and listed.alias is None and "damaged" in caplog.text
    assert list(store.directory.glob(".aliases.json.damaged-*"))
    assert store.unlock(account.address, "pw") == KEY1  # still usable, by address
    store.add_key("bob", KEY2, "pw")  # and writable again
    assert {a.alias for a in store.accounts()} == {None, "bob"}

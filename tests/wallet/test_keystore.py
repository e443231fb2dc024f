from __future__ import annotations

import copy
import json
import uuid

import pytest
from eth_account import Account

from wallet.errors import InvalidKey, InvalidKeystore, WrongPassword
from wallet.keystore import KdfParams, address_of, check_private_key, decrypt, encrypt, keystore_address

from .conftest import ADDR0, KEY0, vector

VECTOR_FILES = ["keystore_basic_tests.json", "keystore_pbkdf2_test.json", "geth_v3_test_vector.json"]


@pytest.mark.parametrize("file", VECTOR_FILES)
def test_public_keystore_vectors_decrypt_to_their_private_keys(file: str) -> None:
    for name, case in vector(file).items():
        key = decrypt(case["json"], case["password"], name)
        assert int.from_bytes(key, "big") == int(case["priv"], 16), name
        assert len(key) == 32


def test_geth_very_light_scrypt_file_decrypts_with_empty_password_to_its_address() -> None:
    document = vector("geth_very_light_scrypt.json")
    assert address_of(decrypt(document, "")) == keystore_address(document)


def test_vector_with_the_wrong_password_says_wrong_password_not_mac_mismatch() -> None:
    case = vector("keystore_basic_tests.json")["mycrypto"]
    with pytest.raises(WrongPassword, match="^wrong password for mycrypto$"):
        decrypt(case["json"], "not-the-password", "mycrypto")


def test_uppercase_crypto_section_is_read() -> None:
    case = vector("keystore_basic_tests.json")["mycrypto"]
    document = copy.deepcopy(case["json"])
    document["Crypto"] = document.pop("crypto")
    assert decrypt(document, case["password"]).hex() == case["priv"]


def test_written_keystore_has_the_standard_fields_and_parameters() -> None:
    document = encrypt(KEY0, "pw", KdfParams.light())
    crypto = document["crypto"]
    assert document["version"] == 3 and uuid.UUID(document["id"])
    assert document["address"] == ADDR0[2:].lower()
    assert crypto["kdf"] == "scrypt" and crypto["cipher"] == "aes-128-ctr"
    assert crypto["kdfparams"]["n"] == 4096 and crypto["kdfparams"]["r"] == 8 and crypto["kdfparams"]["p"] == 1
    assert len(bytes.fromhex(crypto["kdfparams"]["salt"])) == 32
    assert KdfParams() == KdfParams(n=262_144, r=8, p=1)


def test_written_keystore_is_read_back_by_eth_account() -> None:
    document = encrypt(KEY0, "pw", KdfParams.light())
    assert bytes(Account.decrypt(json.dumps(document), "pw")) == KEY0
    assert decrypt(document, "pw") == KEY0


def test_standard_scrypt_round_trip() -> None:
    document = encrypt(KEY0, "pw")
    assert document["crypto"]["kdfparams"]["n"] == 262_144
    assert decrypt(document, "pw") == KEY0


def test_unsupported_or_malformed_keystores_are_rejected_with_the_reason() -> None:
    good = encrypt(KEY0, "pw", KdfParams.light())
    cases = [
        ({**good, "version": 2}, "version"),
        ({"version": 3}, "crypto"),
        ({**good, "crypto": {**good["crypto"], "cipher": "aes-256-cbc"}}, "cipher"),
        ({**good, "crypto": {**good["crypto"], "kdf": "argon2"}}, "kdf"),
        ({**good, "crypto": {**good["crypto"], "kdfparams": {**good["crypto"]["kdfparams"], "n": 2**30}}}, "scrypt"),
        ({**good, "crypto": {**good["crypto"], "ciphertext": "zz"}}, "hex"),
    ]
    for document, reason in cases:
        with pytest.raises(InvalidKeystore, match=reason):
            decrypt(document, "pw")


def test_private_keys_outside_the_curve_order_are_rejected() -> None:
    assert check_private_key("0x" + KEY0.hex()) == KEY0
    for bad in ("00" * 32, "ff" * 32, "12", "zz" * 32):
        with pytest.raises(InvalidKey):
            check_private_key(bad)

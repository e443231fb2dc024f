from __future__ import annotations

import pytest

from wallet.errors import WalletError
from wallet.signing import (
    message_bytes,
    recover_message,
    recover_typed_data,
    sign_message,
    sign_typed_data,
    typed_data_digest,
)

from .conftest import ADDR0, ADDR1, KEY0, vector


def test_eip712_mail_example_gives_the_eips_digest_signature_and_signer() -> None:
    mail = vector("eip712_mail_example.json")
    key = bytes.fromhex(mail["private_key"][2:])
    expected = mail["expected"]
    assert "0x" + typed_data_digest(mail["typedData"]).hex() == expected["signHash_digest"]
    signature = sign_typed_data(key, mail["typedData"])
    assert signature == mail["eth_signTypedData_result"]
    assert signature[2:66] == expected["r"][2:] and signature[66:130] == expected["s"][2:]
    assert int(signature[130:], 16) == expected["v"]
    assert recover_typed_data(mail["typedData"], signature).lower() == expected["signer_address"]


def test_geth_typed_data_array_cases_all_hash_to_gethss_digests() -> None:
    cases = vector("geth_eip712_typed_data.json")
    assert len(cases) == 123
    for case in cases:
        typed = {"types": case["types"], "primaryType": case["primaryType"], "domain": case["domain"],
                 "message": case["data"]}
        assert "0x" + typed_data_digest(typed).hex() == case["digest"], case["name"]


def test_typed_data_that_is_not_eip712_is_rejected() -> None:
    with pytest.raises(WalletError, match="needs types"):
        sign_typed_data(KEY0, {"message": {}})
    mail = vector("eip712_mail_example.json")["typedData"]
    with pytest.raises(WalletError, match="invalid typed data"):
        typed_data_digest({**mail, "primaryType": "Nope"})


def test_personal_message_signature_recovers_to_the_signer_and_not_to_others() -> None:
    signature = sign_message(KEY0, b"hello")
    assert recover_message(b"hello", signature) == ADDR0
    assert recover_message(b"hellO", signature) != ADDR0
    assert ADDR1 != ADDR0


def test_personal_sign_matches_anvils_known_signature_for_hello() -> None:
    # `cast wallet sign --private-key <anvil key 0> hello`
    assert sign_message(KEY0, message_bytes("hello")) == (
        "0xf16ea9a3478698f695fd1401bfe27e9e4a7e8e3da94aa72b021125e31fa899cc"
        "573c48ea3fe1d4ab61a9db10c19032026e3ed2dbccba5a178235ac27f94504311c")


def test_hex_messages_are_signed_as_bytes_and_text_as_utf8() -> None:
    assert message_bytes("0x68656c6c6f") == b"hello"
    assert message_bytes("hello") == b"hello"
    assert message_bytes("0xzz") == b"0xzz"


def test_malformed_signatures_are_rejected_with_the_reason() -> None:
    with pytest.raises(WalletError, match="65 bytes"):
        recover_message(b"x", "0x1234")
    with pytest.raises(WalletError, match="not hex"):
        recover_message(b"x", "0xzz")

"""EIP-191 messages and EIP-712 typed data: sign with a key, recover the signer."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_defunct, encode_typed_data

from .errors import WalletError


def message_bytes(text: str) -> bytes:
    """What `sign-message` signs: a `0x`-prefixed hex string as raw bytes (as cast does), anything else as UTF-8."""
    if text.startswith("0x"):
        try:
            return bytes.fromhex(text[2:])
        except ValueError:
            pass
    return text.encode()


def sign_message(private_key: bytes, message: bytes) -> str:
    """The 65-byte EIP-191 (personal_sign) signature r || s || v, v in {27, 28}, as hex."""
    return "0x" + Account.sign_message(encode_defunct(primitive=message), private_key).signature.hex()


def sign_typed_data(private_key: bytes, typed_data: dict[str, Any]) -> str:
    return "0x" + Account.sign_message(_typed(typed_data), private_key).signature.hex()


def recover_message(message: bytes, signature: str) -> str:
    return _recover(encode_defunct(primitive=message), signature)


def recover_typed_data(typed_data: dict[str, Any], signature: str) -> str:
    return _recover(_typed(typed_data), signature)


def typed_data_digest(typed_data: dict[str, Any]) -> bytes:
    from eth_utils import keccak
    signable = _typed(typed_data)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def _typed(typed_data: dict[str, Any]) -> SignableMessage:
    if not isinstance(typed_data, dict) or not {"types", "primaryType", "domain", "message"} <= typed_data.keys():
        raise WalletError("typed data needs types, primaryType, domain and message (eth_signTypedData_v4 JSON)")
    try:
        return encode_typed_data(full_message=typed_data)
    except Exception as exc:  # eth-account raises a mix of ValueError, TypeError and its own errors
        raise WalletError(f"invalid typed data: {exc}") from None


def _recover(signable: SignableMessage, signature: str) -> str:
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        raise WalletError("signature is not hex") from None
    if len(raw) != 65:
        raise WalletError(f"a signature is 65 bytes, this one is {len(raw)}")
    try:
        return Account.recover_message(signable, signature=raw)
    except Exception as exc:  # bad v, s out of range
        raise WalletError(f"cannot recover a signer: {exc}") from None

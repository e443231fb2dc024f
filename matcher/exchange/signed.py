"""What users sign: the vault's EIP-712 Order (the same struct the contract checks), and the exchange's own
Cancel, CancelAll and Withdraw messages. Builders are shared by the server (to verify) and the client (to sign).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import is_address, to_checksum_address

from contracts.settlement import Order, keccak, order_hash

from .curve_worker import recover_address
from .errors import INVALID_SIGNATURE, MALFORMED, ApiError

SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
EXCHANGE_DOMAIN = "Bourse Exchange"
_DOMAIN_FIELDS = [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                  {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}]
MESSAGE_TYPES = {
    "Cancel": [{"name": "maker", "type": "address"}, {"name": "symbol", "type": "string"},
               {"name": "orderId", "type": "uint256"}, {"name": "clientOrderId", "type": "string"},
               {"name": "timestamp", "type": "uint256"}],
    "CancelAll": [{"name": "maker", "type": "address"}, {"name": "symbol", "type": "string"},
                  {"name": "timestamp", "type": "uint256"}],
    "Withdraw": [{"name": "user", "type": "address"}, {"name": "token", "type": "address"},
                 {"name": "amount", "type": "uint256"}, {"name": "nonce", "type": "uint256"}],
    "Read": [{"name": "account", "type": "address"}, {"name": "method", "type": "string"},
             {"name": "path", "type": "string"}, {"name": "timestamp", "type": "uint256"}],
    "ApiKeyGrant": [{"name": "maker", "type": "address"}, {"name": "agent", "type": "address"},
                    {"name": "permissions", "type": "string"}, {"name": "keyType", "type": "string"},
                    {"name": "publicKey", "type": "string"}, {"name": "ipAllowlist", "type": "string"},
                    {"name": "label", "type": "string"}, {"name": "timestamp", "type": "uint256"}],
}


@dataclass(frozen=True)
class Domain:
    chain_id: int
    vault: str


def exchange_message(kind: str, message: dict[str, Any], domain: Domain) -> dict[str, Any]:
    return {"types": {"EIP712Domain": _DOMAIN_FIELDS, kind: MESSAGE_TYPES[kind]}, "primaryType": kind,
            "domain": {"name": EXCHANGE_DOMAIN, "version": "1", "chainId": domain.chain_id,
                       "verifyingContract": domain.vault},
            "message": message}


def message_digest(typed: dict[str, Any]) -> bytes:
    signable = encode_typed_data(full_message=typed)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_digest(digest: bytes, private_key: bytes) -> str:
    signed = Account.unsafe_sign_hash(digest, private_key)
    return "0x" + signed.signature.hex()


def split_signature(signature: object) -> tuple[int, bytes, bytes]:
    """(v, r, s) of a 65-byte r||s||v hex signature; -1022 if it is malformed or has a high s."""
    if not isinstance(signature, str):
        raise ApiError(MALFORMED, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
    try:
        raw = bytes.fromhex(signature.removeprefix("0x"))
    except ValueError:
        raise ApiError(INVALID_SIGNATURE, "Signature for this request is not valid.") from None
    if len(raw) != 65:
        raise ApiError(INVALID_SIGNATURE, "Signature for this request is not valid.")
    r, s, v = raw[:32], raw[32:64], raw[64]
    v = v + 27 if v < 27 else v
    if v not in (27, 28) or not 0 < int.from_bytes(s, "big") <= SECP256K1_HALF_N:
        raise ApiError(INVALID_SIGNATURE, "Signature for this request is not valid.")
    return v, r, s


def check_recovered(recovered: bytes | None, expected: str) -> None:
    """-1022 unless `recovered` (the address a signature recovers to, None if none) is `expected`."""
    if recovered is None or recovered != bytes.fromhex(expected[2:]):
        raise ApiError(INVALID_SIGNATURE, "Signature for this request is not valid.")


def check_signer(digest: bytes, signature: object, expected: str) -> tuple[int, bytes, bytes]:
    parts = split_signature(signature)
    check_recovered(recover_address(digest, parts), expected)
    return parts


def signed_digest(order: Order, signature: object, domain: Domain,
                  signed_here: tuple[Order, bytes] | None = None) -> tuple[bytes, tuple[int, bytes, bytes]]:
    """The order's EIP-712 hash, as the vault computes it, and the signature's (v, r, s) (-1022 if malformed);
    who signed is still to be checked (`check_recovered`), unless `signed_here`: the order and hash the exchange
    itself just signed with an agent's key for an API-key order (the key store checked once that the key is the
    agent's): the order must be that one, and a signature the exchange made needs no recovery."""
    if signed_here is not None:
        made, digest = signed_here
        if order != made:
            raise ApiError(INVALID_SIGNATURE, "Signature for this request is not valid.")
        return digest, split_signature(signature)
    return order_hash(order, domain.chain_id, domain.vault), split_signature(signature)


_CHECKSUMMED: dict[str, str] = {}  # addresses seen, checksummed (a keccak each, on every order otherwise)


def address(value: object, field: str) -> str:
    if isinstance(value, str):
        known = _CHECKSUMMED.get(value)
        if known is not None:
            return known
    if not isinstance(value, str) or not is_address(value):
        raise ApiError(MALFORMED, f"Parameter '{field}' is not an address.")
    checksummed = to_checksum_address(value)
    if len(_CHECKSUMMED) >= 100_000:
        _CHECKSUMMED.clear()  # bounded: a flood of new addresses costs the cache, not memory
    _CHECKSUMMED[value] = checksummed
    return checksummed

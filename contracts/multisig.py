"""The multisig vault's EIP-712 transaction type: what owners sign offline."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

DOMAIN_NAME = "Bourse Multisig"
DOMAIN_VERSION = "1"


def typed_data(vault: str, chain_id: int, to: str, value: int, data: bytes, nonce: int,
               deadline: int) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "Transaction": [{"name": "to", "type": "address"}, {"name": "value", "type": "uint256"},
                            {"name": "data", "type": "bytes"}, {"name": "nonce", "type": "uint256"},
                            {"name": "deadline", "type": "uint256"}],
        },
        "primaryType": "Transaction",
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": vault},
        "message": {"to": to, "value": value, "data": data, "nonce": nonce, "deadline": deadline},
    }


def sign(private_key: bytes, vault: str, chain_id: int, to: str, value: int, data: bytes,
         nonce: int, deadline: int) -> tuple[str, tuple[int, bytes, bytes]]:
    """(signer address, (v, r, s)) for one owner."""
    message = typed_data(vault, chain_id, to, value, data, nonce, deadline)
    signed = Account.sign_message(encode_typed_data(full_message=message), private_key)
    return Account.from_key(private_key).address, (signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big"))


def sorted_signatures(signed: list[tuple[str, tuple[int, bytes, bytes]]]) -> list[tuple[int, bytes, bytes]]:
    """Signatures in the order the vault requires: ascending signer address."""
    return [sig for _, sig in sorted(signed, key=lambda item: int(item[0], 16))]

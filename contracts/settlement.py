"""The settlement vault's EIP-712 order type: build, hash and sign orders exactly as the contract checks them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

PRICE_SCALE = 10**18
DOMAIN_NAME = "Bourse Settlement"
DOMAIN_VERSION = "1"
ORDER_FIELDS = [
    {"name": "maker", "type": "address"},
    {"name": "baseToken", "type": "address"},
    {"name": "quoteToken", "type": "address"},
    {"name": "isBuy", "type": "bool"},
    {"name": "baseAmount", "type": "uint256"},
    {"name": "price", "type": "uint256"},
    {"name": "expiry", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "maxFeeBps", "type": "uint256"},
    {"name": "maxPlatformFeeRate", "type": "uint256"},
]
SKIP_REASONS = {1: "cancelled", 2: "expired", 3: "seller balance", 4: "buyer balance", 5: "agent no longer approved"}
AGENT_FIELDS = [{"name": "maker", "type": "address"}, {"name": "agent", "type": "address"},
                {"name": "expiry", "type": "uint256"}, {"name": "nonce", "type": "uint256"}]


@dataclass(frozen=True)
class Order:
    """An order as signed: integers in token base units; price is quote units per base unit x PRICE_SCALE."""

    maker: str
    baseToken: str  # noqa: N815 - the field names are the EIP-712 type's
    quoteToken: str  # noqa: N815
    isBuy: bool  # noqa: N815
    baseAmount: int  # noqa: N815
    price: int
    expiry: int
    nonce: int
    maxFeeBps: int  # noqa: N815
    maxPlatformFeeRate: int = 0  # noqa: N815 - platform-token units per unit received (x PRICE_SCALE); 0: never

    def as_tuple(self) -> tuple[Any, ...]:
        return tuple(asdict(self).values())


def typed_data(order: Order, chain_id: int, vault: str) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "Order": ORDER_FIELDS,
        },
        "primaryType": "Order",
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": vault},
        "message": asdict(order),
    }


def sign_order(order: Order, private_key: bytes, chain_id: int, vault: str) -> tuple[int, bytes, bytes]:
    """(v, r, s) of the maker's EIP-712 signature."""
    signed = Account.sign_message(encode_typed_data(full_message=typed_data(order, chain_id, vault)), private_key)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def order_hash(order: Order, chain_id: int, vault: str) -> bytes:

    signable = encode_typed_data(full_message=typed_data(order, chain_id, vault))
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def agent_approval(maker: str, agent: str, expiry: int, nonce: int, chain_id: int, vault: str) -> dict[str, Any]:
    """The EIP-712 AgentApproval a maker signs to let `agent` sign its orders until `expiry` (approveAgentBySig)."""
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "AgentApproval": AGENT_FIELDS,
        },
        "primaryType": "AgentApproval",
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": vault},
        "message": {"maker": maker, "agent": agent, "expiry": expiry, "nonce": nonce},
    }


def typed_digest(typed: dict[str, Any]) -> bytes:
    signable = encode_typed_data(full_message=typed)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def fill_tuple(maker: Order, taker: Order, maker_sig: tuple[int, bytes, bytes], taker_sig: tuple[int, bytes, bytes],
               base_amount: int, maker_fee: int = 0, taker_fee: int = 0, maker_fee_in_platform_token: bool = False,
               taker_fee_in_platform_token: bool = False) -> tuple[Any, ...]:
    """A `Fill` struct as web3 encodes it. A fee flagged as paid in the platform token is in its units."""
    return (maker.as_tuple(), taker.as_tuple(), *maker_sig, *taker_sig, base_amount, maker_fee, taker_fee,
            maker_fee_in_platform_token, taker_fee_in_platform_token)

"""The settlement vault's EIP-712 order type: build, hash and sign orders exactly as the contract checks them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

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


def _vault_typed(primary: str, fields: list[dict[str, str]], message: dict[str, Any], chain_id: int,
                 vault: str) -> dict[str, Any]:
    """An EIP-712 message in the settlement vault's domain."""
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            primary: fields,
        },
        "primaryType": primary,
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": vault},
        "message": message,
    }


def typed_data(order: Order, chain_id: int, vault: str) -> dict[str, Any]:
    return _vault_typed("Order", ORDER_FIELDS, asdict(order), chain_id, vault)


def sign_order(order: Order, private_key: bytes, chain_id: int, vault: str) -> tuple[int, bytes, bytes]:
    """(v, r, s) of the maker's EIP-712 signature (RFC 6979, low s: the same bytes eth_account produces)."""
    from coincurve import PrivateKey
    raw = PrivateKey(private_key).sign_recoverable(order_hash(order, chain_id, vault), hasher=None)
    return raw[64] + 27, raw[:32], raw[32:64]


_ORDER_TYPEHASH = keccak(("Order(" + ",".join(f"{f['type']} {f['name']}" for f in ORDER_FIELDS) + ")").encode())
_DOMAIN_TYPEHASH = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


@lru_cache(maxsize=64)
def domain_separator(chain_id: int, vault: str) -> bytes:
    return keccak(_DOMAIN_TYPEHASH + keccak(DOMAIN_NAME.encode()) + keccak(DOMAIN_VERSION.encode()) +
                  chain_id.to_bytes(32, "big") + _address_word(vault))


def order_hash(order: Order, chain_id: int, vault: str) -> bytes:
    """The EIP-712 digest the vault checks (hashStruct by hand: what encode_typed_data computes, without its
    generic type machinery; tests/contracts/test_order_hash.py holds the two equal)."""
    try:
        struct = keccak(_ORDER_TYPEHASH + _address_word(order.maker) + _address_word(order.baseToken) +
                        _address_word(order.quoteToken) + (b"\0" * 31 + (b"\1" if order.isBuy else b"\0")) +
                        order.baseAmount.to_bytes(32, "big") + order.price.to_bytes(32, "big") +
                        order.expiry.to_bytes(32, "big") + order.nonce.to_bytes(32, "big") +
                        order.maxFeeBps.to_bytes(32, "big") + order.maxPlatformFeeRate.to_bytes(32, "big"))
    except (OverflowError, AttributeError, TypeError) as exc:
        raise ValueError(f"not an order the vault can check: {exc}") from None
    return keccak(b"\x19\x01" + domain_separator(chain_id, vault) + struct)


def _address_word(address: str) -> bytes:
    raw = bytes.fromhex(address[2:]) if isinstance(address, str) and address.startswith("0x") else b""
    if len(raw) != 20:
        raise ValueError(f"not an address: {address!r}")
    return b"\0" * 12 + raw


def agent_approval(maker: str, agent: str, expiry: int, nonce: int, chain_id: int, vault: str) -> dict[str, Any]:
    """The EIP-712 AgentApproval a maker signs to let `agent` sign its orders until `expiry` (approveAgentBySig)."""
    return _vault_typed("AgentApproval", AGENT_FIELDS, {"maker": maker, "agent": agent, "expiry": expiry,
                                                        "nonce": nonce}, chain_id, vault)


def typed_digest(typed: dict[str, Any]) -> bytes:
    signable = encode_typed_data(full_message=typed)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def fill_tuple(maker: Order, taker: Order, maker_sig: tuple[int, bytes, bytes], taker_sig: tuple[int, bytes, bytes],
               base_amount: int, maker_fee: int = 0, taker_fee: int = 0, maker_fee_in_platform_token: bool = False,
               taker_fee_in_platform_token: bool = False) -> tuple[Any, ...]:
    """A `Fill` struct as web3 encodes it. A fee flagged as paid in the platform token is in its units."""
    return (maker.as_tuple(), taker.as_tuple(), *maker_sig, *taker_sig, base_amount, maker_fee, taker_fee,
            maker_fee_in_platform_token, taker_fee_in_platform_token)

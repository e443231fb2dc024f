"""The settlement vault's EIP-712 order type: build, hash and sign orders exactly as the contract checks them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

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
    raw = sign_recoverable(private_key, order_hash(order, chain_id, vault))
    return raw[64] + 27, raw[:32], raw[32:64]


def sign_recoverable(private_key: bytes, digest: bytes) -> bytes:
    """r || s || recovery id of `digest` signed with `private_key`: coincurve's
    `PrivateKey(private_key).sign_recoverable(digest, hasher=None)`, without the two public keys that constructor
    derives (two curve multiplications a signature does not use; the exchange signs every API-key order).
    ValueError for a key outside 1..n-1 or a digest that is not 32 bytes."""
    from coincurve._libsecp256k1 import ffi, lib
    from coincurve.context import GLOBAL_CONTEXT
    from coincurve.ecdsa import serialize_recoverable
    from coincurve.utils import DEFAULT_NONCE, validate_secret

    if len(digest) != 32:
        raise ValueError("a digest is 32 bytes")
    signature = ffi.new("secp256k1_ecdsa_recoverable_signature *")
    if not lib.secp256k1_ecdsa_sign_recoverable(GLOBAL_CONTEXT.ctx, signature, digest, validate_secret(private_key),
                                                *DEFAULT_NONCE):
        raise ValueError("the private key is not valid")
    return serialize_recoverable(signature, GLOBAL_CONTEXT)


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
    """A fill as the exchange knows it: both signed orders, the amount and the fees (a fee flagged as paid in the
    platform token is in its units). `settle_args` packs a batch of them for the vault."""
    return (maker.as_tuple(), taker.as_tuple(), *maker_sig, *taker_sig, base_amount, maker_fee, taker_fee,
            maker_fee_in_platform_token, taker_fee_in_platform_token)


MAX_FILLS = 128  # the vault's bound on one batch
SIGNED_ORDER_TUPLE = "(uint256,uint256,uint256,uint256,uint256,uint256,uint256,bytes32,bytes32)"
PACKED_FILL_TUPLE = "(uint256,uint256,uint256,uint256)"
SETTLE_SIGNATURE = f"settle(uint256,address[],{SIGNED_ORDER_TUPLE}[],{PACKED_FILL_TUPLE}[])"
_UINT256 = 2**256


def settle_args(batch_id: int, fills: list[tuple[Any, ...]]) -> tuple[int, list[str], list[tuple[Any, ...]],
                                                                      list[tuple[int, int, int, int]]]:
    """The vault's settle() arguments for `fills` (as `fill_tuple` makes them): each token and each signed order is
    listed once, and the fills name them by index. ValueError for what the vault could not be given."""
    tokens: dict[str, int] = {}
    orders: dict[tuple[Any, ...], int] = {}
    packed: list[tuple[int, int, int, int]] = []
    for fill in fills:
        if not isinstance(fill, (tuple, list)) or len(fill) != 13:
            raise ValueError("a fill has 13 fields")
        maker = _order_index(orders, tokens, fill[0], fill[2:5])
        taker = _order_index(orders, tokens, fill[1], fill[5:8])
        flags = [_bool(flag) for flag in fill[11:13]]
        packed.append((maker | taker << 16 | flags[0] << 32 | flags[1] << 33,
                       *(_uint(value) for value in fill[8:11])))
    return _uint(batch_id), [to_checksum_address(token) for token in tokens], list(orders), packed


def _order_index(orders: dict[tuple[Any, ...], int], tokens: dict[str, int], order: Any,
                 signature: tuple[Any, ...]) -> int:
    if not isinstance(order, (tuple, list)) or len(order) != 10:
        raise ValueError("an order has 10 fields")
    v, r, s = signature
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < 256:
        raise ValueError(f"not a uint8: {v!r}")
    head = (int.from_bytes(_address_word(order[0]), "big") | _bool(order[3]) << 160 | v << 168 |
            _token_index(tokens, order[1]) << 176 | _token_index(tokens, order[2]) << 184)
    entry = (head, *(_uint(value) for value in order[4:]), _bytes32(r), _bytes32(s))
    if entry not in orders:
        if len(orders) == 2**16:
            raise ValueError("more than 65,536 orders in one batch")
        orders[entry] = len(orders)
    return orders[entry]


def _token_index(tokens: dict[str, int], token: Any) -> int:
    key = "0x" + _address_word(token)[12:].hex()
    if key not in tokens:
        if len(tokens) == 256:
            raise ValueError("more than 256 tokens in one batch")
        tokens[key] = len(tokens)
    return tokens[key]


def _uint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _UINT256:
        raise ValueError(f"not a uint256: {value!r}")
    return value


def _bool(value: Any) -> int:
    if not isinstance(value, bool):
        raise ValueError(f"not a bool: {value!r}")
    return int(value)


def _bytes32(value: Any) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) > 32:
        raise ValueError(f"not bytes32: {value!r}")
    return bytes(value).ljust(32, b"\x00")

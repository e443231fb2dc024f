"""What an EIP-712 message lets someone do with the signer's assets, for the policy to bound.

Known primary types are read field by field: EIP-2612 `Permit` (the token is the domain's verifying contract; the
spender receives an allowance of `value` until `deadline`), the settlement vault's `Order` (what the maker sells:
the base amount, or for a buy the quote amount at the signed price, until `expiry`), and the exchange's `Cancel`,
`CancelAll` and `Withdraw` (to the signer's own address), which move nothing away from the signer. Any other
primary type, or a known name whose fields differ from the standard definition, is `known=False`: the policy signs
it only when `typed_data_types` names it. The domain's chain id and verifying contract are taken only when the
`EIP712Domain` type includes them (a field the type leaves out is not part of what is signed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import is_address, to_checksum_address

from .errors import WalletError

PRICE_SCALE = 10**18
DEADLINE_FIELDS = ("deadline", "expiry", "expiration", "validTo", "validUntil", "sigDeadline", "endTime")
UINT256_MAX = 2**256 - 1


class TypedDataUnreadable(WalletError):
    """A field the policy needs is missing or is not the type it should be."""


@dataclass(frozen=True)
class TypedEffect:
    primary_type: str
    known: bool
    contract: str | None
    chain_id: int | None
    assets: tuple[tuple[str, int], ...] = ()
    destinations: tuple[str, ...] = ()
    deadlines: tuple[int, ...] = ()


def typed_effects(typed_data: dict[str, Any], signer: str) -> TypedEffect:
    domain = typed_data.get("domain")
    message = typed_data.get("message")
    primary = typed_data.get("primaryType")
    types = typed_data.get("types")
    if not isinstance(domain, dict) or not isinstance(message, dict) or not isinstance(primary, str) \
            or not isinstance(types, dict):
        raise TypedDataUnreadable("typed data needs types, a domain, a message and a primaryType")
    domain_fields = _fields(types.get("EIP712Domain"))
    contract = _address(domain.get("verifyingContract"), "domain.verifyingContract") \
        if domain_fields.get("verifyingContract") == "address" else None
    chain_id = _uint(domain.get("chainId"), "domain.chainId") if domain_fields.get("chainId") == "uint256" else None
    message_fields = _fields(types.get(primary))
    deadlines = tuple(_uint(message.get(f), f"message.{f}") for f in DEADLINE_FIELDS
                      if message_fields.get(f, "").startswith("uint"))
    base = {"primary_type": primary, "contract": contract, "chain_id": chain_id, "deadlines": deadlines}
    reader = _READERS.get(primary)
    if reader is None or message_fields != STANDARD_TYPES[primary] or contract is None:
        return TypedEffect(known=False, **base)
    assets, destinations = reader(message, contract, signer)
    return TypedEffect(known=True, assets=tuple(assets), destinations=tuple(destinations), **base)


def _permit(message: dict[str, Any], token: str | None, signer: str) -> tuple[list[tuple[str, int]], list[str]]:
    assert token is not None  # typed_effects reads no Permit without a verifying contract
    _same(message, "owner", signer)
    return [(token, _uint(_field(message, "value"), "message.value"))], \
        [_address(_field(message, "spender"), "message.spender")]


def _order(message: dict[str, Any], _vault: str | None, signer: str) -> tuple[list[tuple[str, int]], list[str]]:
    _same(message, "maker", signer)
    base = _address(_field(message, "baseToken"), "message.baseToken")
    quote = _address(_field(message, "quoteToken"), "message.quoteToken")
    amount = _uint(_field(message, "baseAmount"), "message.baseAmount")
    if message.get("isBuy") is True:
        price = _uint(_field(message, "price"), "message.price")
        return [(quote, -(-amount * price // PRICE_SCALE))], []  # the most quote the order can spend, rounded up
    if message.get("isBuy") is not False:
        raise TypedDataUnreadable("message.isBuy must be true or false")
    return [(base, amount)], []


def _moves_nothing(message: dict[str, Any], _contract: str | None,
                   signer: str) -> tuple[list[tuple[str, int]], list[str]]:
    for name in ("maker", "user"):
        if name in message:
            _same(message, name, signer)
    return [], []


STANDARD_TYPES = {
    "Permit": {"owner": "address", "spender": "address", "value": "uint256", "nonce": "uint256",
               "deadline": "uint256"},
    "Order": {"maker": "address", "baseToken": "address", "quoteToken": "address", "isBuy": "bool",
              "baseAmount": "uint256", "price": "uint256", "expiry": "uint256", "nonce": "uint256",
              "maxFeeBps": "uint256", "maxPlatformFeeRate": "uint256"},
    "Cancel": {"maker": "address", "symbol": "string", "orderId": "uint256", "clientOrderId": "string",
               "timestamp": "uint256"},
    "CancelAll": {"maker": "address", "symbol": "string", "timestamp": "uint256"},
    "Withdraw": {"user": "address", "token": "address", "amount": "uint256", "nonce": "uint256"},
}
_READERS = {"Permit": _permit, "Order": _order, "Cancel": _moves_nothing, "CancelAll": _moves_nothing,
            "Withdraw": _moves_nothing}


def _fields(definition: Any) -> dict[str, str]:
    """{name: type} of a type's field list (empty when it is missing or malformed)."""
    if not isinstance(definition, list):
        return {}
    out = {}
    for item in definition:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(item.get("type"), str):
            return {}
        out[item["name"]] = item["type"]
    return out


def _field(message: dict[str, Any], name: str) -> Any:
    if name not in message:
        raise TypedDataUnreadable(f"message.{name} is missing")
    return message[name]


def _same(message: dict[str, Any], name: str, signer: str) -> None:
    if _address(_field(message, name), f"message.{name}") != signer:
        raise TypedDataUnreadable(f"message.{name} is not the signing account {signer}")


def _address(value: Any, name: str) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise TypedDataUnreadable(f"{name} is not an address: {value!r}")
    return to_checksum_address(value)


def _uint(value: Any, name: str) -> int:
    try:
        number = int(value, 0) if isinstance(value, str) else value
    except ValueError:
        raise TypedDataUnreadable(f"{name} is not an integer: {value!r}") from None
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= UINT256_MAX:
        raise TypedDataUnreadable(f"{name} is not a uint256: {value!r}")
    return number

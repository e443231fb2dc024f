"""Decoding JSON-RPC parameters into ints, bytes and addresses at the edge.

Every decoder raises InvalidParams naming the parameter, so handlers never
parse hex strings and clients get `-32602 invalid <name>: <why>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidParams


def _fail(name: str, why: str) -> InvalidParams:
    return InvalidParams(f"invalid {name}: {why}")


def _shown(value: Any) -> str:
    """A client's value for an error message, cut short: a megabyte of hex is not repeated back."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def quantity(value: Any, name: str, bits: int = 256) -> int:
    """A non-negative integer below 2**bits (EVM words by default; block numbers and timestamps take 64)."""
    if isinstance(value, bool):
        raise _fail(name, "expected a hex quantity, got a boolean")
    if isinstance(value, int):
        if value < 0:
            raise _fail(name, "must not be negative")
        number = value
    elif not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise _fail(name, f"expected a 0x-prefixed hex quantity, got {_shown(value)}")
    else:
        if len(value[2:].lstrip("0")) > (bits + 3) // 4:  # checked before int(): no huge numbers built
            raise _fail(name, f"must be below 2**{bits}")
        try:
            number = int(value, 16)
        except ValueError:
            raise _fail(name, f"not hex: {_shown(value)}") from None
    if number >> bits:
        raise _fail(name, f"must be below 2**{bits}")
    return number


def data(value: Any, name: str) -> bytes:
    if not isinstance(value, str) or not value.startswith(("0x", "0X")):
        raise _fail(name, f"expected 0x-prefixed hex data, got {_shown(value)}")
    body = value[2:]
    if len(body) % 2:
        raise _fail(name, "hex data must have an even number of digits")
    try:
        return bytes.fromhex(body)
    except ValueError:
        raise _fail(name, f"not hex: {_shown(value)}") from None


def address(value: Any, name: str) -> bytes:
    raw = data(value, name)
    if len(raw) != 20:
        raise _fail(name, f"an address is 20 bytes, got {len(raw)}")
    return raw


def hash32(value: Any, name: str) -> bytes:
    raw = data(value, name)
    if len(raw) != 32:
        raise _fail(name, f"a hash is 32 bytes, got {len(raw)}")
    return raw


def boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(name, f"expected true or false, got {_shown(value)}")
    return value


BLOCK_TAGS = ("latest", "earliest", "pending", "safe", "finalized")


@dataclass(frozen=True)
class BlockRef:
    """A block by tag, number or hash (EIP-1898 objects included)."""

    tag: str | int | None = None
    hash: bytes | None = None


def block_ref(value: Any, name: str = "block") -> BlockRef:
    if value is None:
        return BlockRef("latest")
    if isinstance(value, str) and value in BLOCK_TAGS:
        return BlockRef(value)
    if isinstance(value, dict):
        if "blockHash" in value:
            return BlockRef(hash=hash32(value["blockHash"], f"{name}.blockHash"))
        if "blockNumber" in value:
            return block_ref(value["blockNumber"], name)
        raise _fail(name, "expected blockHash or blockNumber")
    if isinstance(value, str) and len(value) == 66:
        return BlockRef(hash=hash32(value, name))
    return BlockRef(quantity(value, name, bits=64))


@dataclass
class CallRequest:
    """A transaction-like object for eth_call, eth_estimateGas and eth_sendTransaction."""

    sender: bytes | None = None
    to: bytes | None = None
    gas: int | None = None
    gas_price: int | None = None
    max_fee: int | None = None
    tip: int | None = None
    value: int = 0
    data: bytes = b""
    nonce: int | None = None
    type_id: int | None = None
    chain_id: int | None = None
    access_list: list[tuple[bytes, list[int]]] = field(default_factory=list)
    authorizations: list[Any] = field(default_factory=list)
    has_access_list: bool = False

    @property
    def fee_given(self) -> bool:
        return self.gas_price is not None or self.max_fee is not None or self.tip is not None


def call_request(value: Any, name: str = "transaction") -> CallRequest:
    if not isinstance(value, dict):
        raise _fail(name, "expected a transaction object")
    req = CallRequest()
    if value.get("from") is not None:
        req.sender = address(value["from"], f"{name}.from")
    if value.get("to") is not None:
        req.to = address(value["to"], f"{name}.to")
    for key, attr in (("gas", "gas"), ("gasPrice", "gas_price"), ("maxFeePerGas", "max_fee"),
                      ("maxPriorityFeePerGas", "tip"), ("nonce", "nonce"), ("chainId", "chain_id"),
                      ("type", "type_id")):
        if value.get(key) is not None:
            setattr(req, attr, quantity(value[key], f"{name}.{key}"))
    if value.get("value") is not None:
        req.value = quantity(value["value"], f"{name}.value")
    if value.get("input") is not None and value.get("data") is not None and value["input"] != value["data"]:
        raise _fail(name, "both input and data given with different values")
    payload = value.get("input", value.get("data"))
    if payload is not None:
        req.data = data(payload, f"{name}.input")
    if value.get("accessList") is not None:
        req.has_access_list = True
        items = value["accessList"]
        if not isinstance(items, list):
            raise _fail(f"{name}.accessList", "expected a list")
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise _fail(f"{name}.accessList[{i}]", "expected an object")
            slots = [quantity_or_hash(s, f"{name}.accessList[{i}].storageKeys") for s in item.get("storageKeys", [])]
            req.access_list.append((address(item.get("address"), f"{name}.accessList[{i}].address"), slots))
    if value.get("authorizationList") is not None:
        auths = value["authorizationList"]
        if not isinstance(auths, list):
            raise _fail(f"{name}.authorizationList", "expected a list")
        req.authorizations = [authorization(a, f"{name}.authorizationList[{i}]") for i, a in enumerate(auths)]
    if req.gas_price is not None and (req.max_fee is not None or req.tip is not None):
        raise _fail(name, "gasPrice and maxFeePerGas/maxPriorityFeePerGas are mutually exclusive")
    return req


def authorization(value: Any, name: str) -> dict[str, Any]:
    """An EIP-7702 signed authorization (chainId, address, nonce, yParity, r, s)."""
    if not isinstance(value, dict):
        raise _fail(name, "expected an object")
    parity = value.get("yParity", value.get("v"))
    if parity is None:
        raise _fail(name, "yParity is required")
    return {
        "chain_id": quantity(value.get("chainId"), f"{name}.chainId"),
        "address": address(value.get("address"), f"{name}.address"),
        "nonce": quantity(value.get("nonce"), f"{name}.nonce"),
        "y_parity": quantity(parity, f"{name}.yParity"),
        "r": quantity_or_hash(value.get("r"), f"{name}.r"),
        "s": quantity_or_hash(value.get("s"), f"{name}.s"),
    }


def quantity_or_hash(value: Any, name: str) -> int:
    return int.from_bytes(hash32(value, name), "big") if isinstance(value, str) and len(value) == 66 else quantity(
        value, name)


def positional(params: Any, count_min: int, count_max: int, method: str) -> list[Any]:
    """Check the positional parameter count and pad missing optionals with None."""
    if params is None:
        params = []
    if not isinstance(params, list):
        raise InvalidParams(f"{method} takes positional parameters (a JSON array)")
    if len(params) < count_min:
        raise InvalidParams(f"{method} needs at least {count_min} parameter(s), got {len(params)}")
    if len(params) > count_max:
        raise InvalidParams(f"{method} takes at most {count_max} parameter(s), got {len(params)}")
    return params + [None] * (count_max - len(params))

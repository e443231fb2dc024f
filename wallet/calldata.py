"""Encode contract calls from a signature and text arguments (as cast does); decode the ERC-20 calls we show."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, is_address, to_checksum_address

from .errors import WalletError

ERC20_TRANSFER = bytes.fromhex("a9059cbb")
ERC20_APPROVE = bytes.fromhex("095ea7b3")
ERC20_TRANSFER_FROM = bytes.fromhex("23b872dd")
ERC20_BALANCE_OF = bytes.fromhex("70a08231")
ERC20_DECIMALS = bytes.fromhex("313ce567")
ERC20_SYMBOL = bytes.fromhex("95d89b41")
_SIGNATURE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(([^()]*)\)\s*$")


@dataclass(frozen=True)
class TokenCall:
    """A decoded ERC-20 transfer, approve or transferFrom."""

    method: str
    recipient: str  # the `to` of a transfer, the spender of an approve
    amount: int
    owner: str | None = None  # transferFrom's `from`


def encode_call(signature: str, args: list[str]) -> bytes:
    """`encode_call("transfer(address,uint256)", ["0xab..", "100"])` -> selector + ABI-encoded arguments."""
    match = _SIGNATURE.match(signature)
    if not match:
        raise WalletError(f"not a function signature: {signature!r} (like 'transfer(address,uint256)')")
    types = [t.strip() for t in match.group(2).split(",") if t.strip()]
    if len(types) != len(args):
        raise WalletError(f"{signature} takes {len(types)} argument(s), {len(args)} given")
    canonical = f"{match.group(1)}({','.join(types)})"
    values = [_convert(t, a) for t, a in zip(types, args, strict=True)]
    try:
        return function_signature_to_4byte_selector(canonical) + encode(types, values)
    except Exception as exc:  # eth-abi raises its own EncodingError family
        raise WalletError(f"cannot encode {canonical} with {args}: {exc}") from None


def decode_token_call(data: bytes) -> TokenCall | None:
    """The ERC-20 call in `data` as a token reads it — the arguments strictly ABI-decoded, any bytes after them
    ignored (see `trailing_bytes`) — or None if it is not transfer/approve/transferFrom with clean arguments."""
    selector, body = data[:4], data[4:]
    try:
        if selector == ERC20_TRANSFER:
            to, amount = decode(["address", "uint256"], body[:64], strict=True)
            return TokenCall("transfer", to_checksum_address(to), amount)
        if selector == ERC20_APPROVE:
            spender, amount = decode(["address", "uint256"], body[:64], strict=True)
            return TokenCall("approve", to_checksum_address(spender), amount)
        if selector == ERC20_TRANSFER_FROM:
            owner, to, amount = decode(["address", "address", "uint256"], body[:96], strict=True)
            return TokenCall("transferFrom", to_checksum_address(to), amount, to_checksum_address(owner))
    except Exception:  # short or not canonical ABI (dirty high bits): show it as raw data
        return None
    return None


def trailing_bytes(data: bytes) -> int:
    """Bytes after a decoded token call's arguments (the token ignores them; a summary should say so)."""
    call = decode_token_call(data)
    if call is None:
        return 0
    return max(0, len(data) - 4 - (96 if call.method == "transferFrom" else 64))


def _convert(abi_type: str, text: str) -> Any:
    if abi_type.endswith("]"):
        raise WalletError(f"array arguments ({abi_type}) are not supported here; pass --data with encoded calldata")
    if abi_type == "address":
        if not is_address(text):
            raise WalletError(f"not an address: {text!r}")
        return to_checksum_address(text)
    if abi_type.startswith(("uint", "int")):
        try:
            return int(text, 0)
        except ValueError:
            raise WalletError(f"not an integer for {abi_type}: {text!r}") from None
    if abi_type == "bool":
        if text.lower() not in ("true", "false"):
            raise WalletError(f"not a bool: {text!r} (true or false)")
        return text.lower() == "true"
    if abi_type.startswith("bytes"):
        try:
            return bytes.fromhex(text.removeprefix("0x"))
        except ValueError:
            raise WalletError(f"not hex for {abi_type}: {text!r}") from None
    if abi_type == "string":
        return text
    raise WalletError(f"unsupported argument type {abi_type!r}")

"""What a contract call moves, decoded the way the contract will read it — or a refusal to guess.

The policy signer calls `call_effects(to, data)` on every transaction with calldata. A method it knows is decoded
strictly (eth-abi's strict mode: the whole head present, clean padding, addresses with zero high bytes; trailing
bytes are allowed because Solidity and Vyper contracts ignore them), and the result lists every asset the signing
account may lose and every address that receives value or an allowance. A method it does not know, or calldata it
cannot decode in full, is `Undecodable`: the policy then refuses unless its `allowed_methods` names the selector.

Known methods: ERC-20 `transfer`, `approve`, `transferFrom`, `increaseAllowance`, `decreaseAllowance`, EIP-2612
`permit`; the PancakeSwap/Uniswap v2 router's swaps (with the fee-on-transfer variants) and `addLiquidity`/
`addLiquidityETH`; `multicall(bytes[])` and `multicall(uint256,bytes[])`, each inner call decoded against the same
contract (no nesting). Router liquidity removal is not decoded: its input is a pair's LP token, whose address the
calldata does not carry, so the policy cannot count it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from .errors import WalletError

NATIVE = "native"
MAX_MULTICALL = 64


class Undecodable(WalletError):
    """Calldata whose effect cannot be fully known; the message says why."""


@dataclass(frozen=True)
class CallEffect:
    """What one call can take from the signer: `(asset, amount)` pairs (an ERC-20 address or NATIVE) and the
    addresses that receive value or allowance. `methods` names the decoded method(s), outermost first."""

    methods: tuple[str, ...]
    selectors: tuple[bytes, ...]
    assets: tuple[tuple[str, int], ...] = ()
    destinations: tuple[str, ...] = ()


Decoder = Callable[[str, tuple[Any, ...]], tuple[list[tuple[str, int]], list[str]]]


def _token_transfer(token: str, args: tuple[Any, ...]) -> tuple[list[tuple[str, int]], list[str]]:
    recipient, amount = args
    return [(token, amount)], [recipient]


def _transfer_from(token: str, args: tuple[Any, ...]) -> tuple[list[tuple[str, int]], list[str]]:
    _owner, recipient, amount = args
    return [(token, amount)], [recipient]


def _decrease_allowance(token: str, args: tuple[Any, ...]) -> tuple[list[tuple[str, int]], list[str]]:
    spender, _amount = args
    return [], [spender]


def _permit(token: str, args: tuple[Any, ...]) -> tuple[list[tuple[str, int]], list[str]]:
    _owner, spender, value, _deadline, _v, _r, _s = args
    return [(token, value)], [spender]


def _swap_exact_in(_router: str, args: tuple[Any, ...]) -> tuple[list[tuple[str, int]], list[str]]:
    amount_in, _min_out, path, to, _deadline = args
    return [(_path_start(path), amount_in)], [to]


def _swap_exact_out(_router: str, args: tuple[Any, ...]) -> tuple[list[tuple[str, int]], list[str]]:
    _amount_out, amount_in_max, path, to, _deadline = args
    return [(_path_start(path), amount_in_max)], [to]


def _swap_from_native(_router: str, args: tuple[Any, ...]) -> tuple[list[tuple[str, int]], list[str]]:
    _amount, path, to, _deadline = args  # the native coin paid is the transaction's value
    _path_start(path)
    return [], [to]


def _add_liquidity(_router: str, args: tuple[Any, ...]) -> tuple[list[tuple[str, int]], list[str]]:
    token_a, token_b, desired_a, desired_b, _min_a, _min_b, to, _deadline = args
    return [(token_a, desired_a), (token_b, desired_b)], [to]


def _add_liquidity_native(_router: str, args: tuple[Any, ...]) -> tuple[list[tuple[str, int]], list[str]]:
    token, desired, _min_token, _min_native, to, _deadline = args
    return [(token, desired)], [to]


def _path_start(path: tuple[str, ...]) -> str:
    if len(path) < 2:
        raise Undecodable("a swap path needs at least two tokens")
    return path[0]


_SWAP_IN = ["uint256", "uint256", "address[]", "address", "uint256"]
_FROM_NATIVE = ["uint256", "address[]", "address", "uint256"]
METHODS: dict[str, tuple[list[str], Decoder]] = {
    "transfer": (["address", "uint256"], _token_transfer),
    "approve": (["address", "uint256"], _token_transfer),
    "increaseAllowance": (["address", "uint256"], _token_transfer),
    "decreaseAllowance": (["address", "uint256"], _decrease_allowance),
    "transferFrom": (["address", "address", "uint256"], _transfer_from),
    "permit": (["address", "address", "uint256", "uint256", "uint8", "bytes32", "bytes32"], _permit),
    "swapExactTokensForTokens": (_SWAP_IN, _swap_exact_in),
    "swapExactTokensForETH": (_SWAP_IN, _swap_exact_in),
    "swapExactTokensForTokensSupportingFeeOnTransferTokens": (_SWAP_IN, _swap_exact_in),
    "swapExactTokensForETHSupportingFeeOnTransferTokens": (_SWAP_IN, _swap_exact_in),
    "swapTokensForExactTokens": (_SWAP_IN, _swap_exact_out),
    "swapTokensForExactETH": (_SWAP_IN, _swap_exact_out),
    "swapExactETHForTokens": (_FROM_NATIVE, _swap_from_native),
    "swapETHForExactTokens": (_FROM_NATIVE, _swap_from_native),
    "swapExactETHForTokensSupportingFeeOnTransferTokens": (_FROM_NATIVE, _swap_from_native),
    "addLiquidity": (["address", "address", "uint256", "uint256", "uint256", "uint256", "address", "uint256"],
                     _add_liquidity),
    "addLiquidityETH": (["address", "uint256", "uint256", "uint256", "address", "uint256"], _add_liquidity_native),
}
_BY_SELECTOR = {function_signature_to_4byte_selector(f"{name}({','.join(types)})"): (name, types, decoder)
                for name, (types, decoder) in METHODS.items()}
MULTICALL = function_signature_to_4byte_selector("multicall(bytes[])")
MULTICALL_DEADLINE = function_signature_to_4byte_selector("multicall(uint256,bytes[])")


def known_selector(selector: bytes) -> bool:
    return selector in _BY_SELECTOR or selector in (MULTICALL, MULTICALL_DEADLINE)


def call_effects(to: str, data: bytes, explicitly_allowed: frozenset[bytes] = frozenset()) -> CallEffect:
    """The effect of calling `to` with `data` (non-empty). Undecodable if any part of it cannot be decoded,
    unless that part's selector is in `explicitly_allowed` (whose amounts then cannot be counted)."""
    return _effects(to_checksum_address(to), data, explicitly_allowed, nested=False)


def _effects(to: str, data: bytes, allowed: frozenset[bytes], nested: bool) -> CallEffect:
    if len(data) < 4:
        raise Undecodable(f"calldata of {len(data)} byte(s) calls no method (the contract's fallback would run)")
    selector, body = data[:4], data[4:]
    if selector in (MULTICALL, MULTICALL_DEADLINE):
        if nested:
            raise Undecodable("a multicall inside a multicall")
        inner = _abi(["uint256", "bytes[]"] if selector == MULTICALL_DEADLINE else ["bytes[]"], body, "multicall")[-1]
        if len(inner) > MAX_MULTICALL:
            raise Undecodable(f"a multicall of {len(inner)} calls (at most {MAX_MULTICALL} are decoded)")
        effects = [_effects(to, bytes(call), allowed, nested=True) for call in inner]
        return CallEffect(("multicall", *(m for e in effects for m in e.methods)),
                          (selector, *(s for e in effects for s in e.selectors)),
                          tuple(a for e in effects for a in e.assets),
                          tuple(d for e in effects for d in e.destinations))
    known = _BY_SELECTOR.get(selector)
    if known is None:
        if selector in allowed:
            return CallEffect((f"0x{selector.hex()}",), (selector,))
        raise Undecodable(f"method 0x{selector.hex()} is not one the policy can decode")
    name, types, decoder = known
    assets, destinations = decoder(to, _abi(types, body, name))
    return CallEffect((name,), (selector,),
                      tuple((to_checksum_address(a), int(n)) for a, n in assets),
                      tuple(to_checksum_address(d) for d in destinations))


def _abi(types: list[str], body: bytes, name: str) -> tuple[Any, ...]:
    try:
        return decode(types, body, strict=True)
    except Exception as exc:  # eth-abi's DecodingError family: short data, dirty padding, bad offsets
        raise Undecodable(f"{name} arguments do not decode as ({','.join(types)}): {exc}") from None

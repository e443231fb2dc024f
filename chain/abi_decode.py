"""Calls, events and errors decoded with a contract's ABI, as JSON for the explorer.

Values come out JSON-safe and exact: integers as decimal strings, bytes as 0x-hex, addresses checksummed, tuples
and arrays as lists. What cannot be decoded (no matching entry, malformed data) comes out as None, never raises.
"""

from __future__ import annotations

from typing import Any

from eth_abi import decode
from eth_utils import to_checksum_address

from .hashing import keccak

ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)


def type_of(param: dict[str, Any]) -> str:
    """The canonical type of an ABI parameter (tuples spelled out, as in a signature)."""
    kind = str(param.get("type", ""))
    if kind.startswith("tuple"):
        inner = ",".join(type_of(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple'):]}"
    return kind


def signature(entry: dict[str, Any]) -> str:
    return f"{entry.get('name', '')}({','.join(type_of(i) for i in entry.get('inputs', []))})"


def json_value(value: Any, kind: str) -> Any:
    if isinstance(value, (list, tuple)):
        inner = kind[:kind.rfind("[")] if kind.endswith("]") else None
        if inner is not None:
            return [json_value(v, inner) for v in value]
        parts = _split_tuple(kind)
        return [json_value(v, t) for v, t in zip(value, parts)]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if kind == "address" and isinstance(value, str):
        return to_checksum_address(value)
    return value


def _split_tuple(kind: str) -> list[str]:
    """`(uint256,(address,bool))` -> ['uint256', '(address,bool)']."""
    body, parts, depth, start = kind[1:-1], [], 0, 0
    for i, char in enumerate(body):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    if body:
        parts.append(body[start:])
    return parts


def _named(entry_params: list[dict[str, Any]], kinds: list[str], values: Any) -> list[dict[str, Any]]:
    return [{"name": param.get("name", ""), "type": kind, "value": json_value(value, kind)}
            for param, kind, value in zip(entry_params, kinds, values)]


class Decoder:
    """One ABI's functions, events and errors by selector."""

    def __init__(self, abi: list[dict[str, Any]]) -> None:
        self.functions: dict[bytes, dict[str, Any]] = {}
        self.events: dict[bytes, dict[str, Any]] = {}
        self.errors: dict[bytes, dict[str, Any]] = {}
        for entry in abi:
            kind = entry.get("type")
            if kind == "function":
                self.functions[keccak(signature(entry).encode())[:4]] = entry
            elif kind == "event" and not entry.get("anonymous"):
                self.events[keccak(signature(entry).encode())] = entry
            elif kind == "error":
                self.errors[keccak(signature(entry).encode())[:4]] = entry

    def call(self, data: bytes) -> dict[str, Any] | None:
        return _by_selector(self.functions, data)

    def event(self, topics: list[bytes], data: bytes) -> dict[str, Any] | None:
        entry = self.events.get(topics[0]) if topics else None
        if entry is None:
            return None
        inputs = entry.get("inputs", [])
        indexed = [i for i in inputs if i.get("indexed")]
        plain = [i for i in inputs if not i.get("indexed")]
        if len(indexed) != len(topics) - 1:
            return None
        try:
            plain_values = iter(decode([type_of(i) for i in plain], data))
        except Exception:
            return None
        topic_values = iter(topics[1:])
        args = []
        for param in inputs:
            kind = type_of(param)
            if param.get("indexed"):
                topic = next(topic_values)
                if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
                    value: Any = "0x" + topic.hex()  # a dynamic value is indexed by its hash
                else:
                    value = json_value(decode([kind], topic)[0], kind)
            else:
                value = json_value(next(plain_values), kind)
            args.append({"name": param.get("name", ""), "type": kind, "value": value,
                         "indexed": bool(param.get("indexed"))})
        return {"name": entry.get("name", ""), "signature": signature(entry), "args": args}

    def error(self, data: bytes) -> dict[str, Any] | None:
        return _by_selector(self.errors, data)


def _by_selector(entries: dict[bytes, dict[str, Any]], data: bytes) -> dict[str, Any] | None:
    """A function call or custom error decoded by its 4-byte selector; None if unknown or malformed (shown raw)."""
    entry = entries.get(data[:4]) if len(data) >= 4 else None
    if entry is None:
        return None
    kinds = [type_of(i) for i in entry.get("inputs", [])]
    try:
        values = decode(kinds, data[4:])
    except Exception:
        return None
    return {"name": entry.get("name", ""), "signature": signature(entry),
            "args": _named(entry.get("inputs", []), kinds, values)}


def revert_reason(data: bytes, decoder: Decoder | None = None) -> dict[str, Any] | None:
    """A revert's reason: Error(string), Panic(uint256), or a custom error of `decoder`'s ABI."""
    if data[:4] == ERROR_STRING:
        try:
            return {"name": "Error", "signature": "Error(string)", "message": decode(["string"], data[4:])[0]}
        except Exception:
            return None
    if data[:4] == PANIC:
        try:
            code = decode(["uint256"], data[4:])[0]
        except Exception:
            return None
        return {"name": "Panic", "signature": "Panic(uint256)", "message": f"panic code 0x{code:02x}"}
    if decoder is not None:
        return decoder.error(data)
    return None

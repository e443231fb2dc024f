"""console.log: calls to hardhat's console address, decoded for every console.sol signature and formatted as
hardhat and anvil print them (printf-style %s %d %i %o %O %x %c in a first string argument, the rest appended).

The address holds no code, so such a call costs what any call to an empty account costs (as on anvil); the node
only reads its calldata on the way past.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Any

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

CONSOLE_ADDRESS = bytes.fromhex("000000000000000000636F6e736F6c652e6c6f67")
_BASIC = ("uint256", "int256", "string", "bool", "address", "bytes") + tuple(f"bytes{i}" for i in range(1, 33))
_NAMED = {"Int": "int256", "Uint": "uint256", "String": "string", "Bool": "bool", "Address": "address",
          "Bytes": "bytes", **{f"Bytes{i}": f"bytes{i}" for i in range(1, 33)}}


@lru_cache(maxsize=1)
def selectors() -> dict[bytes, tuple[str, ...]]:
    """Every console.sol signature: log(), log(T) for each basic type, logT(T), and log(a, b[, c[, d]]) over uint256,
    string, bool and address; each also under `uint`/`int` spellings, whose selectors old console.sol builds used."""
    table: dict[bytes, tuple[str, ...]] = {}

    def add(name: str, types: tuple[str, ...]) -> None:
        for spelling in {types, tuple(t.replace("uint256", "uint").replace("int256", "int") for t in types)}:
            table[function_signature_to_4byte_selector(f"{name}({','.join(spelling)})")] = types

    add("log", ())
    for kind in _BASIC:
        add("log", (kind,))
    for suffix, kind in _NAMED.items():
        add(f"log{suffix}", (kind,))
    for count in (2, 3, 4):
        for types in itertools.product(("uint256", "string", "bool", "address"), repeat=count):
            add("log", types)
    return table


def format_call(data: bytes) -> str | None:
    """The line console.log prints for this calldata, or None if it is no console.sol call."""
    types = selectors().get(data[:4])
    if types is None:
        return None
    try:
        values = decode(list(types), data[4:]) if types else ()
    except Exception:  # malformed arguments: shown raw rather than dropped
        return f"console.log: undecodable call 0x{data.hex()}"
    return format_values(list(types), list(values))


def format_values(types: list[str], values: list[Any]) -> str:
    texts = [_text(t, v) for t, v in zip(types, values, strict=True)]
    if types and types[0] == "string" and "%" in values[0]:
        return _printf(values[0], types[1:], values[1:], texts[1:])
    return " ".join(texts)


def _printf(template: str, types: list[str], values: list[Any], texts: list[str]) -> str:
    out, i, used = [], 0, 0
    while i < len(template):
        ch = template[i]
        if ch == "%" and i + 1 < len(template):
            spec = template[i + 1]
            if spec == "%":
                out.append("%")
                i += 2
                continue
            if spec in "sdioOxc" and used < len(texts):
                value, kind = values[used], types[used]
                if spec in "di" and kind in ("uint256", "int256"):
                    out.append(str(value))
                elif spec == "x" and kind in ("uint256", "int256"):
                    out.append(hex(value))
                elif spec != "c":
                    out.append(texts[used])
                used += 1
                i += 2
                continue
        out.append(ch)
        i += 1
    rest = texts[used:]
    return "".join(out) + ("" if not rest else " " + " ".join(rest))


def _text(kind: str, value: Any) -> str:
    if kind == "bool":
        return "true" if value else "false"
    if kind == "address":
        return to_checksum_address(value)
    if kind.startswith("bytes"):
        return "0x" + bytes(value).hex()
    return str(value)

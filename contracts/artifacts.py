"""Compiled contract artifacts (ABI and bytecode), read without the compiler."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import UnknownContract

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    compiler: str
    source_hash: str
    blueprint_bytecode: bytes = b""  # ERC-5202 blueprint deploy code, for contracts created from blueprints


def names() -> list[str]:
    return sorted(p.stem for p in ARTIFACTS.glob("*.json"))


@lru_cache(maxsize=None)
def load(name: str) -> Artifact:
    path = ARTIFACTS / f"{name}.json"
    if not path.exists():
        raise UnknownContract(name, names())
    data = json.loads(path.read_text())
    return Artifact(
        name=name, abi=data["abi"], bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
        deployed_bytecode=bytes.fromhex(data["deployedBytecode"].removeprefix("0x")),
        compiler=data["compiler"], source_hash=data["sourceHash"],
        blueprint_bytecode=bytes.fromhex(data.get("blueprintBytecode", "0x").removeprefix("0x")),
    )

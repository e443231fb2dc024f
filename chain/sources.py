"""Contracts whose source the node knows: runtime code -> which file and line each pc came from.

Known by default: the platform contracts (their artifacts carry a pc -> line map, `contracts/build.py`). Added with
`--artifacts DIR` or the `bourse_registerArtifact` method, in any of these shapes:
  - hardhat's build-info files (`artifacts/build-info/*.json`: solc's standard-JSON input and output together);
  - solc's standard-JSON output (`{"contracts": ..., "sources": ...}`), sources read from disk beside it;
  - Vyper's `-f combined_json` output, sources read from disk beside it;
  - Bourse's own artifacts (`deployedBytecode` + `sourceMap`).
Code is matched exactly, or with its immutables masked (Solidity) or its data section cut (Vyper).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidParams


@dataclass
class SourceInfo:
    name: str
    code: bytes  # runtime bytecode as compiled (immutables zeroed)
    pcs: dict[int, tuple[int, int]]  # pc -> (file index, line), lines from 1
    files: list[str]
    texts: dict[int, list[str]] = field(default_factory=dict)  # file index -> its lines, when known
    immutables: list[tuple[int, int]] = field(default_factory=list)  # (start, length) to mask
    abi: list[Any] = field(default_factory=list)  # the contract's ABI, when the artifact has one

    def frame(self, pc: int) -> str:
        """`file:line: source line` for a pc (the nearest mapped pc at or before it)."""
        found = self.pcs.get(pc)
        if found is None:
            earlier = [p for p in self.pcs if p <= pc]
            if not earlier:
                return f"{self.name} (pc {pc})"
            found = self.pcs[max(earlier)]
        file_index, line = found
        path = self.files[file_index] if file_index < len(self.files) else "?"
        lines = self.texts.get(file_index)
        text = lines[line - 1].strip() if lines and 0 < line <= len(lines) else ""
        return f"{path}:{line}" + (f": {text}" if text else "")


class SourceRegistry:
    def __init__(self) -> None:
        self._known: list[SourceInfo] = []
        self._by_code: dict[bytes, SourceInfo | None] = {}
        self._platform_loaded = False

    def add(self, info: SourceInfo) -> None:
        self._known.append(info)
        self._by_code.clear()

    def __len__(self) -> int:
        self._load_platform()
        return len(self._known)

    def lookup(self, code: bytes) -> SourceInfo | None:
        if not code:
            return None
        self._load_platform()
        if code in self._by_code:
            return self._by_code[code]
        found = None
        for info in self._known:
            if _matches(info, code):
                found = info
                break
        self._by_code[code] = found
        return found

    def _load_platform(self) -> None:
        if self._platform_loaded:
            return
        self._platform_loaded = True
        try:
            from contracts import artifacts
        except ImportError:
            return
        source_dir = artifacts.ARTIFACTS.parent
        for name in artifacts.names():
            data = json.loads((artifacts.ARTIFACTS / f"{name}.json").read_text())
            if "sourceMap" in data:
                self._known.append(from_bourse(data, source_dir))

    def load_dir(self, directory: Path) -> int:
        """Every artifact file under `directory`; how many contracts were added."""
        directory = Path(directory)
        if not directory.is_dir():
            raise InvalidParams(f"--artifacts {directory} is not a folder")
        added = 0
        for path in sorted(directory.rglob("*.json")):
            try:
                document = json.loads(path.read_text())
            except (ValueError, UnicodeDecodeError, OSError):
                continue
            for info in parse(document, path.parent):
                self.add(info)
                added += 1
        return added


def parse(document: Any, base: Path | None = None) -> list[SourceInfo]:
    """Contracts with source maps in an artifact document of any supported shape (see the module doc)."""
    if not isinstance(document, dict):
        return []
    if "input" in document and "output" in document:  # hardhat build-info
        sources = {path: entry.get("content", "") for path, entry in document["input"].get("sources", {}).items()}
        return from_solc(document["output"], sources, base)
    if "contracts" in document and "sources" in document and isinstance(document["contracts"], dict):
        return from_solc(document, {}, base)
    if "sourceMap" in document and "deployedBytecode" in document:
        return [from_bourse(document, base)]
    found = []
    for path, entry in document.items():  # vyper -f combined_json: {file: {bytecode_runtime, source_map, ...}}
        if isinstance(entry, dict) and "bytecode_runtime" in entry and isinstance(entry.get("source_map"), dict):
            found.append(from_vyper(path, entry, base))
    return found


def from_bourse(data: dict[str, Any], base: Path | None) -> SourceInfo:
    source_map = data["sourceMap"]
    pcs = {}
    for entry in source_map["pcs"].split(";") if source_map["pcs"] else []:
        pc, file_index, line = (int(x) for x in entry.split(","))
        pcs[pc] = (file_index, line)
    files = list(source_map["files"])
    return SourceInfo(data.get("contractName", "?"), _hex(data["deployedBytecode"]), pcs, files,
                      _read_texts(files, base), abi=_abi(data.get("abi")))


def from_vyper(path: str, entry: dict[str, Any], base: Path | None) -> SourceInfo:
    runtime_map = entry.get("source_map_runtime")
    source_map = runtime_map if isinstance(runtime_map, dict) else entry["source_map"]
    positions = source_map.get("pc_pos_map", {})
    pcs = {int(pc): (0, pos[0]) for pc, pos in positions.items() if pos and pos[0] is not None and pos[0] > 0}
    return SourceInfo(Path(path).stem, _hex(entry["bytecode_runtime"]), pcs, [path], _read_texts([path], base),
                      abi=_abi(entry.get("abi")))


def from_solc(output: dict[str, Any], sources: dict[str, str], base: Path | None) -> list[SourceInfo]:
    ids = {entry["id"]: path for path, entry in output.get("sources", {}).items() if "id" in entry}
    files = [ids.get(i, "?") for i in range(max(ids) + 1)] if ids else []
    texts: dict[int, str] = {}
    for i, path in enumerate(files):
        if path in sources:
            texts[i] = sources[path]
        elif base is not None and (base / path).exists():
            texts[i] = (base / path).read_text()
    found = []
    for contracts in output.get("contracts", {}).values():
        for name, contract in contracts.items():
            deployed = contract.get("evm", {}).get("deployedBytecode", {})
            code, source_map = deployed.get("object"), deployed.get("sourceMap")
            if not code or not source_map:
                continue
            runtime = _hex(code)
            immutables = [(r["start"], r["length"]) for refs in deployed.get("immutableReferences", {}).values()
                          for r in refs]
            found.append(SourceInfo(name, runtime, solc_pcs(runtime, source_map, texts), files,
                                    {i: t.splitlines() for i, t in texts.items()}, immutables,
                                    _abi(contract.get("abi"))))
    return found


def solc_pcs(code: bytes, source_map: str, texts: dict[int, str]) -> dict[int, tuple[int, int]]:
    """solc's compressed map (s:l:f:j per instruction, fields carried over when empty) as pc -> (file, line)."""
    pcs: dict[int, tuple[int, int]] = {}
    starts = {i: _line_starts(t) for i, t in texts.items()}
    offset, length, file_index = -1, -1, -1
    pc = 0
    for item in source_map.split(";"):
        if pc >= len(code):
            break
        fields = item.split(":")
        if len(fields) > 0 and fields[0]:
            offset = int(fields[0])
        if len(fields) > 1 and fields[1]:
            length = int(fields[1])
        if len(fields) > 2 and fields[2]:
            file_index = int(fields[2])
        if file_index >= 0 and offset >= 0 and file_index in starts:
            pcs[pc] = (file_index, _line_of(starts[file_index], offset))
        op = code[pc]
        pc += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
    return pcs


def _matches(info: SourceInfo, code: bytes) -> bool:
    known = info.code
    if code == known:
        return True
    if info.immutables and len(code) == len(known):
        masked = bytearray(code)
        for start, length in info.immutables:
            masked[start:start + length] = known[start:start + length]
        return bytes(masked) == known
    return len(code) > len(known) and code.startswith(known)  # Vyper: immutables after the runtime code


def _line_starts(text: str) -> list[int]:
    starts, position = [0], 0
    for line in text.encode().splitlines(keepends=True):
        position += len(line)
        starts.append(position)
    return starts


def _line_of(starts: list[int], offset: int) -> int:
    import bisect
    return bisect.bisect_right(starts, offset)


def _read_texts(files: list[str], base: Path | None) -> dict[int, list[str]]:
    texts = {}
    for i, path in enumerate(files):
        for folder in (base, Path.cwd()):
            if folder is not None and (folder / path).is_file():
                texts[i] = (folder / path).read_text().splitlines()
                break
    return texts


def _abi(value: Any) -> list[Any]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def _hex(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))

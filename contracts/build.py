"""Compile the Vyper sources into committed JSON artifacts (`python -m contracts.build`).

Only developers changing a contract need the compiler; the node and the other
packages read the artifacts. `tests/contracts/test_artifacts.py` fails when an
artifact does not match a fresh compile of its source.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
VYPER_VERSION = "0.4.3"
# artifact name -> source file; modules (ownable.vy) are compiled into their users
SOURCES = {
    "PlatformToken": "platform_token.vy",
    "WrappedNative": "wrapped_native.vy",
    "AmmPair": "amm_pair.vy",
    "AmmFactory": "amm_factory.vy",
    "AmmRouter": "amm_router.vy",
    "SettlementVault": "settlement_vault.vy",
    "MultisigVault": "multisig_vault.vy",
    "Launchpad": "launchpad.vy",
    "MerkleDistributor": "merkle_distributor.vy",
    "ListingVote": "listing_vote.vy",
}
BLUEPRINTS = ("AmmPair",)  # deployed as ERC-5202 blueprints and created from them
MODULES = ("ownable.vy", "interfaces/IAmmFactory.vyi", "interfaces/IAmmPair.vyi", "interfaces/IWrappedNative.vyi",
           "interfaces/IPancakeCallee.vyi")


def source_hash(source: str) -> str:
    """sha256 over the contract and every shared module, so a module edit invalidates its users."""
    digest = hashlib.sha256()
    for name in (source, *MODULES):
        digest.update(name.encode() + b"\0" + (HERE / name).read_bytes())
    return digest.hexdigest()


def compile_contract(name: str) -> dict[str, Any]:
    import vyper
    from vyper.compiler import compile_from_file_input
    from vyper.compiler.input_bundle import FilesystemInputBundle

    if not vyper.__version__.startswith(VYPER_VERSION):
        raise RuntimeError(f"contracts are pinned to vyper {VYPER_VERSION}, found {vyper.__version__}")
    source = SOURCES[name]
    bundle = FilesystemInputBundle([HERE])
    formats = ["abi", "bytecode", "bytecode_runtime", "source_map_runtime"] + \
        (["blueprint_bytecode"] if name in BLUEPRINTS else [])
    out = compile_from_file_input(bundle.load_file(HERE / source), input_bundle=bundle, output_formats=formats)
    files = {source_id: Path(path).name for path, source_id in bundle._source_ids.items()}
    extra = {"blueprintBytecode": out["blueprint_bytecode"]} if name in BLUEPRINTS else {}
    return {
        **extra,
        "contractName": name,
        "source": source,
        "compiler": f"vyper {VYPER_VERSION}",
        "sourceHash": source_hash(source),
        "abi": out["abi"],
        "bytecode": out["bytecode"],
        "deployedBytecode": out["bytecode_runtime"],
        "sourceMap": runtime_source_map(out["source_map_runtime"], files),
    }


def runtime_source_map(source_map: dict[str, Any], files: dict[int, str]) -> dict[str, Any]:
    """Which source line each runtime pc came from: {"files": [name by id], "pcs": "pc,file,line;..."} (what the
    node needs to show a revert as file:line frames)."""
    positions, owners = source_map["pc_pos_map"], source_map["pc_ast_map"]
    entries = []
    for pc in sorted(positions, key=int):
        line = positions[pc][0]
        owner = owners.get(pc)
        if line is None or line < 0 or owner is None:
            continue
        entries.append(f"{pc},{owner[0]},{line}")
    return {"files": [files[i] for i in sorted(files)], "pcs": ";".join(entries)}


def render(artifact: dict[str, Any]) -> str:
    return json.dumps(artifact, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    names = argv or list(SOURCES)
    ARTIFACTS.mkdir(exist_ok=True)
    for name in names:
        path = ARTIFACTS / f"{name}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(render(compile_contract(name)))
        tmp.replace(path)
        print(f"wrote {path.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Committed artifacts match a fresh compile of their sources with the pinned Vyper."""

from __future__ import annotations

import json

import pytest

from contracts import build, load
from contracts.errors import UnknownContract

vyper = pytest.importorskip("vyper", reason="vyper is a test extra; install .[test] to check artifacts")


@pytest.mark.parametrize("name", sorted(build.SOURCES))
def test_artifact_matches_a_fresh_compile(name: str) -> None:
    committed = json.loads((build.ARTIFACTS / f"{name}.json").read_text())
    fresh = build.compile_contract(name)
    assert committed["sourceHash"] == fresh["sourceHash"], f"{name}: source changed; run python -m contracts.build"
    assert committed == fresh, f"{name}: artifact differs from a fresh compile; run python -m contracts.build"


def test_every_artifact_has_abi_bytecode_and_compiler() -> None:
    for name in build.SOURCES:
        artifact = load(name)
        assert artifact.abi and artifact.bytecode and artifact.deployed_bytecode
        assert artifact.compiler == f"vyper {build.VYPER_VERSION}"


def test_unknown_artifact_names_the_near_match() -> None:
    with pytest.raises(UnknownContract, match="did you mean PlatformToken"):
        load("PlatformTokn")

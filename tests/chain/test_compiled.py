"""The node runs the compiled opcode loop only while it matches its source: an edited source (an editable
install) or BOURSE_PURE_PYTHON runs the source instead. (tests/chain/test_fast_ops.py runs random programs through
both builds against py-evm's own opcodes.)"""

from __future__ import annotations

import pytest

from chain import compiled


def test_the_source_runs_when_asked_to_or_when_the_build_is_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOURSE_PURE_PYTHON", "1")
    assert compiled.choose_source() == "BOURSE_PURE_PYTHON is set"
    assert str(compiled.opcode_loop().__file__).endswith("opcode_loop.py")
    monkeypatch.delenv("BOURSE_PURE_PYTHON")
    if compiled.choose_source() == "not compiled":
        pytest.skip("this install did not compile the opcode loop: there is no build to go stale")
    assert compiled.is_compiled()
    monkeypatch.setattr(compiled, "sources_digest", lambda: "an edit the build does not have")
    with pytest.warns(RuntimeWarning, match="does not match its source"):
        module = compiled.opcode_loop()
    assert str(module.__file__).endswith("opcode_loop.py")


def test_the_build_that_runs_is_described(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOURSE_PURE_PYTHON", "1")
    assert compiled.describe() == "Python source (BOURSE_PURE_PYTHON is set)" and not compiled.is_compiled()
    monkeypatch.delenv("BOURSE_PURE_PYTHON")
    assert compiled.describe() == ("compiled with mypyc" if compiled.choose_source() is None else
                                   f"Python source ({compiled.choose_source()})")

"""The node runs the compiled opcode loop and call interpreter only while they match their sources: an edited source
(an editable install) or BOURSE_PURE_PYTHON runs the sources instead. (tests/chain/test_fast_ops.py and
test_call_interpreter.py run random programs through both builds against py-evm's own opcodes.)"""

from __future__ import annotations

import pytest

from chain import compiled


def test_the_source_runs_when_asked_to_or_when_the_build_is_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOURSE_PURE_PYTHON", "1")
    assert compiled.choose_source() == "BOURSE_PURE_PYTHON is set"
    assert str(compiled.opcode_loop().__file__).endswith("opcode_loop.py")
    assert str(compiled.call_interpreter().__file__).endswith("call_interpreter.py")
    monkeypatch.delenv("BOURSE_PURE_PYTHON")
    if compiled.choose_source() == "not compiled":
        pytest.skip("this install did not compile the opcode loop: there is no build to go stale")
    assert compiled.is_compiled()
    monkeypatch.setattr(compiled, "sources_digest", lambda: "an edit the build does not have")
    for name in compiled.COMPILED_MODULES:
        with pytest.warns(RuntimeWarning, match=f"running {name} from its Python source: the compiled modules do "
                                                "not match their sources"):
            module = compiled.compiled_or_source(name)
        assert str(module.__file__).endswith(f"{name}.py")


def test_the_build_that_runs_is_described(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOURSE_PURE_PYTHON", "1")
    assert compiled.describe() == "Python source (BOURSE_PURE_PYTHON is set)" and not compiled.is_compiled()
    monkeypatch.delenv("BOURSE_PURE_PYTHON")
    assert compiled.describe() == ("compiled with mypyc" if compiled.choose_source() is None else
                                   f"Python source ({compiled.choose_source()})")

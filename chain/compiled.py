"""Which build of the opcode loop and the call interpreter runs: the mypyc-compiled one, or the Python sources.

`pip install` compiles `opcode_loop.py` and `call_interpreter.py` with mypyc when it can (setup.py) and records a
digest of the sources it compiled. The compiled module is used only while the source still matches that digest: after an edit (say, in
an editable install) the source runs, with a warning, until the next install. `BOURSE_PURE_PYTHON=1` runs the
source regardless.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import os
import warnings
from pathlib import Path
from types import ModuleType

COMPILED_MODULES = ("opcode_loop", "call_interpreter")
HERE = Path(__file__).resolve().parent
BUILD_RECORD = "_built_from"


def sources_digest() -> str:
    h = hashlib.sha256()
    for name in COMPILED_MODULES:
        h.update(name.encode() + b"\0" + (HERE / f"{name}.py").read_bytes() + b"\0")
    return h.hexdigest()


def _has_extension(name: str) -> bool:
    return any((HERE / f"{name}{suffix}").exists() for suffix in importlib.machinery.EXTENSION_SUFFIXES)


def _built_from() -> str | None:
    try:
        record = importlib.import_module(f"chain.{BUILD_RECORD}")
    except ImportError:
        return None
    return getattr(record, "DIGEST", None)


def choose_source() -> str | None:
    """Why the source must run instead of the compiled module, or None to run the compiled one."""
    if os.environ.get("BOURSE_PURE_PYTHON"):
        return "BOURSE_PURE_PYTHON is set"
    if not all(_has_extension(name) for name in COMPILED_MODULES):
        return "not compiled"
    if _built_from() != sources_digest():
        return "the compiled modules do not match their sources (reinstall to compile them again)"
    return None


def opcode_loop() -> ModuleType:
    """The opcode loop module to run: the compiled one, or (see choose_source) the source."""
    return compiled_or_source("opcode_loop")


def call_interpreter() -> ModuleType:
    """The call interpreter module to run: the compiled one, or (see choose_source) the source."""
    return compiled_or_source("call_interpreter")


def compiled_or_source(name: str) -> ModuleType:
    reason = choose_source()
    if reason is None:
        return importlib.import_module(f"chain.{name}")
    if reason not in ("not compiled", "BOURSE_PURE_PYTHON is set"):
        warnings.warn(f"chain: running {name} from its Python source: {reason}", RuntimeWarning, stacklevel=3)
    spec = importlib.util.spec_from_file_location(f"chain.{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_compiled() -> bool:
    return choose_source() is None


def describe() -> str:
    """Which build of the opcode loop and the call interpreter runs, for a startup line."""
    reason = choose_source()
    return "compiled with mypyc" if reason is None else f"Python source ({reason})"

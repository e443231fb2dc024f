"""Which build of the engine's hot modules runs: the mypyc-compiled one, or the Python sources.

`pip install` compiles `COMPILED_MODULES` with mypyc when it can (see setup.py)
and records a digest of the sources it compiled. The compiled modules are used
only while the sources still match that digest: after an edit (say, in an
editable install) the sources run, with a warning, until the next install.
`BOURSE_PURE_PYTHON=1` runs the sources regardless. It is all or nothing: the
compiled modules call each other natively and cannot be mixed with sources.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Sequence

COMPILED_MODULES = ("model", "market", "fees", "balances", "book", "open_orders", "orders", "state", "matching",
                    "engine", "snapshot", "journal")
HERE = Path(__file__).resolve().parent
BUILD_RECORD = "_built_from"


def sources_digest() -> str:
    h = hashlib.sha256()
    for name in COMPILED_MODULES:
        h.update(name.encode() + b"\0" + (HERE / f"{name}.py").read_bytes() + b"\0")
    return h.hexdigest()


def _has_extensions() -> bool:
    return all(any((HERE / f"{name}{suffix}").exists() for suffix in importlib.machinery.EXTENSION_SUFFIXES)
               for name in COMPILED_MODULES)


def _built_from() -> str | None:
    try:
        record = importlib.import_module(f"matcher.{BUILD_RECORD}")
    except ImportError:
        return None
    return getattr(record, "DIGEST", None)


def choose_sources() -> str | None:
    """Why the sources must run instead of the compiled modules, or None to run the compiled ones."""
    if os.environ.get("BOURSE_PURE_PYTHON"):
        return "BOURSE_PURE_PYTHON is set"
    if not _has_extensions():
        return "not compiled"
    if _built_from() != sources_digest():
        return "the compiled modules do not match the sources (reinstall to compile them again)"
    return None


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the hot modules' .py files ahead of the compiled extensions beside them."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != "matcher" or name not in COMPILED_MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, HERE / f"{name}.py")


_why_sources: str | None = None


def select() -> None:
    """Run once, before any hot module is imported (matcher/__init__.py does it)."""
    global _why_sources
    reason = _why_sources = choose_sources()
    if reason is None:
        return
    if reason not in ("not compiled", "BOURSE_PURE_PYTHON is set"):
        warnings.warn(f"matcher: running the engine from its Python sources: {reason}", RuntimeWarning, stacklevel=2)
    sys.meta_path.insert(0, _SourceFinder())


def is_compiled() -> bool:
    """Whether the running engine is the compiled build."""
    from . import engine

    return not engine.__file__.endswith(".py") if engine.__file__ else False


def describe() -> str:
    """Which build runs, for a startup line."""
    return "compiled with mypyc" if is_compiled() else f"Python sources ({_why_sources or 'not compiled'})"

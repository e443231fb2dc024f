"""Build hook: compile the matching engine's hot path with mypyc when it can be.

The modules stay plain Python (they run as they are when nothing is compiled);
mypyc turns them into a C extension that runs the same code about 1.6x faster.
Set BOURSE_PURE_PYTHON=1 to skip compiling. A failed compile falls back to the
pure-Python modules with a warning, so an install never breaks over it.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def _selector():  # type: ignore[no-untyped-def]
    """matcher/compiled.py, loaded by path (the package itself is not importable while it is being built)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_bourse_compiled", os.path.join(HERE, "matcher", "compiled.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class OptionalBuildExt(build_ext):
    """A compiler problem must not break the install: the sources still run. Any failure removes the record of
    what was compiled, so that matcher/compiled.py runs the sources rather than a partial build."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            self._failed(f"the matching engine was not compiled ({exc})")

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._failed(f"{ext.name} was not compiled ({exc})")

    @staticmethod
    def _failed(message: str) -> None:
        print(f"warning: {message}; using pure Python", file=sys.stderr)
        record = os.path.join(HERE, "matcher", "_built_from.py")
        if os.path.exists(record):
            os.remove(record)


def ext_modules() -> list:  # type: ignore[type-arg]
    if os.environ.get("BOURSE_PURE_PYTHON"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("warning: mypyc is not installed; the matching engine stays pure Python", file=sys.stderr)
        return []
    try:
        selector = _selector()
        # mypyc type checks the modules first: an error stops here
        modules = mypycify([f"matcher/{name}.py" for name in selector.COMPILED_MODULES], opt_level="3")
    except (Exception, SystemExit) as exc:
        print(f"warning: mypyc could not compile the matching engine ({exc}); using pure Python", file=sys.stderr)
        return []
    record_sources(selector)
    return modules


def record_sources(selector) -> None:  # type: ignore[no-untyped-def]
    """What the compiled modules were built from: matcher/compiled.py runs them only while the sources match."""
    with open(os.path.join(HERE, "matcher", f"{selector.BUILD_RECORD}.py"), "w") as out:
        out.write(f'"""Written by setup.py: a digest of the sources the compiled modules came from."""\n\n'
                  f'DIGEST = "{selector.sources_digest()}"\n')


setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})

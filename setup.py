"""Build hook: compile the matching engine's hot path and the node's opcode loop with mypyc when it can.

The modules stay plain Python (they run as they are when nothing is compiled);
mypyc turns them into C extensions that run the same code faster (the figures
are in the README).
Set BOURSE_PURE_PYTHON=1 to skip compiling. A failed compile falls back to the
pure-Python modules with a warning, so an install never breaks over it.
"""

from __future__ import annotations

import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


# package -> what its compiled modules are (for messages); each package's compiled.py lists them and picks the build
PACKAGES = {"matcher": "the matching engine", "chain": "the node's opcode loop"}
# mypy options per package. The opcode loop's imports (py-evm, the rest of chain/) are typed as Any: they are not
# mypyc's to check, and the build must not depend on whether py-evm is installed yet (a fresh install builds this
# package before it installs the dependencies).
MYPY_FLAGS = {"chain": ["--follow-imports=skip", "--ignore-missing-imports"]}
# C compiler flags for the compiled modules on Linux (gcc and clang take both). A compiled group is one shared library
# whose functions call each other and libpython all the time; built as position-independent code, each such call goes
# through the PLT, and a call between two of its own functions cannot be inlined, since another library could
# interpose either one. CPython builds itself with -fno-semantic-interposition for the same reason. Measured on the
# matching engine: about 1.12x the commands a second (bench/matcher_bench.py).
LINUX_CFLAGS = ["-fno-semantic-interposition", "-fno-plt"]


def _selector(package: str):  # type: ignore[no-untyped-def]
    """<package>/compiled.py, loaded by path (the package itself is not importable while it is being built)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_bourse_compiled_{package}",
                                                  os.path.join(HERE, package, "compiled.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class OptionalBuildExt(build_ext):
    """A compiler problem must not break the install: the sources still run. A failure removes the record of what
    was compiled (every package's, when it is not clear whose), so that <package>/compiled.py runs the sources
    rather than a partial build."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            self._failed(f"the compiled modules were not built ({exc})", list(PACKAGES))

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as exc:
            owner = [p for p in PACKAGES if ext.name.startswith(p + ".")]
            self._failed(f"{ext.name} was not compiled ({exc})", owner or list(PACKAGES))

    @staticmethod
    def _failed(message: str, packages: list) -> None:  # type: ignore[type-arg]
        print(f"warning: {message}; using pure Python", file=sys.stderr)
        for package in packages:
            record = os.path.join(HERE, package, "_built_from.py")
            if os.path.exists(record):
                os.remove(record)


def ext_modules() -> list:  # type: ignore[type-arg]
    if os.environ.get("BOURSE_PURE_PYTHON"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("warning: mypyc is not installed; the matching engine and the opcode loop stay pure Python",
              file=sys.stderr)
        return []
    modules = []
    for package, what in PACKAGES.items():
        try:
            selector = _selector(package)
            # mypyc type checks the modules first: an error stops here
            built = mypycify([*MYPY_FLAGS.get(package, []),
                              *(f"{package}/{name}.py" for name in selector.COMPILED_MODULES)], opt_level="3",
                             group_name=f"bourse_{package}")
        except (Exception, SystemExit) as exc:
            print(f"warning: mypyc could not compile {what} ({exc}); using pure Python", file=sys.stderr)
            continue
        if sys.platform.startswith("linux"):
            for ext in built:
                ext.extra_compile_args = [*(ext.extra_compile_args or []), *LINUX_CFLAGS]
        modules += built
        record_sources(package, selector)
    return modules


def record_sources(package: str, selector) -> None:  # type: ignore[no-untyped-def]
    """What the compiled modules were built from: <package>/compiled.py runs them only while the sources match."""
    with open(os.path.join(HERE, package, f"{selector.BUILD_RECORD}.py"), "w") as out:
        out.write(f'"""Written by setup.py: a digest of the sources the compiled modules came from."""\n\n'
                  f'DIGEST = "{selector.sources_digest()}"\n')


setup(ext_modules=ext_modules(), cmdclass={"build_ext": OptionalBuildExt})

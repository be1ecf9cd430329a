"""Compiled builds of the hot modules, and the guard that keeps a stale build out.

The build (``packages/headroom-core/setup.py``) compiles a few modules (the JSON
compressor's, relevance and markers) from their unchanged sources with Cython when a C
compiler is there, and writes beside this file the SHA-256 of each source it compiled
(``_compiled<ABI tag>.json``). Without a compiler, or with ``HEADROOM_NO_EXTENSIONS`` set
at build time, nothing is compiled and the package is pure Python.

Python imports a compiled module before its source. So that an edited source is never
shadowed by the build of an older one, ``guard()`` (run when ``headroom_core`` is first
imported, before any of those modules) has each module whose source no longer has the hash
it was compiled from read from its ``.py`` file, and logs that once. With
``HEADROOM_NO_EXTENSIONS`` set at run time, every module is read from its source.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

log = logging.getLogger("headroom")

PACKAGE = __name__.rpartition(".")[0]
#: The suffix of this interpreter's compiled modules (``.cpython-311-x86_64-linux-gnu.so``).
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]
#: Set (to anything but ``""`` or ``0``) to run every module from its source.
NO_EXTENSIONS = "HEADROOM_NO_EXTENSIONS"


def manifest_name(suffix: str = SUFFIX) -> str:
    """The file naming the sources compiled for ``suffix``'s interpreter, and their hashes."""
    return f"_compiled{suffix.rpartition('.')[0]}.json"


def source_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def disabled() -> bool:
    return os.environ.get(NO_EXTENSIONS, "") not in ("", "0")


class SourceFirst(importlib.abc.MetaPathFinder):
    """A meta path finder that reads the named modules from the given source files."""

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        source = self.sources.get(fullname)
        if source is None:
            return None
        return importlib.util.spec_from_file_location(fullname, source)


def stale_modules(package_dir: Path, suffix: str = SUFFIX) -> dict[str, Path]:
    """The compiled modules under ``package_dir`` to read from source instead: each whose
    source changed since it was compiled (all of them when ``disabled()``), by full name,
    with its source file. Empty when nothing was compiled for ``suffix``."""
    try:
        built = json.loads((package_dir / manifest_name(suffix)).read_text("utf-8"))
        modules: dict[str, str] = built["modules"]
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError):
        # a manifest that cannot be read vouches for nothing: every build found is skipped
        modules = dict.fromkeys(_built_modules(package_dir, suffix), "")
    off = disabled()
    stale: dict[str, Path] = {}
    for name, digest in modules.items():
        parts = name.split(".")
        source = package_dir.joinpath(*parts).with_suffix(".py")
        if not package_dir.joinpath(*parts[:-1], parts[-1] + suffix).exists():
            continue  # not compiled (the build skipped it): the source is read anyway
        if not source.exists():
            continue  # installed without sources: the build is all there is
        if off or source_hash(source) != digest:
            stale[f"{package_dir.name}.{name}"] = source
    return stale


def _built_modules(package_dir: Path, suffix: str) -> list[str]:
    return [
        ".".join(p.relative_to(package_dir).parts)[: -len(suffix)]
        for p in package_dir.rglob("*" + suffix)
    ]


def guard(package_dir: Path | None = None) -> dict[str, Path]:
    """Have stale compiled modules read from source (see the module's docstring); returns
    them. Must run before any of them is imported."""
    stale = stale_modules(package_dir or Path(__file__).parent)
    if not stale:
        return stale
    installed = next((f for f in sys.meta_path if isinstance(f, SourceFirst)), None)
    if installed is None:
        sys.meta_path.insert(0, SourceFirst(stale))
    else:  # one finder for every package guarded
        installed.sources.update(stale)
    if not disabled():
        log.warning(
            "headroom: %d compiled module(s) are older than their sources (%s); the sources "
            "are used. `uv sync --reinstall-package headroom-core` compiles them again",
            len(stale),
            ", ".join(sorted(stale)),
        )
    return stale


def compiled_modules() -> list[str]:
    """The modules of this package that run compiled (imported from a build), by name."""
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if name.startswith(PACKAGE + ".")
        and (getattr(module, "__file__", None) or "").endswith(SUFFIX)
    )


def describe() -> str:
    """One line saying what runs, for reports of measured figures."""
    names = compiled_modules()
    if not names:
        return "pure Python (no module compiled)"
    short = ", ".join(n.removeprefix(PACKAGE + ".") for n in names)
    return f"{len(names)} modules compiled with Cython ({short}), the rest pure Python"


guard()

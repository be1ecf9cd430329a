"""Build of headroom-core: pure Python, with the hot modules also compiled where possible.

The modules in ``COMPILED`` are compiled from their unchanged sources with Cython (the JSON
compressor runs about a quarter fewer instructions). Each extension is optional: without a
C compiler the build goes on, and the package runs the sources. ``HEADROOM_NO_EXTENSIONS``
(any value but ``0``) skips compiling. Next to the package, the build writes the SHA-256 of
each source it compiled; ``headroom_core._compiled`` reads a module from its source again
once that source has changed. Project metadata is in ``pyproject.toml``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sysconfig
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

PACKAGE = "headroom_core"
SOURCES = Path("src") / PACKAGE
#: Modules compiled, relative to the package: where the JSON compressor spends its time.
#: ``[tool.uv] cache-keys`` in pyproject.toml names their sources (a test checks).
COMPILED = (
    "_markers",
    "_relevance",
    "compressors._json",
    "compressors._json_compact",
    "compressors._json_factor",
    "compressors._json_select",
    "compressors._json_series",
)


def _source(module: str) -> Path:
    return SOURCES.joinpath(*module.split(".")).with_suffix(".py")


def _manifest_name() -> str:
    # as headroom_core._compiled.manifest_name(), which the build cannot import
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    return f"_compiled{suffix.rpartition('.')[0]}.json"


def _extensions() -> list[Extension]:
    if os.environ.get("HEADROOM_NO_EXTENSIONS", "") not in ("", "0"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:  # built without the build requirements (not through PEP 517)
        return []
    modules = [Extension(f"{PACKAGE}.{m}", [str(_source(m))]) for m in COMPILED]
    built: list[Extension] = cythonize(
        modules,
        build_dir="build/cython",
        # annotations stay hints, as in the sources: no type is enforced
        compiler_directives={"language_level": 3, "annotation_typing": False},
        quiet=True,
    )
    for ext in built:
        ext.optional = True
    return built


class BuildExt(build_ext):
    """``build_ext`` on every core, each module from scratch, then the manifest."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if not self.parallel:
            self.parallel = os.cpu_count() or 1

    def build_extension(self, ext: Extension) -> None:
        # an earlier build left in place must not outlive a failed one (it would be listed)
        Path(self.get_ext_fullpath(ext.name)).unlink(missing_ok=True)
        super().build_extension(ext)

    def run(self) -> None:
        super().run()
        compiled: dict[str, str] = {}
        for ext in self.extensions:
            if Path(self.get_ext_fullpath(ext.name)).exists():
                module = ext.name.partition(".")[2]
                compiled[module] = hashlib.sha256(_source(module).read_bytes()).hexdigest()
        package_dir = Path(self.get_ext_fullpath(f"{PACKAGE}._")).parent
        manifest = package_dir / _manifest_name()
        if compiled:
            package_dir.mkdir(parents=True, exist_ok=True)
            manifest.write_text(json.dumps({"modules": compiled}, indent=1, sort_keys=True))
        else:
            manifest.unlink(missing_ok=True)


options: dict[str, Any] = {"ext_modules": _extensions(), "cmdclass": {"build_ext": BuildExt}}
setup(**options)

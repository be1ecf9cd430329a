"""Compiled modules: the guard against stale builds, and the same outputs as the sources."""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest

import headroom_core
from headroom_core import _compiled
from headroom_core._compiled import (
    SUFFIX,
    SourceFirst,
    compiled_modules,
    guard,
    manifest_name,
    stale_modules,
)
from tests.conftest import CORPUS


def _package(tmp_path: Path, name: str) -> Path:
    """A package holding ``mod.py`` and, where a build would put it, a "compiled" ``mod``
    that is not a loadable module at all: importing it fails unless the source is read."""
    pkg = tmp_path / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("VALUE = 'from source'\n")
    (pkg / f"mod{SUFFIX}").write_bytes(b"not a shared object")
    return pkg


def _write_manifest(pkg: Path, modules: dict[str, str]) -> None:
    (pkg / manifest_name()).write_text(json.dumps({"modules": modules}))


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_build_of_the_current_source_is_kept(tmp_path: Path) -> None:
    pkg = _package(tmp_path, "fresh_pkg")
    _write_manifest(pkg, {"mod": _hash(pkg / "mod.py")})
    assert stale_modules(pkg) == {}


def test_an_edited_source_is_read_instead_of_its_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = _package(tmp_path, "edited_pkg")
    _write_manifest(pkg, {"mod": _hash(pkg / "mod.py")})
    (pkg / "mod.py").write_text("VALUE = 'edited'\n")
    assert stale_modules(pkg) == {"edited_pkg.mod": pkg / "mod.py"}

    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    # Python itself prefers the build: this one cannot load
    with pytest.raises(ImportError):
        __import__("edited_pkg.mod")
    for name in ("edited_pkg", "edited_pkg.mod"):
        sys.modules.pop(name, None)
    assert guard(pkg) == {"edited_pkg.mod": pkg / "mod.py"}
    assert any(isinstance(f, SourceFirst) for f in sys.meta_path)
    try:
        module: Any = __import__("edited_pkg.mod", fromlist=["VALUE"])
        assert module.VALUE == "edited"
        assert module.__file__ == str(pkg / "mod.py")
    finally:
        for name in ("edited_pkg", "edited_pkg.mod"):
            sys.modules.pop(name, None)


def test_no_extensions_reads_every_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = _package(tmp_path, "off_pkg")
    _write_manifest(pkg, {"mod": _hash(pkg / "mod.py")})
    monkeypatch.setenv("HEADROOM_NO_EXTENSIONS", "1")
    assert stale_modules(pkg) == {"off_pkg.mod": pkg / "mod.py"}
    monkeypatch.setenv("HEADROOM_NO_EXTENSIONS", "0")
    assert stale_modules(pkg) == {}


def test_what_was_not_compiled_or_cannot_be_vouched_for(tmp_path: Path) -> None:
    pkg = _package(tmp_path, "odd_pkg")
    assert stale_modules(pkg) == {}  # no manifest: nothing was compiled for this interpreter
    _write_manifest(pkg, {"other": "0" * 64})  # listed, but its build is not there
    assert stale_modules(pkg) == {}
    (pkg / manifest_name()).write_text("{not json")  # unreadable: no build is trusted
    assert stale_modules(pkg) == {"odd_pkg.mod": pkg / "mod.py"}


def test_manifest_name_has_the_interpreters_tag() -> None:
    assert manifest_name(".cpython-311-x86_64-linux-gnu.so") == (
        "_compiled.cpython-311-x86_64-linux-gnu.json"
    )
    assert manifest_name(".pyd") == "_compiled.json"


def _has_c_compiler() -> bool:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) is not None


@pytest.mark.skipif(
    os.environ.get("HEADROOM_NO_EXTENSIONS", "") not in ("", "0"),
    reason="HEADROOM_NO_EXTENSIONS is set: the sources run",
)
@pytest.mark.skipif(not _has_c_compiler(), reason="no C compiler: the package is pure Python")
def test_the_build_compiled_its_modules() -> None:
    """With a C compiler, the package's own build compiles the modules it lists, and they are
    the ones running (an edit since would need ``uv sync``, which ``uv run`` does)."""
    package_dir = Path(headroom_core.__file__).parent
    manifest = json.loads((package_dir / manifest_name()).read_text("utf-8"))
    expected = sorted(f"headroom_core.{m}" for m in manifest["modules"])
    assert len(expected) >= 7
    assert stale_modules(package_dir) == {}
    assert compiled_modules() == expected


_OUTPUTS = """
import json, sys
from pathlib import Path
from headroom_core import compress, _compiled
corpus = Path(sys.argv[1])
cases = [json.loads(l) for l in (corpus / "cases.jsonl").read_text("utf-8").splitlines() if l]
out = {
    c["id"]: compress(
        (corpus / c["file"]).read_text("utf-8"), query=c["query"], tool=c.get("tool")
    ).text
    for c in cases
    if c["kind"] in sys.argv[2:]
}
print(json.dumps({"compiled": _compiled.compiled_modules(), "out": out}))
"""

_KINDS = ("json", "log", "search", "text")


@pytest.mark.corpus
@pytest.mark.slow
def test_compiled_and_source_modules_give_the_same_outputs(
    corpus_cases: list[dict[str, Any]], headroom_home: Path
) -> None:
    """Every corpus case of the kinds the compiled modules serve, compressed by the running
    package and by its sources alone (same store home: same refs), is the same text."""
    if not compiled_modules():
        pytest.skip("nothing is compiled here: the sources run either way")

    def outputs(**env: str) -> dict[str, Any]:
        proc = subprocess.run(
            [sys.executable, "-c", _OUTPUTS, str(CORPUS), *_KINDS],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            check=True,
            timeout=240,
        )
        result: dict[str, Any] = json.loads(proc.stdout)
        return result

    source = outputs(HEADROOM_NO_EXTENSIONS="1")
    built = outputs()
    assert source["compiled"] == []
    assert built["compiled"] == compiled_modules()
    assert len(built["out"]) == len([c for c in corpus_cases if c["kind"] in _KINDS]) > 10
    assert built["out"] == source["out"]


def test_the_guard_runs_before_the_compiled_modules_load() -> None:
    """``headroom_core`` imports ``_compiled`` first: the guard has decided by the time any
    listed module is imported."""
    init = Path(headroom_core.__file__).read_text("utf-8")
    first = next(line for line in init.splitlines() if line.startswith(("from ", "import ")))
    assert first.startswith("from . import _compiled")
    assert _compiled.PACKAGE == "headroom_core"


def test_uv_builds_again_when_a_compiled_source_changes() -> None:
    """Each module ``setup.py`` compiles has its source among uv's cache keys: ``uv run``
    then compiles it again after an edit."""
    tomllib = pytest.importorskip("tomllib")
    package = Path(__file__).resolve().parents[2] / "packages" / "headroom-core"
    tree = ast.parse((package / "setup.py").read_text("utf-8"))
    compiled = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "COMPILED" for t in node.targets)
    )
    keys = tomllib.loads((package / "pyproject.toml").read_text("utf-8"))["tool"]["uv"][
        "cache-keys"
    ]
    globs = [k["file"] for k in keys if "file" in k]
    assert {"pyproject.toml", "setup.py"} <= set(globs)
    for module in compiled:
        source = "src/headroom_core/" + module.replace(".", "/") + ".py"
        assert (package / source).is_file(), source
        assert any(fnmatch.fnmatch(source, g) for g in globs), source

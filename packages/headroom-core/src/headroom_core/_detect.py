"""Content-kind detection: json, search, log, code (+ language), diff, text, binary.

Content decides; the tool name and a file path are hints that settle close calls. Checks
run from the most specific shape to the least (diff, JSON, search hits, logs, code, text),
each on a bounded sample, so detection costs the same on a 50 MB input as on 50 KB.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .compressors._json_factor import loads_fast

_SAMPLE_CHARS = 64 * 1024
_SAMPLE_LINES = 400
#: Language signals are scored on a shorter prefix: a few hundred lines decide a language.
_LANG_SAMPLE_CHARS = 16 * 1024

EXTENSION_LANGUAGES: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".swift": "swift",
    ".scala": "scala",
    ".lua": "lua",
    ".sh": "bash",
}
_EXTENSION_KINDS: dict[str, str] = {
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".geojson": "json",
    ".log": "log",
    ".diff": "diff",
    ".patch": "diff",
    ".md": "text",
    ".rst": "text",
    ".txt": "text",
    ".html": "text",
    ".htm": "text",
    ".adoc": "text",
    ".org": "text",
}
_TOOL_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"grep|ripgrep|\brg\b|search_code|code_search|find_in_files|symbol", re.I),
        "search",
    ),
    (re.compile(r"log|journal|tail|events", re.I), "log"),
    (re.compile(r"diff|patch|compare", re.I), "diff"),
)


@dataclass(frozen=True)
class Detection:
    """What ``detect_kind`` decided, and why."""

    kind: str
    language: str | None = None
    reason: str = ""
    #: the JSON value when detection read the whole text as JSON with orjson (else None), so
    #: the JSON compressor need not parse it again; an integer beyond 64 bits is a float
    #: there, which that compressor checks for
    value: object = field(default=None, repr=False, compare=False)
    #: where the JSON document lies in a text that frames it (a line before or after it, a
    #: Markdown fence around it): kind json, ``value`` read from that part
    span: tuple[int, int] | None = None


# --- diff -------------------------------------------------------------------------------
_DIFF_START = re.compile(r"^(diff --git |diff -|Index: |--- \S)", re.M)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@", re.M)

# --- search hits: path:line:text, path-line-text (context), or line:text --------------------
_SEARCH_LINE = re.compile(r"^(?:[^\s:]*[A-Za-z_][^\s:]*[:-]\d+[:-]|\d+:(?!\d))")
_SEARCH_SEP = re.compile(r"^(--|==> .* <==)?$")

# --- logs ---------------------------------------------------------------------------------
_LOG_SIGNALS = re.compile(
    r"\d{2,4}[-/.]\d{1,2}[-/.]\d{1,4}"  # dates
    r"|\b\d{1,2}:\d{2}:\d{2}"  # clock times
    r"|\b1[0-9]{9}\b"  # unix epoch seconds
    r"|^\d{6} \d{6}\b"  # HDFS-style yymmdd hhmmss
    r"|\b(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL|CRITICAL|SEVERE)\b"
    r"|\b(?:PASSED|FAILED|SKIPPED|XFAIL)\b|^(?:error|warning)(?:\[\w+\])?:"
    # test-run results: DejaGnu/automake (PASS: ...), TAP (ok 3 / not ok 4), go test
    r"|^(?:PASS|FAIL|XPASS|XFAIL|KPASS|KFAIL|UNSUPPORTED|UNRESOLVED|UNTESTED|ERROR|SKIP):\s"
    r"|^(?:not )?ok \d+\b|^(?:=== (?:RUN|PAUSE|CONT)|--- (?:PASS|FAIL|SKIP):)"
)

# --- code ---------------------------------------------------------------------------------
#: Per language: (pattern, weight, texts the pattern needs, any one of them). A sample
#: holding none of those texts cannot match, which a substring test tells far faster than
#: the line-anchored search.
_LANG_SIGNALS: dict[str, tuple[tuple[str, float, tuple[str, ...]], ...]] = {
    "python": (
        (r"^\s*def \w+\(.*", 2, ("def ",)),
        (r"^\s*class \w+.*:\s*$", 2, ("class ",)),
        (r"^(import|from) [\w.]+", 1.5, ("import ", "from ")),
        (r"\bself\.", 1, ("self.",)),
        (r"^\s*(elif|except|finally)\b.*:\s*$", 2, ("elif", "except", "finally")),
        (r"^\s*@\w+", 0.5, ("@",)),
    ),
    "javascript": (
        (r"\bfunction\s*\w*\s*\(", 2, ("function",)),
        (r"^\s*(const|let|var) \w+\s*=", 1.5, ("const ", "let ", "var ")),
        (r"=>", 0.7, ("=>",)),
        (
            r"\brequire\(|module\.exports|export default",
            2,
            ("require(", "module.exports", "export default"),
        ),
        (r"===|!==", 1, ("===", "!==")),
    ),
    "typescript": (
        (
            r"^\s*(export )?(declare )?(interface|type|namespace|module) [\w.\"']+",
            3,
            ("interface ", "type ", "namespace ", "module "),
        ),
        (
            r"\w\??: (string|number|boolean|any|void|unknown|never)\b",
            2,
            (": string", ": number", ": boolean", ": any", ": void", ": unknown", ": never"),
        ),
        (
            r"^\s*(export )?(declare )?(function|class|const) \w+.*[:<]",
            1,
            ("function ", "class ", "const "),
        ),
        (r"\bimport .* from ['\"]", 1, ("import ",)),
    ),
    "go": (
        (r"^func ", 3, ("func ",)),
        (r"^package \w+$", 4, ("package ",)),
        (r":= ", 1.5, (":= ",)),
        (r"\berr != nil\b", 2, ("err != nil",)),
        (r"^\s*(type \w+ (struct|interface))", 3, ("type ",)),
    ),
    "rust": (
        (r"^\s*(pub(\([\w:]+\))? )?(async )?(unsafe )?fn \w+", 3, ("fn ",)),
        (r"^\s*(pub )?(struct|enum|trait|mod) \w+", 2, ("struct ", "enum ", "trait ", "mod ")),
        (r"^\s*impl\b", 2, ("impl",)),
        (r"\blet (mut )?\w+", 1, ("let ",)),
        (r"^\s*use [\w:]+", 1.5, ("use ",)),
        (r"&(mut |self)", 1, ("&mut ", "&self")),
        (r"^\s*#\[\w+", 1.5, ("#[",)),
    ),
    "java": (
        (
            r"^\s*(public|private|protected)( static)?( final)? [\w<>\[\], ]+ \w+\s*\(",
            3,
            ("public ", "private ", "protected "),
        ),
        (
            r"^\s*(public |abstract |final )*(class|interface|enum) \w+",
            2,
            ("class ", "interface ", "enum "),
        ),
        (r"^import [\w.]+(\.\*)?;", 2, ("import ",)),
        (r"^package [\w.]+;", 4, ("package ",)),
        (r"@Override\b", 2, ("@Override",)),
    ),
    "c": (
        (r"^#\s*(include|define|ifdef|ifndef|endif|if)\b", 2, ("#",)),
        (r"^\w[\w \*]*\s\**\w+\s*\([^;]*\)\s*\{?\s*$", 1.5, ("(",)),
        (r"\b(struct|typedef|static|unsigned|char|int|void)\b.*;\s*$", 1, (";",)),
        (r"->\w+", 1, ("->",)),
        (r"\bNULL\b", 1, ("NULL",)),
    ),
    "cpp": (
        (r"\btemplate\s*<", 3, ("template",)),
        (r"\bnamespace \w+", 2, ("namespace ",)),
        (r"\bstd::", 2, ("std::",)),
        (r"^#\s*include\b", 1.5, ("include",)),
        (r"\b(public|private|protected):\s*$", 2, ("public", "private", "protected")),
        (r"::\w+\s*\(", 1, ("::",)),
        (r"\b(typename|constexpr|noexcept)\b", 2, ("typename", "constexpr", "noexcept")),
    ),
    "csharp": (
        (r"^using [\w.]+;", 3, ("using ",)),
        (r"^\s*namespace [\w.]+", 2, ("namespace ",)),
        (r"\b(public|private|internal) (sealed |static |partial )*class\b", 2, ("class",)),
        (r"\{ get; (private )?set; \}", 3, ("{ get;",)),
    ),
    "ruby": (
        (r"^\s*def \w+[?!]?(\(.*\))?\s*$", 2, ("def ",)),
        (r"^\s*end\s*$", 2, ("end",)),
        (r"^\s*(module|class) [A-Z]\w*(\s*<\s*\w+)?\s*$", 1.5, ("module ", "class ")),
        (r"^\s*require ['\"]", 2, ("require ",)),
    ),
    "php": (
        (r"^<\?php", 6, ("<?php",)),
        (r"\$\w+\s*=", 1.5, ("$",)),
        (r"->\w+\(", 0.5, ("->",)),
        (r"^\s*(public |private )?function \w+", 1, ("function ",)),
    ),
}
_COMPILED_LANG = {
    lang: tuple((re.compile(p, re.M), w, needs) for p, w, needs in sigs)
    for lang, sigs in _LANG_SIGNALS.items()
}
_CODE_LINE = re.compile(
    r"([;{}]\s*$)|(^\s*(def|class|func|fn|pub|impl|import|from|package|return|if|for|while|#include|#define)\b)|(\)\s*:\s*$)"
)


def _sample(text: str) -> str:
    return text[:_SAMPLE_CHARS]


def _lines(sample: str) -> list[str]:
    return [ln for ln in sample.splitlines()[:_SAMPLE_LINES] if ln.strip()]


def language_from_path(path: str | None) -> str | None:
    if not path:
        return None
    name = PurePosixPath(path.replace("\\", "/")).name.lower()
    if name.endswith(".d.ts"):
        return "typescript"
    return EXTENSION_LANGUAGES.get(PurePosixPath(name).suffix)


def _kind_from_path(path: str | None) -> str | None:
    if not path:
        return None
    if language_from_path(path):
        return "code"
    return _EXTENSION_KINDS.get(PurePosixPath(path.lower()).suffix)


def _tool_hint(tool: str | None) -> str | None:
    if not tool:
        return None
    for pattern, kind in _TOOL_HINTS:
        if pattern.search(tool):
            return kind
    return None


def guess_language(text: str, path: str | None = None) -> str | None:
    """The programming language of ``text`` (path extension first, then content signals)."""
    return _guess(text, path, None)


def _guess(text: str, path: str | None, scores: dict[str, float] | None) -> str | None:
    by_path = language_from_path(path)
    if by_path and not (by_path == "c" and path and path.lower().endswith(".h")):
        return by_path
    if scores is None:
        scores = _language_scores(text[:_LANG_SAMPLE_CHARS])
    if by_path == "c":  # a .h header: C unless C++ signals dominate
        return "cpp" if scores.get("cpp", 0) > scores.get("c", 0) * 0.5 else "c"
    if not scores:
        return None
    best = max(sorted(scores), key=lambda k: scores[k])
    if best == "javascript" and scores.get("typescript", 0) >= scores["javascript"] * 0.4:
        best = "typescript"
    if best == "c" and scores.get("cpp", 0) >= scores["c"] * 0.5:
        best = "cpp"
    return best if scores[best] >= 3 else None


def _language_scores(sample: str) -> dict[str, float]:
    n_lines = max(1, sample.count("\n") + 1)
    scores: dict[str, float] = {}
    for lang, sigs in _COMPILED_LANG.items():
        score = sum(
            w * min(len(p.findall(sample)), 50)
            for p, w, needs in sigs
            if any(n in sample for n in needs)
        )
        if score:
            scores[lang] = score * 100.0 / n_lines
    return scores


_NOT_JSON = object()


def _parse_json(text: str, data: bytes | None = None) -> tuple[object, bool]:
    """The parsed value of ``text`` (or ``_NOT_JSON``), and whether orjson read it.

    ``data`` is ``text`` in UTF-8, if the caller has it: read instead of ``text`` (orjson
    reads bytes as they are, a str only once converted) when only whitespace JSON allows
    surrounds the value; other whitespace around it (a form feed, a no-break space) is
    stripped first, as ``str.strip`` does.
    """
    start = _space_end(_SPACE, text)
    if text[start : start + 1] not in ("[", "{"):
        return _NOT_JSON, False
    end = len(text)
    while end > start and text[end - 1].isspace():
        end -= 1
    own = _space_end(_JSON_SPACE, text) == start and _JSON_SPACE.fullmatch(text, end) is not None
    # JSON's own whitespace is read past: only other whitespace needs a stripped copy
    source = (text if data is None else data) if own else text[start:end]
    try:
        return loads_fast(source)
    except (ValueError, RecursionError):
        return _NOT_JSON, False


#: Text around a framed JSON document (``_framed_json``) is at most this long on each side.
FRAME_CHARS = 2000
_FRAME_START = re.compile(r"^[ \t]*[\[{]", re.MULTILINE)
_MEMBER_START = frozenset('"}')
_VALUE_START = frozenset('{["]-0123456789tfn')


def _framed_json(text: str) -> tuple[int, int, object] | None:
    """``(start, end, value)`` of a JSON object or array that is all of ``text`` but a few
    lines around it (``FRAME_CHARS`` at most each side): a heading, a count, a fence.

    The document starts a line and ends one; None if it does not parse. ``value`` is None
    unless orjson read it (the JSON compressor then reads the document itself).
    """
    m = _FRAME_START.search(text, 0, FRAME_CHARS + 64)
    if m is None or m.end() - 1 > FRAME_CHARS:
        return None
    start = m.end() - 1
    close = "}" if text[start] == "{" else "]"
    # what follows the bracket must begin a member or a value ("[INFO]" or "{%" do not)
    head = text[start + 1 : start + 64].lstrip()[:1]
    if head and head not in (_MEMBER_START if close == "}" else _VALUE_START):
        return None
    end = text.rfind(close) + 1
    if end <= start or len(text) - end > FRAME_CHARS:
        return None
    if text[end:].split("\n", 1)[0].strip():  # more on the line after the document
        return None
    try:
        value, by_orjson = loads_fast(text[start:end])
    except (ValueError, RecursionError):
        return None
    if not isinstance(value, (dict, list)):
        return None
    # handed on only as orjson read it, as for a whole text of JSON
    return start, end, value if by_orjson else None


#: Whitespace as ``str.strip`` and ``\s`` have it; the part of it JSON allows between tokens.
_SPACE = re.compile(r"\s*")
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _space_end(space: re.Pattern[str], text: str) -> int:
    """Where the run of ``space`` that starts ``text`` ends (it may be empty)."""
    found = space.match(text)
    return 0 if found is None else found.end()


def _json_lines(lines: list[str]) -> bool:
    if len(lines) < 2:
        return False
    parsed = 0
    for ln in lines[:50]:
        s = ln.strip()
        if s.startswith("{") and s.endswith("}"):
            try:
                json.loads(s)
                parsed += 1
            except ValueError:
                return False
        else:
            return False
    return parsed >= 2


_PATH_KEYS = frozenset({"path", "file", "filename", "file_path"})
_LINE_KEYS = frozenset({"line", "line_number", "lineno", "line_num", "start_line"})


def _is_search_json(value: object) -> bool:
    """A JSON array of matches: its items carry a path and a line number at top level.

    Only the top level counts: API records that nest a location (code-scanning alerts,
    review comments) are records, not search results.
    """
    if not isinstance(value, list) or not value:
        return False
    head = value[:5]
    return all(
        isinstance(item, dict) and _PATH_KEYS & item.keys() and _LINE_KEYS & item.keys()
        for item in head
    )


def _ratio(lines: list[str], pattern: re.Pattern[str], window: int | None = None) -> float:
    if not lines:
        return 0.0
    hits = sum(1 for ln in lines if pattern.search(ln[:window] if window else ln))
    return hits / len(lines)


_MAX_PARSE_CHARS = 2 * 1024 * 1024


def _parses_as_python(text: str) -> bool:
    """Whether ``text`` is a syntactically valid Python module (bounded in size)."""
    if len(text) > _MAX_PARSE_CHARS or "\n" not in text.strip():
        return False
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def detect_kind(text: str, *, tool: str | None = None, path: str | None = None) -> Detection:
    """Decide the content kind of ``text``; ``tool`` and ``path`` are hints."""
    return _detect_kind(text, tool, path)


def _detect_kind(
    text: str, tool: str | None, path: str | None, data: bytes | None = None
) -> Detection:
    """``detect_kind``; ``data`` is ``text`` in UTF-8 if the caller has it (``_parse_json``)."""
    if not text or text.isspace():
        return Detection("text", reason="empty")
    # JSON first: text that parses as JSON has no NUL and no line starting "@@" (a JSON
    # string holds neither a control character nor a line break), so neither check below
    # could decide otherwise, and for JSON, the commonest input, both are skipped
    parsed, by_orjson = _parse_json(text, data)
    if parsed is not _NOT_JSON:
        if _is_search_json(parsed):
            return Detection("search", reason="JSON array of path/line matches")
        # handed on only as orjson read it: the JSON compressor knows what to check then
        value = parsed if by_orjson else None
        return Detection("json", reason="parses as JSON", value=value)
    sample = _sample(text)
    if "\x00" in sample:
        return Detection("binary", reason="NUL bytes")
    framed = _framed_json(text)
    if framed is not None:
        start, end, value = framed
        return Detection("json", reason="JSON framed by text", value=value, span=(start, end))
    tool_kind = _tool_hint(tool)
    path_kind = _kind_from_path(path)

    # a hunk header holds "@@ -": finding that is far cheaper than the line-anchored search
    if "@@ -" in sample and _HUNK.search(sample) and _DIFF_START.search(sample[:2000]):
        return Detection("diff", reason="diff headers and hunks")
    lines = _lines(sample)
    # the sample may end inside a line: a long JSON line cut there would not parse
    if _json_lines(lines if len(sample) == len(text) else lines[:-1]):
        if (
            _ratio(lines, re.compile(r'"(level|severity|timestamp|time|ts|@timestamp|msg)"\s*:'))
            > 0.6
        ):
            return Detection("log", reason="JSON lines log records")
        return Detection("json", reason="JSON lines")
    if path_kind == "code":
        return Detection("code", _guess(text, path, None), reason="file extension")
    if path_kind in ("diff", "json"):
        return Detection("text", reason=f"{path_kind} extension but content does not parse")

    search_ratio = _ratio(lines, _SEARCH_LINE)
    sep_ratio = _ratio(lines, _SEARCH_SEP)
    if search_ratio >= 0.8 or (
        search_ratio >= 0.5 and (tool_kind == "search" or search_ratio + sep_ratio >= 0.8)
    ):
        return Detection("search", reason=f"{search_ratio:.0%} path:line lines")

    log_ratio = _ratio(lines, _LOG_SIGNALS, window=80)
    code_ratio = _ratio(lines, _CODE_LINE)
    looks_like_log = (
        path_kind == "log" or log_ratio >= 0.6 or (tool_kind == "log" and log_ratio >= 0.3)
    )
    if looks_like_log and code_ratio < 0.5:
        return Detection("log", reason=f"{log_ratio:.0%} lines with timestamps/levels")

    lang_sample = sample[:_LANG_SAMPLE_CHARS]
    if code_ratio >= 0.12:
        scores = _language_scores(lang_sample)
        language = _guess(text, path, scores)
        strong = language is not None and scores.get(language, 0) >= 15
        if language and (code_ratio >= 0.25 or strong) and path_kind != "text":
            return Detection(
                "code", language, reason=f"{language} signals, {code_ratio:.0%} code-like lines"
            )
        python_signal = scores.get("python", 0) > 0
    else:
        # too few code-like lines for the rule above: only Python's patterns matter below
        # (all weights are positive, so one match is a score above 0)
        python_signal = any(
            p.search(lang_sample)
            for p, _, needs in _COMPILED_LANG["python"]
            if any(n in lang_sample for n in needs)
        )
    if python_signal and path_kind != "text" and _parses_as_python(text):
        # docstring-heavy modules have few code-like lines, but prose never compiles
        return Detection("code", "python", reason="python signals, compiles as a module")
    if tool_kind == "log" and log_ratio >= 0.2:
        return Detection("log", reason="log tool, some timestamps")
    return Detection("text", reason="no structured shape")

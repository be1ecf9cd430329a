"""Log events: lines grouped with their continuation lines, with severity and timestamp."""

from __future__ import annotations

import re
from typing import NamedTuple

#: A line that continues the event above it: indented (stack frames, wrapped messages),
#: Java ``at``/``Caused by``/``... N more``, or a closing brace of a multi-line dump.
_CONTINUATION = re.compile(r"^(?:[ \t]+\S|at [\w$.<>]+\(|Caused by:|\.\.\. \d+ more|[}\]]\s*$)")
_CONTINUATION_START = frozenset(" \taC.}]")
#: First characters of lines that may be more than a one-line event's head: continuation
#: lines, ``==> file <==`` headers and tracebacks (or any whitespace, see ``split_events``).
_SPECIAL_START = _CONTINUATION_START | {"=", "T"}
_TRACEBACK = re.compile(r"^\s*Traceback \(most recent call last\):")
#: Last line of a Python traceback: ``SomeError: message`` (or a bare exception name).
_EXC_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b")
_FILE_HEADER = re.compile(r"^==> .+ <==$")

_ERROR = re.compile(
    r"\b(?:ERROR|ERR|FATAL|CRITICAL|CRIT|SEVERE|PANIC|EMERG|ALERT|FAIL(?:ED|URE)?|"
    r"[Ee]rror|[Ee]xception|Traceback|[Ff]atal|[Pp]anic|[Ff]ail(?:ed|ure|s)?|"
    r"[Aa]bort(?:ed)?|[Ss]egmentation fault|[Cc]ore dumped|[Kk]illed|[Tt]imed? ?out|"
    r"[Rr]efused|[Dd]enied|[Uu]nexpected|HUNG|UNRESOLVED)\b"
)
_WARN = re.compile(r"\b(?:WARN(?:ING)?|[Ww]arn(?:ing)?|[Dd]eprecat\w*|[Rr]etry\w*|[Ii]nvalid)\b")
#: Android logcat level letters: ``03-17 16:13:38.811  1702  2395 E Tag:`` (threadtime)
#: and ``E/Tag( 123):`` (brief).
_LETTER_LEVEL = re.compile(
    r"^(?:[\d-]+ [\d:.]+\s+\d+\s+\d+\s+([VDIWEFA])\s|([VDIWEFA])/[^(:\s]+\(\s*\d+\):)"
)
#: Cheap substring screen before the severity regexes (most lines contain none of these).
_SCREEN = (
    "err",
    "fatal",
    "crit",
    "severe",
    "panic",
    "emerg",
    "alert",
    "fail",
    "exception",
    "traceback",
    "abort",
    "segmentation",
    "core dumped",
    "killed",
    "time",
    "refused",
    "denied",
    "unexpected",
    "hung",
    "unresolved",
    "warn",
    "deprecat",
    "retr",
    "invalid",
)

#: A leading test result: DejaGnu ``FAIL: name``, TAP ``not ok 3 - name``, go test
#: ``--- FAIL: TestX`` (the line's first word, after go's ``--- ``).
_RESULT = re.compile(
    r"^(?:--- )?(PASS|FAIL|XPASS|XFAIL|KPASS|KFAIL|UNSUPPORTED|UNRESOLVED|UNTESTED|ERROR|SKIP)"
    r":\s|^(not ok|ok)\s+\d+\b",
    re.IGNORECASE,
)
_RESULT_START = frozenset("-PFXKUESnoOpfxkuesN")
_RESULT_ERROR = frozenset({"FAIL", "XPASS", "KPASS", "UNRESOLVED", "ERROR", "NOT OK"})
_RESULT_WARN = frozenset({"UNTESTED"})

_TIMESTAMP = re.compile(
    r"\d{4}-\d\d-\d\d[T -]\d\d[:.]\d\d[:.]\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?"
    r"|\d\d/\d\d/\d\d(?:\d\d)? \d\d:\d\d:\d\d(?:[.,]\d+)?"
    r"|\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?"
    r"|[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d"
    r"|\b\d{6} \d{6}\b"
    r"|\b1\d{9}(?:\.\d+)?\b"
    r"|\b\d\d:\d\d:\d\d(?:[.,]\d+)?\b"
)


class LogEvent(NamedTuple):
    """Lines ``first..last`` (inclusive) of the input; ``severity`` 2 error, 1 warning, 0 other.

    A named tuple: a log has one per line or so, and a tuple is built several times faster
    than a frozen dataclass.
    """

    first: int
    last: int
    severity: int
    header: bool = False  # a ``==> file <==`` separator of concatenated logs

    @property
    def size(self) -> int:
        return self.last - self.first + 1


def letter_severity(line: str) -> int:
    """Severity from a logcat level letter (``E``/``F``/``A`` 2, ``W`` 1), else 0."""
    m = _LETTER_LEVEL.match(line)
    if m:
        letter = m.group(1) or m.group(2)
        if letter in "EFA":
            return 2
        if letter == "W":
            return 1
    return 0


def severity(line: str) -> int:
    """2 for errors/failures/exceptions, 1 for warnings, 0 otherwise."""
    return max(letter_severity(line), word_severity(line))


def result_severity(line: str) -> int | None:
    """Severity from a test result word leading the line (DejaGnu, TAP, go test), else None.

    Such a line names its test after the result word, and a test name may contain any word
    ("PASS: ... internal compiler error"): the result word alone decides.
    """
    m = _RESULT.match(line)
    if m is None:
        return None
    word = (m.group(1) or m.group(2)).upper()
    if word in _RESULT_ERROR:
        return 2
    return 1 if word in _RESULT_WARN else 0


def word_severity(line: str) -> int:
    """Severity from level and outcome words (``ERROR``, ``failed``, ``WARN``...)."""
    if line[:1] in _RESULT_START:
        result = result_severity(line)
        if result is not None:
            return result
    low = line.lower()
    if not any(map(low.__contains__, _SCREEN)):
        return 0
    if _ERROR.search(line):
        return 2
    if _WARN.search(line):
        return 1
    return 0


def split_events(lines: list[str], *, rate_lines: bool = True) -> list[LogEvent]:
    """Group lines into events: a line plus its continuation lines (stack traces).

    With ``rate_lines=False`` an event's severity only reflects its traceback or
    continuation lines; callers that rate head lines another way (once per template) skip
    the per-line check.
    """
    events: list[LogEvent] = []
    i, n = 0, len(lines)
    # a line not starting like a continuation, header or traceback, followed by another
    # such line, is an event of its own: runs of them are taken without the checks below
    special = [j for j, ln in enumerate(lines) if ln[:1] in _SPECIAL_START or ln[:1].isspace()]
    special.append(n)
    k = 0
    while i < n:
        while special[k] < i:
            k += 1
        if special[k] > i + 1:
            stop = special[k] - 1
            if rate_lines:
                events.extend(LogEvent(j, j, severity(lines[j])) for j in range(i, stop))
            else:
                events.extend(LogEvent(j, j, 0) for j in range(i, stop))
            i = stop
        line = lines[i]
        if line.startswith("==> ") and _FILE_HEADER.match(line):
            events.append(LogEvent(i, i, 0, header=True))
            i += 1
            continue
        first, sev = i, severity(line) if rate_lines else 0
        if "Traceback" in line and _TRACEBACK.match(line):
            sev = 2
            i += 1
            while i < n and lines[i][:1] in (" ", "\t"):
                i += 1
            if i < n and _EXC_LINE.match(lines[i]):
                i += 1
            events.append(LogEvent(first, i - 1, sev))
            continue
        i += 1
        while i < n and lines[i][:1] in _CONTINUATION_START and _CONTINUATION.match(lines[i]):
            if sev < 2 and ("Exception" in lines[i] or "Error" in lines[i]):
                sev = 2
            i += 1
        events.append(LogEvent(first, i - 1, sev))
    return events


def timestamp(line: str) -> str | None:
    """The first timestamp in the head of ``line``, as written."""
    m = _TIMESTAMP.search(line, 0, 80)
    return m.group(0) if m else None

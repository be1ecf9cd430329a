"""The one marker grammar for everything headroom leaves out.

A marker stands where content was removed and says what and how much::

    [headroom: 412 lines omitted (INFO heartbeat x412); ref=hr_4kq2m7x9c3v5b8n6z1aa]

``MARKER_RE`` finds every marker in any output (code comments, JSON strings, log lines).
The detail never contains brackets, parentheses, quotes, backslashes or newlines, so a
marker is safe inside a JSON string and on a single line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REF_PREFIX = "hr_"
REF_BODY_LEN = 20  # base32 characters: 100 bits
REF_PATTERN = rf"{REF_PREFIX}[a-z2-7]{{{REF_BODY_LEN}}}"
REF_RE = re.compile(REF_PATTERN)

MARKER_RE = re.compile(
    r"\[headroom: (?P<count>\d+) (?P<unit>[a-z][a-z -]*?) omitted"
    r"(?: \((?P<detail>[^()\[\]\"\\\n]*)\))?; ref=(?P<ref>" + REF_PATTERN + r")\]"
)

_DETAIL_FORBIDDEN = re.compile(r"[()\[\]\"\\\n\r]")
_UNIT = re.compile(r"[a-z][a-z -]*")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Marker:
    """A parsed marker."""

    count: int
    unit: str
    ref: str
    detail: str | None = None


def format_marker(count: int, unit: str, ref: str, detail: str | None = None) -> str:
    """Render a marker; ``unit`` is a plural noun such as ``lines`` or ``rows``."""
    if count < 0:
        raise ValueError("marker count must be >= 0")
    if unit not in _UNITS_SEEN:
        if _UNIT.fullmatch(unit) is None:
            raise ValueError(f"marker unit must be lowercase words, got {unit!r}")
        if len(_UNITS_SEEN) < 256:
            _UNITS_SEEN.add(unit)
    text = f"[headroom: {count} {unit} omitted"
    if detail:
        if _plain_detail(detail):  # most details ("of 1234"): nothing to clean
            clean = detail[:160]
        else:
            clean = _SPACES.sub(" ", _DETAIL_FORBIDDEN.sub(" ", detail).strip())[:160]
        if clean:
            text += f" ({clean})"
    return f"{text}; ref={ref}]"


#: Units already checked against ``_UNIT`` (a few nouns come back all the time).
_UNITS_SEEN: set[str] = set()


def _plain_detail(detail: str) -> bool:
    """True if cleaning would leave ``detail`` as it is: letters and digits, single spaces
    between them (no forbidden character, no other whitespace, nothing to strip)."""
    return (
        detail.replace(" ", "").isalnum()
        and "  " not in detail
        and detail[0] != " "
        and detail[-1] != " "
    )


def find_markers(text: str) -> list[Marker]:
    """Every marker in ``text``, in order."""
    return [
        Marker(int(m["count"]), m["unit"], m["ref"], m["detail"]) for m in MARKER_RE.finditer(text)
    ]

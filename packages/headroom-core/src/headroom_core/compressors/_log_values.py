"""Values a query asks about (addresses, user names), listed in the markers of dropped lines.

Each value is listed once per output, in the first marker whose lines hold it.

"Which hosts failed to log in" is answered by the addresses of the dropped lines even when
the lines themselves do not fit: an address costs a few tokens, its line dozens.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_IP = re.compile(r"(?<![\w.:])(\d{1,3}(?:\.\d{1,3}){3})(?![\w.])")
_USER = re.compile(
    r"\bfor (?:invalid user |illegal user )?([\w.@+-]+) from\b|\b[Uu]ser[= ]<?([\w.@+-]+)>?"
)
#: Query words that ask for each kind of value.
_ASKS = (
    (
        "IPs",
        re.compile(
            r"\b(?:ips?|addresse?s?|hosts?|clients?|remotes?|sources?|peers?|offend\w*|"
            r"ban\w*|attack\w*|origins?)\b",
            re.IGNORECASE,
        ),
        _IP,
    ),
    ("users", re.compile(r"\b(?:users?|usernames?|accounts?|logins?)\b", re.IGNORECASE), _USER),
)
_NOT_USERS = frozenset({"from", "invalid", "illegal", "unknown"})
#: Characters of values one marker lists (the marker grammar keeps 160 of its detail).
PER_MARKER = 110


def wanted(query: str | None) -> list[tuple[str, re.Pattern[str]]]:
    """The kinds of values ``query`` asks for, as (label, pattern) pairs."""
    if not query:
        return []
    return [(label, pattern) for label, ask, pattern in _ASKS if ask.search(query)]


def _values(head: str, kinds: Sequence[tuple[str, re.Pattern[str]]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for label, pattern in kinds:
        for m in pattern.finditer(head):
            value = next((g for g in m.groups() if g), "")
            if value and value not in _NOT_USERS:
                out.append((label, value))
    return out


def _text(listed: dict[str, dict[str, None]], more: int) -> str:
    parts = [f"{label} {' '.join(values)}" for label, values in listed.items() if values]
    if more:
        parts.append(f"{more} more values")
    return ", ".join(parts)


class ValueLister:
    """Lists the values ``kinds`` in the markers of one output: each value once (where it is
    first dropped), within ``room`` characters for the whole output."""

    def __init__(self, kinds: Sequence[tuple[str, re.Pattern[str]]], room: int) -> None:
        self.kinds, self.room = kinds, room
        self._shown: set[str] = set()

    def runs(self, heads: Sequence[str]) -> list[tuple[int, str]]:
        """``heads`` cut into consecutive runs whose new values fit one marker each.

        Returns (number of heads, values text) per run; once the room is spent, the rest of
        ``heads`` is one last run that only counts the values it does not list.
        """
        runs: list[tuple[int, str]] = []
        start = 0
        listed: dict[str, dict[str, None]] = {}
        used = 0
        for k, head in enumerate(heads):
            new = [
                lv for lv in dict.fromkeys(_values(head, self.kinds)) if lv[1] not in self._shown
            ]
            cost = sum(len(v) + 1 for _, v in new)
            if cost > self.room:
                rest = {v for h in heads[k:] for _, v in _values(h, self.kinds)} - self._shown
                runs.append((len(heads) - start, _text(listed, len(rest))))
                return runs
            if used + cost > PER_MARKER and k > start:
                runs.append((k - start, _text(listed, 0)))
                start, listed, used = k, {}, 0
            for label, v in new:
                listed.setdefault(label, {})[v] = None
                self._shown.add(v)
            used += cost
            self.room -= cost
        runs.append((len(heads) - start, _text(listed, 0)))
        return runs

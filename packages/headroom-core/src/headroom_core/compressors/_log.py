"""Log compressor: mine line templates, keep what is unusual, collapse the repeats.

Kept events (a line with its continuation lines, so a stack trace is kept whole) stay
verbatim and in order. A template with kept and dropped events gets one marker after its
first kept event, carrying the count, the time span and a summary of the values that vary
("x412 in all, 08:52:01 - 09:14:33, 411 distinct blk_*"); a run of dropped events whose
templates have nothing kept becomes one marker in place. What is kept, best first, within
``ctx.budget`` (rare events may stretch it by ``RARE_OVERFLOW``):

1. the first and last event and ``==> file <==`` headers (always);
2. events of rare templates (the anomalies), then the first event of every other template,
   errors before warnings before the rest, query matches first within each group;
3. further events of frequent templates: errors, warnings and query matches first, spread
   over templates (a template's k-th event ranks below another's first).

Rare means at most ``RARE_MAX`` events, or failed test results (``FAIL: name``) that are a
small share of the log. A log made mostly of rare lines (an auth log mixing daemons and
formats) has little to collapse: it may stretch the budget further, and when the query asks
for addresses or users, its markers list those values of the lines they stand for.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import ClassVar

from .._relevance import bm25_scores
from ._base import CompressContext, CompressorResult
from ._log_events import (
    LogEvent,
    letter_severity,
    result_severity,
    split_events,
    timestamp,
    word_severity,
)
from ._log_templates import WILDCARD, LogTemplateMiner, MinedLog, mask_line
from ._log_values import ValueLister, wanted

#: Templates with at most this many events are rare: all their events are candidates for
#: keeping ahead of the repeats of common templates (loghub's anomalies are mostly 1-3x).
RARE_MAX = 3
#: Failed test results (``FAIL: name``) are rare too while together they are at most this
#: share of the events: each of them names another test, unlike a repeated error.
RARE_FAILED_SHARE = 0.05
#: Rare events may take the output this far over ``ctx.budget`` (they are the anomalies a
#: reader looks for); a log with few of them stays within the budget.
RARE_OVERFLOW = 1.4
#: Share of the output that markers may spend listing values the query asks for (the
#: addresses of dropped lines when it asks which hosts) in a log made mostly of rare lines,
#: where lines cannot be collapsed; an address is ~2 characters a token.
VALUE_SHARE = 0.4
_VALUE_CHARS_PER_TOKEN = 2
#: Added to ``RARE_OVERFLOW`` as the rare events' share of the log grows from half to all.
RARE_SHARE_OVERFLOW = 2.0
#: Query words that look like values (ids, IPs, paths, numbers): matched literally in lines.
_QUERY_VALUE = re.compile(r"[\w./:@-]*\d[\w./:@-]*|[\w.-]*[/_][\w./-]+")
_VALUE_POSITIONS = 1  # varying fields described per marker
#: Dropped events read to describe varying values ("212 distinct blk_*" counts these).
_VALUE_SAMPLE = 1000


class LogCompressor:
    kind: ClassVar[str] = "log"

    def compress(self, text: str, ctx: CompressContext) -> CompressorResult:
        trailing = text.endswith("\n")
        lines = (text[:-1] if trailing else text).split("\n")
        events = split_events(lines, rate_lines=False)
        if len(events) < 3:
            return CompressorResult(text, ("log: too few events to compress",))
        mined = LogTemplateMiner().mine([lines[e.first] for e in events])
        planner = _Planner(lines, events, mined, ctx)
        plan, out = planner.fit()
        kept_lines = sum(events[i].size for i in plan)
        notes = (
            f"log: {len(mined.templates)} templates in {len(events)} events; "
            f"kept {kept_lines} of {len(lines)} lines",
        )
        return CompressorResult(out + ("\n" if trailing else ""), notes)


class _Planner:
    """Chooses the events to keep so that the rendered output fits ``ctx.budget``.

    Costs are estimated per character (from the input's own token count), so choosing is
    cheap; a template with kept and dropped events costs one summary marker, and dropped
    events of templates with nothing kept share one marker per gap. Gaps are only known
    once a choice is made, so ``fit`` renders, counts, and adjusts the budget a few times.
    """

    def __init__(
        self,
        lines: Sequence[str],
        events: Sequence[LogEvent],
        mined: MinedLog,
        ctx: CompressContext,
    ) -> None:
        self.lines, self.events, self.mined, self.ctx = lines, events, mined, ctx
        per_char = ctx.original_tokens / (sum(len(ln) + 1 for ln in lines) or 1)
        self.costs = [
            sum(len(lines[j]) + 1 for j in range(e.first, e.last + 1)) * per_char for e in events
        ]
        self.marker_cost = float(
            ctx.count_tokens(ctx.marker(999, "lines", "x1000 in all, 00:00:00 - 00:00:00"))
        )
        self.priorities = _priorities(lines, events, mined, self.costs, ctx.query)
        self._allowance_share = 1.0
        self._event_tokens: dict[int, int] = {}
        self._mostly_rare = False  # set by _target

    def _absorb_cheap_omissions(self, keep: set[int]) -> None:
        """Keep dropped events wherever their lines cost no more than the marker they need."""
        represented = {self.mined.assignment[i] for i in keep}
        for t in represented:
            dropped = [i for i in self.mined.templates[t].members if i not in keep]
            if dropped and sum(self.costs[i] for i in dropped) <= self.marker_cost:
                keep.update(dropped)
        gap: list[int] = []
        for i in range(len(self.events) + 1):
            if i < len(self.events) and i not in keep:
                if self.mined.assignment[i] not in represented:
                    gap.append(i)
                continue
            if gap and sum(self.costs[j] for j in gap) <= self.marker_cost:
                keep.update(gap)
            gap = []

    def _estimate(self, keep: set[int]) -> float:
        """Estimated output tokens: kept events plus one marker per summary and per gap."""
        assignment = self.mined.assignment
        kept_per_template = Counter(assignment[i] for i in keep)
        markers = sum(1 for t, k in kept_per_template.items() if k < self.mined.templates[t].count)
        in_gap = False
        total = 0.0
        for i in range(len(self.events)):
            if i in keep:
                total += self.costs[i]
                in_gap = False
            elif assignment[i] not in kept_per_template and not in_gap:
                markers += 1
                in_gap = True
        return total + markers * self.marker_cost

    def _choose(self, target: float) -> set[int]:
        """The largest selection whose estimate fits ``target`` (a few refits)."""
        # gap markers make the estimate exceed the allowance by a similar share each time
        allowance = target * self._allowance_share
        best: set[int] | None = None
        for _ in range(5):
            keep = _select(
                self.events, self.mined, self.costs, self.priorities, self.marker_cost, allowance
            )
            self._absorb_cheap_omissions(keep)
            used = self._estimate(keep)
            if used <= target:
                if best is None or len(keep) > len(best):
                    best = keep
                if target - used < 0.02 * target:
                    self._allowance_share = allowance / target
                    break
                allowance += (target - used) * 0.8
            else:
                allowance -= max(used - target, 0.03 * target)
        return best if best is not None else keep

    def _target(self) -> float:
        """The budget, stretched (up to ``RARE_OVERFLOW``) by what the rare events cost."""
        budget = float(self.ctx.budget)
        cap = self.ctx.config.max_output_tokens
        if cap is not None and budget >= cap:
            return budget  # a hard cap is never stretched
        rare_ids = _rare_templates(self.mined, len(self.events))
        rare = sum(self.costs[i] for t in rare_ids for i in self.mined.templates[t].members)
        # a log made mostly of one-off lines has little to collapse: it may stretch further
        share = rare / (sum(self.costs) or 1.0)
        self._mostly_rare = share >= 0.5
        overflow = RARE_OVERFLOW + RARE_SHARE_OVERFLOW * max(0.0, 2 * share - 1)
        return min(budget * overflow, max(budget, rare + 0.5 * budget))

    def _count(self, keep: set[int], markers: list[str]) -> int:
        """Tokens of a rendering: its kept events (each counted once) and its markers.

        Lines are counted apart and joined by one newline token each, which is how cl100k
        splits them in all but rare cases (an indented line after a newline can merge).
        """
        total = 0
        cache = self._event_tokens
        for i in keep:
            n = cache.get(i)
            if n is None:
                e = self.events[i]
                n = cache[i] = sum(
                    self.ctx.count_tokens(self.lines[j]) + 1 for j in range(e.first, e.last + 1)
                )
            total += n
        return total + sum(self.ctx.count_tokens(m) + 1 for m in markers)

    def fit(self) -> tuple[set[int], str]:
        target = self._target()
        scaled = target
        best: tuple[int, set[int], str] | None = None
        smallest: tuple[int, set[int], str] | None = None
        # estimates are per character: correct them by the exact count of the rendering
        for _ in range(3):
            keep = self._choose(scaled)
            room = int(VALUE_SHARE * _VALUE_CHARS_PER_TOKEN * target) if self._mostly_rare else 0
            out, markers = _render(self.lines, self.events, self.mined, keep, self.ctx, room)
            used = self._count(keep, markers)
            if smallest is None or used < smallest[0]:
                smallest = (used, keep, out)
            if used <= target and (best is None or used > best[0]):
                best = (used, keep, out)
            if target * 0.97 <= used <= target:
                break
            scaled *= target / max(used, 1) * (0.99 if used > target else 1.0)
        chosen = best or smallest
        assert chosen is not None
        return chosen[1], chosen[2]


def _priorities(
    lines: Sequence[str],
    events: Sequence[LogEvent],
    mined: MinedLog,
    costs: Sequence[float],
    query: str | None,
) -> list[tuple[float, int]]:
    """(priority, event index) for every event, best first."""
    query_bonus = _query_bonus(lines, events, mined, query)
    rated = _template_severities(lines, events, mined)
    typical = sorted(costs)[len(costs) // 2] or 1.0
    rare_templates = _rare_templates(mined, len(events))
    ranked: list[tuple[float, int]] = []
    for template in mined.templates:
        rare = template.id in rare_templates
        for rank, i in enumerate(template.members):
            if i == 0 or i == len(events) - 1 or events[i].header:
                base = 1000.0
            elif rare:
                base = 100.0
            elif rank == 0:
                base = 60.0
            else:
                base = -10.0 * math.log2(rank + 1)
            # a long line must be worth more: two short rare lines beat one long one
            size = 8.0 * math.log2(max(costs[i], 1.0) / typical)
            sev = max(rated[template.id], events[i].severity)
            ranked.append((base + 15.0 * sev + query_bonus[i] - size, i))
    ranked.sort(key=lambda pi: (-pi[0], pi[1]))
    return ranked


def _template_severities(
    lines: Sequence[str], events: Sequence[LogEvent], mined: MinedLog
) -> list[int]:
    """Per template, the severity its words rate (lines with different level or outcome
    words never share a template, so the words a template's lines share rate all of them)."""
    return [
        max(word_severity(t.text), letter_severity(lines[events[t.members[0]].first]))
        for t in mined.templates
    ]


def _rare_templates(mined: MinedLog, n_events: int) -> set[int]:
    """Templates whose events are all anomalies: a few events, or a small share of failed
    test results."""
    rare = {t.id for t in mined.templates if t.count <= RARE_MAX}
    failed = {t.id for t in mined.templates if result_severity(t.text) == 2}
    if sum(mined.templates[t].count for t in failed) <= RARE_FAILED_SHARE * n_events:
        rare |= failed
    return rare


def _select(
    events: Sequence[LogEvent],
    mined: MinedLog,
    costs: Sequence[float],
    priorities: Sequence[tuple[float, int]],
    marker_cost: float,
    budget: float,
) -> set[int]:
    kept_per_template = [0] * len(mined.templates)
    counts = [len(t.members) for t in mined.templates]
    assignment = mined.assignment
    keep: set[int] = set()
    used = 0.0
    for priority, i in priorities:
        t = assignment[i]
        count = counts[t]
        kept = kept_per_template[t]
        cost = costs[i]
        if kept == 0 and count > 1:
            cost += marker_cost  # the template's summary marker
        elif kept + 1 == count and count > 1:
            cost -= marker_cost  # the template becomes whole: its marker goes
        if used + cost > budget and priority < 1000.0:
            continue
        keep.add(i)
        kept_per_template[t] = kept + 1
        used += cost
    return keep


def _query_bonus(
    lines: Sequence[str], events: Sequence[LogEvent], mined: MinedLog, query: str | None
) -> list[float]:
    """Per event: up to 40 for a literal value of the query, up to 20 for BM25 on its template."""
    bonus = [0.0] * len(events)
    if not query or not query.strip():
        return bonus
    scores = bm25_scores([_MASKED.sub(" ", t.text) for t in mined.templates], query)
    top = max(scores, default=0.0)
    if top > 0:
        for i, t in enumerate(mined.assignment):
            bonus[i] = 20.0 * scores[t] / top
    values = {v.strip(".:,/-") for v in _QUERY_VALUE.findall(query)}
    values = {v for v in values if len(v) >= 4}
    if values:
        for i, e in enumerate(events):
            head = lines[e.first]
            if any(v in head for v in values):
                bonus[i] += 40.0
    return bonus


def _render(
    lines: Sequence[str],
    events: Sequence[LogEvent],
    mined: MinedLog,
    keep: set[int],
    ctx: CompressContext,
    value_room: int = 0,
) -> tuple[str, list[str]]:
    """The output text and the markers in it (``value_room``: characters of values the
    query asks for that markers may list)."""
    kinds = wanted(ctx.query) if value_room > 0 else []
    room = ValueLister(kinds, value_room) if kinds else None
    by_template: dict[int, list[int]] = {}
    for i, t in enumerate(mined.assignment):
        by_template.setdefault(t, []).append(i)
    summary_after: dict[int, int] = {}  # kept event -> template summarised after it
    represented: set[int] = set()
    for t, members in by_template.items():
        kept = [i for i in members if i in keep]
        if kept:
            represented.add(t)
            if len(kept) < len(members):
                summary_after[kept[0]] = t
    out: list[str] = []
    markers: list[str] = []
    gap: list[int] = []
    for i, e in enumerate(events):
        if i not in keep:
            if mined.assignment[i] not in represented:
                gap.append(i)
            continue
        if gap:
            new = _gap_markers(lines, events, mined, gap, ctx, room)
            markers.extend(new)
            out.extend(new)
            gap = []
        out.extend(lines[e.first : e.last + 1])
        if i in summary_after:
            t = summary_after[i]
            dropped = [j for j in by_template[t] if j not in keep]
            new = _summary_markers(lines, events, mined, t, dropped, ctx, room)
            markers.extend(new)
            out.extend(new)
    if gap:
        new = _gap_markers(lines, events, mined, gap, ctx, room)
        markers.extend(new)
        out.extend(new)
    return "\n".join(out), markers


def _summary_markers(
    lines: Sequence[str],
    events: Sequence[LogEvent],
    mined: MinedLog,
    template: int,
    dropped: Sequence[int],
    ctx: CompressContext,
    room: ValueLister | None,
) -> list[str]:
    """One marker for a template's dropped events; more when they list asked-for values."""
    heads = [lines[events[j].first] for j in dropped[:_VALUE_SAMPLE]]
    if len(dropped) > _VALUE_SAMPLE:
        heads.append(lines[events[dropped[-1]].first])
    parts = [f"x{mined.templates[template].count} in all"]
    parts.extend(_span(heads))
    runs = _value_runs(heads, dropped, room)
    if runs is None:
        asked = any(label == "IPs" for label, _ in wanted(ctx.query))
        parts.extend(_varying(heads, mined.templates[template].tokens, addresses=asked))
        n_lines = sum(events[j].size for j in dropped)
        return [ctx.marker(n_lines, "lines", ", ".join(parts))]
    out: list[str] = []
    for run, values in runs:
        detail = ", ".join([*parts, values] if not out else [values])
        out.append(ctx.marker(sum(events[j].size for j in run), "lines", detail))
    return out


def _gap_markers(
    lines: Sequence[str],
    events: Sequence[LogEvent],
    mined: MinedLog,
    gap: Sequence[int],
    ctx: CompressContext,
    room: ValueLister | None,
) -> list[str]:
    """One marker for a run of dropped events; more when they list asked-for values."""
    runs = _value_runs([lines[events[i].first] for i in gap], gap, room)
    out: list[str] = []
    for run, values in runs or [(list(gap), "")]:
        per_template = Counter(mined.assignment[i] for i in run)
        # no time span: the kept lines around a gap already show when it was
        parts = [f"{len(per_template)} templates"] if len(per_template) > 1 else []
        if len(per_template) == 1:
            parts.append(_shape(mined.templates[next(iter(per_template))].tokens))
        if values:
            parts.append(values)
        n_lines = sum(events[i].size for i in run)
        out.append(ctx.marker(n_lines, "lines", ", ".join(parts)))
    return out


def _value_runs(
    heads: Sequence[str], members: Sequence[int], room: ValueLister | None
) -> list[tuple[list[int], str]] | None:
    """``members`` (whose head lines are ``heads``) cut into runs listing the values the
    query asks for; ``None`` when it asks for none or none are found."""
    if room is None or room.room <= 0:
        return None
    runs = room.runs(heads)
    if len(runs) == 1 and not runs[0][1]:
        return None
    out: list[tuple[list[int], str]] = []
    at = 0
    for k, (size, values) in enumerate(runs):
        end = len(members) if k == len(runs) - 1 else at + size
        out.append((list(members[at:end]), values))
        at = end
    return out


def _span(heads: Sequence[str]) -> list[str]:
    first, last = timestamp(heads[0]), timestamp(heads[-1])
    if not first or not last:
        return []
    first, last = _FRACTION.sub("", first), _FRACTION.sub("", last)
    if first == last:
        return [first]
    # "2015-10-18 18:01:48 - 18:04:10": the end without the date they share
    shared = next(
        (k for k, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), len(last)
    )
    cut = last.rfind(" ", 0, shared + 1)
    return [f"{first} - {last[cut + 1 :]}"]


_FRACTION = re.compile(r"[.,]\d+$")
_LETTERS = re.compile(r"[A-Za-z]{2}")
_MASKED = re.compile(r"<(?:n|hex|ip|\*)>")


def _shape(tokens: Sequence[str]) -> str:
    """A template's message, short: the part after its header (``tag: message``)."""
    text = _MASKED.sub("*", " ".join(tokens))
    cut = text.find(": ")
    if cut > 0 and len(text) - cut > 12:
        text = text[cut + 2 :]
    return text[:40].strip()


def _varying(heads: Sequence[str], tokens: Sequence[str], *, addresses: bool = False) -> list[str]:
    """Short descriptions of the fields that vary among ``heads``; with ``addresses`` (the
    query asks for them) a field holding IP addresses comes first."""
    split = [h.split() for h in heads]
    split = [s for s in split if len(s) == len(tokens)]
    if len(split) < 2:
        return []
    fields: list[tuple[bool, int, str]] = []
    for p, tok in enumerate(tokens):
        if tok != WILDCARD and "<" not in tok:
            continue
        masked = mask_line(split[0][p]) if tok == WILDCARD else tok
        is_ip = addresses and "<ip>" in masked
        shape = "IPs" if is_ip else _MASKED.sub("*", masked)
        # dates, counters, bare numbers: the span says enough
        if is_ip or _LETTERS.search(shape):
            fields.append((not is_ip, p, shape))
    out: list[str] = []
    for _, p, shape in sorted(fields):
        values = {s[p] for s in split}
        if len(values) < 2:
            continue
        if len(values) <= 3 and all(len(v) <= 24 for v in values):
            out.append("|".join(sorted(values)))
        else:
            out.append(f"{len(values)} distinct {shape[:32]}")
        if len(out) >= _VALUE_POSITIONS:
            break
    return out

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
from collections.abc import Iterable, Sequence
from typing import ClassVar

from .._relevance import bm25_scores, term_counts
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
        planner = _Planner(lines, events, mined, ctx, trailing=trailing)
        plan, out = planner.fit()
        kept_lines = sum(events[i].size for i in plan)
        notes = (
            f"log: {len(mined.templates)} templates in {len(events)} events; "
            f"kept {kept_lines} of {len(lines)} lines",
        )
        return CompressorResult(out, notes)


class _Planner:
    """Chooses the events to keep so that the rendered output fits ``ctx.budget``.

    Costs are estimated per character (from the input's own token count), so choosing is
    cheap; a template with kept and dropped events costs one summary marker, and dropped
    events of templates with nothing kept share one marker per gap. Gaps are only known
    once a choice is made, so ``fit`` renders, counts, and adjusts the budget a few times.

    Selections are handled as sorted event indices: the work per estimate or rendering
    grows with the kept events and the dropped events of templates with nothing kept,
    not with the whole log, and markers are rendered once per distinct set of dropped
    events (when they list no values, a marker depends on nothing else).
    """

    def __init__(
        self,
        lines: Sequence[str],
        events: Sequence[LogEvent],
        mined: MinedLog,
        ctx: CompressContext,
        *,
        trailing: bool = False,
    ) -> None:
        self.lines, self.events, self.mined, self.ctx = lines, events, mined, ctx
        self.trailing = trailing
        per_char = ctx.original_tokens / ((sum(map(len, lines)) + len(lines)) or 1)
        self.costs = [
            (
                len(lines[e.first]) + 1
                if e.first == e.last
                else sum(map(len, lines[e.first : e.last + 1])) + e.last - e.first + 1
            )
            * per_char
            for e in events
        ]
        self.marker_cost = float(
            ctx.count_tokens(ctx.marker(999, "lines", "x1000 in all, 00:00:00 - 00:00:00"))
        )
        self.priorities = _priorities(lines, events, mined, self.costs, ctx.query)
        self.members = [t.members for t in mined.templates]
        self.counts = [len(m) for m in self.members]
        self.rows = _select_rows(mined, self.costs, self.priorities)
        self.template_costs = [sum(map(self.costs.__getitem__, m)) for m in self.members]
        self.asked_ips = any(label == "IPs" for label, _ in wanted(ctx.query))
        self._allowance_share = 1.0
        self._mostly_rare = False  # set by _target
        self._summaries: dict[tuple[int, tuple[int, ...]], list[str]] = {}
        self._gaps: dict[tuple[int, ...], list[str]] = {}
        self._event_tokens: dict[int, int] = {}
        self._marker_tokens: dict[str, int] = {}

    def _kept_by_template(self, kept: Sequence[int]) -> dict[int, list[int]]:
        """The kept events (ascending) of each template that has any."""
        assignment = self.mined.assignment
        out: dict[int, list[int]] = {}
        for i in kept:
            t = assignment[i]
            group = out.get(t)
            if group is None:
                out[t] = [i]
            else:
                group.append(i)
        return out

    def _gap_flags(self, kept: Sequence[int], represented: Iterable[int]) -> bytearray:
        """Per event: 2 kept, 1 dropped from a template with nothing kept (the
        ``represented`` templates have some), 0 dropped from another. A gap, which becomes
        one marker, is a run of 1s that no 2 interrupts."""
        table = bytearray(b"\x01") * len(self.members)
        for t in represented:
            table[t] = 0
        flags = bytearray(map(table.__getitem__, self.mined.assignment))
        for i in kept:
            flags[i] = 2
        return flags

    def _gaps_of(
        self, kept: Sequence[int], represented: Iterable[int]
    ) -> tuple[bytearray, list[tuple[int, int]]]:
        """The flags of ``_gap_flags`` and the spans of the gaps."""
        flags = self._gap_flags(kept, represented)
        return flags, [m.span() for m in _GAP_RUN.finditer(flags)]

    def _absorb_cheap_omissions(self, keep: set[int]) -> None:
        """Keep dropped events wherever their lines cost no more than the marker they need."""
        costs, marker_cost = self.costs, self.marker_cost
        by_template = self._kept_by_template(sorted(keep))
        for t, kept in by_template.items():
            members = self.members[t]
            if len(kept) == len(members):
                continue
            # the dropped cost by difference first: exact sums only near the marker cost
            whole = self.template_costs[t]
            if whole - sum(map(costs.__getitem__, kept)) > marker_cost + 1e-9 * whole + 1e-9:
                continue
            dropped = [i for i in members if i not in keep]
            if sum(map(costs.__getitem__, dropped)) <= marker_cost:
                keep.update(dropped)
        flags, spans = self._gaps_of(sorted(keep), by_template)
        over = marker_cost * (1 + 1e-9) + 1e-9  # a partial sum past this settles it
        for start, end in spans:
            partial = 0.0
            for j in range(start, end):
                if flags[j] == 1:
                    partial += costs[j]
                    if partial > over:
                        break
            else:
                run = _gap_run(flags, start, end)
                if sum(map(costs.__getitem__, run)) <= marker_cost:
                    keep.update(run)

    def _estimate(self, keep: set[int]) -> float:
        """Estimated output tokens: kept events plus one marker per summary and per gap."""
        kept = sorted(keep)
        by_template = self._kept_by_template(kept)
        members = self.members
        markers = sum(1 for t, k in by_template.items() if len(k) < len(members[t]))
        flags = self._gap_flags(kept, by_template).translate(None, b"\x00")
        markers += flags.count(b"\x02\x01") + flags.startswith(b"\x01")  # gaps
        costs = self.costs
        total = 0.0
        for i in kept:
            total += costs[i]
        return total + markers * self.marker_cost

    def _choose(self, target: float) -> set[int]:
        """The largest selection whose estimate fits ``target`` (a few refits)."""
        # gap markers make the estimate exceed the allowance by a similar share each time
        allowance = target * self._allowance_share
        best: set[int] | None = None
        for _ in range(5):
            keep = _select(self.rows, self.counts, self.marker_cost, allowance)
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

    def _render(self, keep: set[int], value_room: int = 0) -> tuple[str, int]:
        """The output text and its tokens as ``_count`` estimates them (``value_room``:
        characters of values the query asks for that markers may list)."""
        lines, events = self.lines, self.events
        kinds = wanted(self.ctx.query) if value_room > 0 else []
        room = ValueLister(kinds, value_room) if kinds else None
        kept = sorted(keep)
        by_template = self._kept_by_template(kept)
        summary_after: dict[int, int] = {}  # kept event -> template summarised after it
        for t, group in by_template.items():
            if len(group) < len(self.members[t]):
                summary_after[group[0]] = t
        flags, spans = self._gaps_of(kept, by_template)
        gaps = [_gap_run(flags, start, end) for start, end in spans]
        out: list[str] = []
        markers: list[str] = []
        g = 0
        for i in kept:
            while g < len(gaps) and gaps[g][0] < i:
                new = self._gap_markers(gaps[g], room)
                markers += new
                out += new
                g += 1
            e = events[i]
            if e.first == e.last:
                out.append(lines[e.first])
            else:
                out += lines[e.first : e.last + 1]
            t = summary_after.get(i, -1)
            if t >= 0:
                new = self._summary_markers(t, by_template[t], keep, room)
                markers += new
                out += new
        for gap in gaps[g:]:
            new = self._gap_markers(gap, room)
            markers += new
            out += new
        return "\n".join(out) + ("\n" if self.trailing else ""), self._count(kept, markers)

    def _count(self, kept: Sequence[int], markers: Sequence[str]) -> int:
        """Tokens of a rendering: its kept events and its markers, each counted once per
        planner.

        Lines are counted apart and joined by one newline token each, which is how cl100k
        splits them in all but rare cases (an indented line after a newline can merge, a
        line ending in punctuation shares a token with its newline): the plan is fitted to
        this estimate.
        """
        total = 0
        count = self.ctx.count_tokens
        cache = self._event_tokens
        for i in kept:
            n = cache.get(i)
            if n is None:
                e = self.events[i]
                n = cache[i] = sum(count(self.lines[j]) + 1 for j in range(e.first, e.last + 1))
            total += n
        counted = self._marker_tokens
        for m in markers:
            n = counted.get(m)
            if n is None:
                n = counted[m] = count(m) + 1
            total += n
        return total

    def _summary_markers(
        self, template: int, kept: list[int], keep: set[int], room: ValueLister | None
    ) -> list[str]:
        """The markers of a template's dropped events (all but ``kept``), once per distinct
        ``kept`` unless they list values (which depend on what came before)."""
        key = (template, tuple(kept))
        if room is None and key in self._summaries:
            return self._summaries[key]
        dropped = [j for j in self.members[template] if j not in keep]
        found = _summary_markers(
            self.lines,
            self.events,
            self.mined,
            template,
            dropped,
            self.ctx,
            room,
            asked_ips=self.asked_ips,
        )
        if room is None:
            self._summaries[key] = found
        return found

    def _gap_markers(self, gap: list[int], room: ValueLister | None) -> list[str]:
        """The markers of a run of dropped events, once per distinct run unless they list
        values."""
        if room is not None:
            return _gap_markers(self.lines, self.events, self.mined, gap, self.ctx, room)
        key = tuple(gap)
        found = self._gaps.get(key)
        if found is None:
            found = self._gaps[key] = _gap_markers(
                self.lines, self.events, self.mined, gap, self.ctx, None
            )
        return found

    def fit(self) -> tuple[set[int], str]:
        """The kept events and the output.

        The output's exact count is left to the caller: the counts here are the estimate
        of ``_count`` (which the plan is fitted to), so an exact one would be one more
        full count, the same one ``compress`` makes.
        """
        target = self._target()
        scaled = target
        best: tuple[int, set[int], str] | None = None
        smallest: tuple[int, set[int], str] | None = None
        # estimates are per character: correct them by the count of the rendering
        for _ in range(3):
            keep = self._choose(scaled)
            room = int(VALUE_SHARE * _VALUE_CHARS_PER_TOKEN * target) if self._mostly_rare else 0
            out, used = self._render(keep, room)
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


#: A gap in ``_Planner._gaps_of`` flags: from a dropped event of a template with nothing
#: kept up to the next kept event.
_GAP_RUN = re.compile(rb"\x01[\x00\x01]*")


def _gap_run(flags: bytearray, start: int, end: int) -> list[int]:
    """The events of a gap: those flagged 1 in ``start..end``."""
    return [j for j in range(start, end) if flags[j] == 1]


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
    log2 = math.log2
    last = len(events) - 1
    ranked: list[tuple[float, int]] = []  # (-priority, event): sorts best first
    for template in mined.templates:
        rare = template.id in rare_templates
        rating = rated[template.id]
        for rank, i in enumerate(template.members):
            e = events[i]
            if i == 0 or i == last or e.header:
                base = 1000.0
            elif rare:
                base = 100.0
            elif rank == 0:
                base = 60.0
            else:
                base = -10.0 * log2(rank + 1)
            # a long line must be worth more: two short rare lines beat one long one
            size = 8.0 * log2(max(costs[i], 1.0) / typical)
            sev = max(rating, e.severity)
            ranked.append((-(base + 15.0 * sev + query_bonus[i] - size), i))
    ranked.sort()
    return [(-p, i) for p, i in ranked]


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


def _select_rows(
    mined: MinedLog, costs: Sequence[float], priorities: Sequence[tuple[float, int]]
) -> list[tuple[float, int, int, float, bool]]:
    """What ``_select`` reads per event, best first: (priority, event, template, cost, whether
    the template has other events)."""
    assignment, templates = mined.assignment, mined.templates
    return [
        (p, i, assignment[i], costs[i], templates[assignment[i]].count > 1) for p, i in priorities
    ]


def _select(
    rows: Sequence[tuple[float, int, int, float, bool]],
    counts: Sequence[int],
    marker_cost: float,
    budget: float,
) -> set[int]:
    """Events by priority while they fit ``budget`` (those of priority 1000 always), with
    ``counts`` the number of events per template."""
    kept_per_template = [0] * len(counts)
    keep: set[int] = set()
    used = 0.0
    for priority, i, t, cost, shared in rows:
        if shared:
            kept = kept_per_template[t]
            if kept == 0:
                cost += marker_cost  # the template's summary marker
            elif kept + 1 == counts[t]:
                cost -= marker_cost  # the template becomes whole: its marker goes
            if used + cost > budget and priority < 1000.0:
                continue
            kept_per_template[t] = kept + 1
        elif used + cost > budget and priority < 1000.0:
            continue
        keep.add(i)
        used += cost
    return keep


def _template_terms(mined: MinedLog) -> list[Counter[str]]:
    """The search terms of each template's words (masks left out), for BM25."""
    return [term_counts(_MASKED.sub(" ", t.text)) for t in mined.templates]


def _query_bonus(
    lines: Sequence[str], events: Sequence[LogEvent], mined: MinedLog, query: str | None
) -> list[float]:
    """Per event: up to 40 for a literal value of the query, up to 20 for BM25 on its template."""
    bonus = [0.0] * len(events)
    if not query or not query.strip():
        return bonus
    scores = bm25_scores(_template_terms(mined), query)
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


def _summary_markers(
    lines: Sequence[str],
    events: Sequence[LogEvent],
    mined: MinedLog,
    template: int,
    dropped: Sequence[int],
    ctx: CompressContext,
    room: ValueLister | None,
    *,
    asked_ips: bool,
) -> list[str]:
    """One marker for a template's dropped events; more when they list asked-for values
    (``asked_ips``: the query asks for addresses, so an address field is described first)."""
    heads = [lines[events[j].first] for j in dropped[:_VALUE_SAMPLE]]
    if len(dropped) > _VALUE_SAMPLE:
        heads.append(lines[events[dropped[-1]].first])
    parts = [f"x{mined.templates[template].count} in all"]
    parts.extend(_span(heads))
    runs = _value_runs(heads, dropped, room)
    if runs is None:
        parts.extend(_varying(heads, mined.templates[template].tokens, addresses=asked_ips))
        return [ctx.marker(_line_count(events, dropped), "lines", ", ".join(parts))]
    out: list[str] = []
    for run, values in runs:
        detail = ", ".join([*parts, values] if not out else [values])
        out.append(ctx.marker(_line_count(events, run), "lines", detail))
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
    runs = None
    if room is not None and room.room > 0:
        runs = _value_runs([lines[events[i].first] for i in gap], gap, room)
    out: list[str] = []
    for run, values in runs or [(list(gap), "")]:
        per_template = Counter(map(mined.assignment.__getitem__, run))
        # no time span: the kept lines around a gap already show when it was
        parts = [f"{len(per_template)} templates"] if len(per_template) > 1 else []
        if len(per_template) == 1:
            parts.append(_shape(mined.templates[next(iter(per_template))].tokens))
        if values:
            parts.append(values)
        out.append(ctx.marker(_line_count(events, run), "lines", ", ".join(parts)))
    return out


def _line_count(events: Sequence[LogEvent], members: Sequence[int]) -> int:
    """The lines of ``members`` (events)."""
    picked = [events[i] for i in members]
    return sum(e.last for e in picked) - sum(e.first for e in picked) + len(picked)


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
#: Characters no term of ``terms`` contains or runs across (terms are words of letters,
#: digits and ``_``, or dotted numbers).


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

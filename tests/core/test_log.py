"""Log compressor: templates, what is always kept, markers, order, corpus retention."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headroom_core import MARKER_RE, HeadroomConfig, compress, find_markers, retrieve
from headroom_core.compressors._log import RARE_OVERFLOW
from headroom_core.compressors._log_events import severity, split_events, timestamp
from headroom_core.compressors._log_templates import LogTemplateMiner, _TokenMasker, mask_line
from headroom_core.compressors._log_values import ValueLister, wanted


def _service_log(n: int = 600, seed: int = 7) -> str:
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n):
        ts = f"2024-03-01 10:{i // 60 % 60:02d}:{i % 60:02d},{rng.randint(0, 999):03d}"
        out.append(
            f"{ts} INFO [worker-{rng.randint(1, 4)}] cache.Heartbeat: heartbeat ok "
            f"node=n{rng.randint(1, 9)} latency={rng.randint(1, 40)}ms"
        )
        if i % 3 == 0:
            out.append(
                f"{ts} INFO [http-{rng.randint(1, 8)}] web.Access: GET /api/items/"
                f"{rng.randint(1000, 9999)} 200 {rng.randint(1, 90)}ms"
            )
        if i == 250:
            out.append(f"{ts} ERROR [worker-2] db.Pool: connection refused to 10.0.4.17:5432")
            out.append("java.net.ConnectException: Connection refused")
            out.append("    at db.Pool.connect(Pool.java:88)")
            out.append("    at db.Pool.acquire(Pool.java:41)")
        if i == 400:
            out.append(f"{ts} WARN [worker-3] disk.Monitor: volume /data at 91% capacity")
        if i == 420:
            out.append(f"{ts} INFO [main] config.Loader: reloaded settings from /etc/svc/app.toml")
    return "\n".join(out) + "\n"


def _lines_in_order(kept: list[str], original: list[str]) -> bool:
    it = iter(original)
    return all(any(k == o for o in it) for k in kept)


def test_keeps_errors_traces_rare_lines_and_edges() -> None:
    text = _service_log()
    c = compress(text, kind="log")
    assert c.ref is not None and c.savings > 0.8
    out = c.text.splitlines()
    assert out[0] == text.splitlines()[0]
    assert out[-1] == text.splitlines()[-1]
    block = "\n".join(
        [
            "java.net.ConnectException: Connection refused",
            "    at db.Pool.connect(Pool.java:88)",
            "    at db.Pool.acquire(Pool.java:41)",
        ]
    )
    assert "ERROR [worker-2] db.Pool: connection refused to 10.0.4.17:5432\n" + block in c.text
    assert "disk.Monitor: volume /data at 91% capacity" in c.text
    assert "reloaded settings from /etc/svc/app.toml" in c.text
    assert retrieve(c.ref) == text


def test_lines_stay_whole_and_in_order_and_markers_count_every_drop() -> None:
    text = _service_log()
    c = compress(text, kind="log")
    original = text.splitlines()
    kept = [ln for ln in c.text.splitlines() if not MARKER_RE.fullmatch(ln)]
    assert _lines_in_order(kept, original)
    markers = find_markers(c.text)
    assert markers and all(m.ref == c.ref and m.unit == "lines" for m in markers)
    assert sum(m.count for m in markers) + len(kept) == len(original)


def test_repeats_collapse_with_count_span_and_values() -> None:
    c = compress(_service_log(), kind="log")
    summaries = [m for m in find_markers(c.text) if m.detail and "in all" in m.detail]
    assert summaries
    heartbeat = next(m for m in summaries if m.detail and "x600" in m.detail)
    assert heartbeat.detail is not None
    assert re.search(r"2024-03-01 10:00:\d\d - 10:09:5\d", heartbeat.detail)
    assert "4 distinct worker-*" in heartbeat.detail


def test_query_value_lines_are_kept() -> None:
    text = _service_log()
    target = next(ln for ln in text.splitlines() if "/api/items/" in ln and ln.endswith(" 77ms"))
    item = target.split("/api/items/")[1].split()[0]
    c = compress(text, kind="log", query=f"what happened to item {item}?")
    assert target in c.text.splitlines()


def test_compression_is_deterministic() -> None:
    text = _service_log(seed=3)
    assert compress(text, kind="log").text == compress(text, kind="log").text


def test_budget_bounds_the_output() -> None:
    c = compress(_service_log(n=1500), kind="log")
    assert c.compressed_tokens <= int(c.original_tokens * 0.06 * RARE_OVERFLOW) + 5
    capped = compress(
        _service_log(n=1500), kind="log", config=HeadroomConfig(max_output_tokens=300)
    )
    assert capped.compressed_tokens <= 300


def test_rare_events_stretch_the_budget_a_little() -> None:
    rng = random.Random(1)
    lines = [f"10:00:{i % 60:02d} INFO tick seq={i} node=n{rng.randint(1, 5)}" for i in range(1500)]
    for n, k in enumerate(range(0, 1500, 50)):  # 30 long one-off events, no shared words
        words = ["".join(chr(97 + (n * 5 + j * 3 + c) % 26) for c in range(6)) for j in range(14)]
        lines[k] = f"10:00:{k % 60:02d} INFO {n:02d}{' '.join(words)}"
    c = compress("\n".join(lines), kind="log")
    assert (
        c.original_tokens * 0.06
        < c.compressed_tokens
        <= c.original_tokens * 0.06 * RARE_OVERFLOW + 5
    )


def test_every_failed_test_result_is_kept() -> None:
    rng = random.Random(3)
    lines = [f"Running suite {k}/dg.exp ..." for k in range(20)]
    lines += [
        f"PASS: gcc.dg/t{i}.c  -O{rng.randint(0, 3)}  (test for excess errors)" for i in range(2000)
    ]
    fails = [f"FAIL: gcc.dg/f{i}.c  -O{i % 4}  (test for excess errors)" for i in range(12)]
    for n, line in enumerate(fails):
        lines.insert(40 + n * 150, line)
    c = compress("\n".join(lines), kind="log", query="which tests failed?")
    assert all(line in c.text for line in fails)


def test_mostly_rare_log_lists_the_asked_for_addresses_of_dropped_lines() -> None:
    shapes = [
        "sshd[{p}]: Invalid user {u} from {ip}",
        "sshd[{p}]: error: PAM: Authentication failure for {u} from {ip}",
        "sshd[{p}]: User {u} from {ip} not allowed because not listed in AllowUsers",
        "sshd[{p}]: Did not receive identification string from {ip}",
        "dovecot: pop3-login: Aborted login (auth failed): user=<{u}>, rip={ip}, lip=10.0.0.1",
        "sshd[{p}]: reverse mapping checking getaddrinfo for h{p}.example [{ip}] failed",
    ]
    rng = random.Random(5)
    lines: list[str] = []
    ips: list[str] = []
    for i in range(120):
        ip = f"198.{51 + i % 7}.{i}.{200 - i}"
        ips.append(ip)
        msg = shapes[i % len(shapes)].format(p=3000 + i, u=f"user{i}", ip=ip)
        # mixed daemons and formats: no two lines share a template (nor a token count)
        tag = " ".join(f"w{rng.randint(0, 9)}x" for _ in range(i // len(shapes)))
        msg = f"{tag} {msg}"
        lines.append(f"Mar {1 + i % 28:2d} 0{i % 10}:{i % 60:02d}:{i % 59:02d} host{i % 13} {msg}")
    text = "\n".join(lines)
    c = compress(text, kind="log", query="Which remote IPs failed to authenticate?")
    assert c.compressed_tokens < 0.3 * c.original_tokens
    kept = [ln for ln in c.text.splitlines() if not MARKER_RE.fullmatch(ln)]
    assert sum(m.count for m in find_markers(c.text)) + len(kept) == len(lines)
    # addresses cost a few tokens, lines dozens: most addresses survive, most lines do not
    assert len(kept) < 0.5 * len(lines)
    assert sum(ip in c.text for ip in ips) >= 0.75 * len(ips)


def test_value_lister_lists_each_asked_value_once_within_its_room() -> None:
    heads = ["a from 1.2.3.4 user=<bob>", "b 1.2.3.4", "c for alice from 10.0.0.7", "d none"]
    lister = ValueLister(wanted("which users and IPs?"), 1000)
    assert lister.runs(heads) == [(4, "IPs 1.2.3.4 10.0.0.7, users bob alice")]
    assert lister.runs(heads) == [(4, "")]  # all shown already
    assert wanted("summarise the errors") == []
    tight = ValueLister(wanted("which IPs?"), 10)
    assert tight.runs(heads) == [(4, "IPs 1.2.3.4, 1 more values")]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("blk_-1608999687919862906 from 10.250.19.102:50010", "blk_-<n> from <ip>"),
        ("id 0x34ed93485090001 at 12.5", "id <hex> at <n>"),
        ("hash deadbeef99 ok", "hash <hex> ok"),
        ("no digits here", "no digits here"),
    ],
)
def test_mask_line(line: str, expected: str) -> None:
    assert mask_line(line) == expected


_MASK_CHARS = "0123456789abcdefxXghz.:,-_/<>[] \t\u0663"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=_MASK_CHARS, max_size=40), min_size=1, max_size=6))
def test_bulk_masking_equals_masking_each_token(lines: list[str]) -> None:
    """The miner masks all tokens at once; a token must come out as ``mask_line`` of it."""
    expected = [
        tuple("<n>" if tok.isdigit() else mask_line(tok) for tok in line.split()) for line in lines
    ]
    assert _TokenMasker().lines(lines) == expected
    assert _TokenMasker().lines(["x\ny 0x1f", *lines])[1:] == expected  # newline fallback


def test_miner_groups_variants_and_separates_outcomes() -> None:
    lines = [
        "Dec 10 06:55:46 host sshd[24200]: Failed password for root from 1.2.3.4 port 22 ssh2",
        "Dec 10 06:55:48 host sshd[24202]: Failed password for admin from 1.2.3.9 port 51 ssh2",
        "Dec 10 06:56:01 host sshd[24210]: Accepted password for fztu from 1.2.3.5 port 9 ssh2",
        "Dec 10 06:57:01 host sshd[24290]: Failed password for guest from 9.2.3.5 port 77 ssh2",
    ]
    mined = LogTemplateMiner().mine(lines)
    assert mined.assignment[0] == mined.assignment[1] == mined.assignment[3]
    assert mined.assignment[2] != mined.assignment[0]
    assert mined.templates[mined.assignment[0]].count == 3


def test_events_group_stack_traces() -> None:
    lines = [
        "10:00:01 INFO start",
        "Traceback (most recent call last):",
        '  File "app.py", line 3, in <module>',
        "    main()",
        "ValueError: bad value",
        "10:00:02 INFO next",
    ]
    events = split_events(lines)
    assert [(e.first, e.last) for e in events] == [(0, 0), (1, 4), (5, 5)]
    assert events[1].severity == 2


def _split_events_reference(lines: list[str]) -> list[tuple[int, int, int, bool]]:
    """``split_events`` as a plain loop over every line, to check its shortcuts against."""
    out: list[tuple[int, int, int, bool]] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if re.match(r"^==> .+ <==$", line):
            out.append((i, i, 0, True))
            i += 1
            continue
        first, sev = i, severity(line)
        if re.match(r"^\s*Traceback \(most recent call last\):", line):
            i += 1
            while i < n and lines[i][:1] in (" ", "\t"):
                i += 1
            if i < n and re.match(
                r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b", lines[i]
            ):
                i += 1
            out.append((first, i - 1, 2, False))
            continue
        i += 1
        while i < n and re.match(
            r"^(?:[ \t]+\S|at [\w$.<>]+\(|Caused by:|\.\.\. \d+ more|[}\]]\s*$)", lines[i]
        ):
            if sev < 2 and ("Exception" in lines[i] or "Error" in lines[i]):
                sev = 2
            i += 1
        out.append((first, i - 1, sev, False))
    return out


_EVENT_LINES = [
    "10:00:01 INFO start",
    "Error: disk full",
    "T-800 online",
    "=x",
    "  at db.Pool.connect(Pool.java:88)",
    "at a.b.C.run(C.java:2)",
    "Caused by: java.io.IOException",
    "... 3 more",
    "}",
    "] ",
    "",
    "   ",
    "Traceback (most recent call last):",
    '  File "app.py", line 3, in <module>',
    "ValueError: bad value",
    "==> app.log <==",
    "\x0cTraceback (most recent call last):",
    "\u3000Traceback (most recent call last):",
    "\tException in thread main",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_EVENT_LINES), max_size=30))
def test_split_events_matches_a_plain_loop(lines: list[str]) -> None:
    events = split_events(lines)
    assert [(e.first, e.last, e.severity, e.header) for e in events] == (
        _split_events_reference(lines)
    )
    plain = split_events(lines, rate_lines=False)
    assert [(e.first, e.last) for e in plain] == [(e.first, e.last) for e in events]


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("2015-10-18 18:06:26,029 FATAL [IPC] Task exited", 2),
        ("03-17 16:13:38.811  1702  2395 E AndroidRuntime: crash", 2),
        ("03-17 16:13:38.811  1702  2395 W Binder: slow", 1),
        ("2015-07-29 19:29:08,571 - WARN  [SendWorker] - leaving", 1),
        ("081109 203615 148 INFO dfs.DataNode: Receiving block", 0),
        ('PASS: gcc.dg/pr1.c scan-tree-dump-not "FAILED:"', 0),  # the result word decides
        ("XPASS: gcc.dg/pr2.c -O2 line 28 j == 65", 2),
        ("not ok 4 - parses empty input", 2),
        ("--- FAIL: TestParse (0.00s)", 2),
        ("ok 5 - timed out request is retried", 0),
    ],
)
def test_severity(line: str, level: int) -> None:
    assert severity(line) == level


def test_timestamp_formats() -> None:
    assert timestamp("2015-07-29 19:29:08,571 - WARN x") == "2015-07-29 19:29:08,571"
    assert timestamp("Jun 29 03:22:22 combo ftpd[1]: x") == "Jun 29 03:22:22"
    assert timestamp("081109 203615 148 INFO x") == "081109 203615"
    assert timestamp("no time here") is None


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "INFO tick {n}",
                "ERROR failed to open /tmp/f{n}",
                "  at x.y(Z.java:{n})",
                "",
                "WARN slow {n}ms",
                "==> other.log <==",
            ]
        ),
        min_size=1,
        max_size=300,
    ),
    st.integers(0, 10_000),
)
def test_never_raises_and_never_grows(templates: list[str], seed: int) -> None:
    rng = random.Random(seed)
    text = "\n".join(t.format(n=rng.randint(0, 99999)) for t in templates)
    c = compress(text, kind="log")
    assert c.compressed_tokens <= c.original_tokens
    if c.ref is not None:
        assert retrieve(c.ref) == text


def test_corpus_logs_meet_savings_and_retention(corpus_cases: list[dict[str, Any]]) -> None:
    from tests.conftest import case_text

    cases = [c for c in corpus_cases if c["workload"] == "sre_incident"]
    if not cases:
        pytest.skip("no sre_incident cases in the corpus")
    original = compressed = found = total = 0
    for case in cases:
        c = compress(case_text(case), query=case["query"], tool=case["tool"])
        original += c.original_tokens
        compressed += c.compressed_tokens
        for needle in case["needles"]:
            total += 1
            found += needle["answer"] in c.text
    assert 1 - compressed / original >= 0.92
    assert found / total >= 0.9

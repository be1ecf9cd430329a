"""JSON compressor: lossless factoring (table-driven, small snapshots) and marked selection."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from headroom_core import HeadroomConfig, compress, retrieve
from headroom_core._detect import detect_kind
from headroom_core._markers import find_markers
from headroom_core._tokens import get_tokenizer
from headroom_core.compressors import CompressContext
from headroom_core.compressors._json import FAR_OVER, JSONCompressor

from ..conftest import case_text

REF = "hr_" + "a" * 20
ORIGINAL_LOSSLESS = f"[headroom: 0 values omitted (lossless compact form); ref={REF}]"
ORIGINAL_LOSSY = (
    f"[headroom: 0 values omitted (the original, omissions marked in place); ref={REF}]"
)
TOKENIZER = get_tokenizer()


def run(
    value: Any = None,
    *,
    text: str | None = None,
    budget: int = 10**9,
    query: str | None = None,
    tool: str | None = None,
    count: Any = None,
    parsed: Any = None,
) -> str:
    text = json.dumps(value, indent=2) if text is None else text
    ctx = _context(text, budget, query=query, tool=tool, count=count, parsed=parsed)
    return JSONCompressor().compress(text, ctx).text


def _context(
    text: str,
    budget: int,
    *,
    query: str | None = None,
    tool: str | None = None,
    count: Any = None,
    parsed: Any = None,
) -> CompressContext:
    counter = count or TOKENIZER.count
    return CompressContext(
        ref=REF,
        config=HeadroomConfig(),
        count_tokens=counter,
        original_tokens=counter(text),
        budget=budget,
        query=query,
        tool=tool,
        parsed=parsed,
    )


LOGINS = ["ann", "bob", "cid", "dee", "eve", "fay", "gus", "hal", "ida", "jay", "kim", "lou"]
USERS = [
    {"login": login, "id": i, "url": f"https://api.example.com/users/{login}", "type": "User"}
    for i, login in enumerate(LOGINS, 1)
]
USER_TABLE = {"@cols": ["login", "id"], "@rows": [[login, i] for i, login in enumerate(LOGINS, 1)]}
ROWS = [{"id": i, "name": f"n{i}"} for i in range(20)]

# (name, input value, expected "@data", expected legend entries)
LOSSLESS_CASES: list[tuple[str, Any, Any, dict[str, Any]]] = [
    (
        "table with a default and a derived link",
        USERS,
        USER_TABLE,
        {
            "default": {"[]": {"type": "User"}},
            "derived": {"[]": {"url": "https://api.example.com/users/{login}"}},
        },
    ),
    (
        "search-style wrapper keeps its count and tabulates its items",
        {"total_count": 12, "items": USERS},
        {"total_count": 12, "items": USER_TABLE},
        {"default": {".items[]": {"type": "User"}}},
    ),
    (
        "a link built from the enclosing object",
        [
            {"number": n, "pr": {"url": f"https://api.example.com/pulls/{n}", "merged": n % 2 == 0}}
            for n in range(1, 13)
        ],
        {
            "@cols": ["number", "pr"],
            "@rows": [[n, {"merged": n % 2 == 0}] for n in range(1, 13)],
        },
        {"derived": {"[].pr": {"url": "https://api.example.com/pulls/{../number}"}}},
    ),
    (
        "JSON held in a string (MCP text content) is shown parsed",
        {"content": [{"type": "text", "text": json.dumps(ROWS)}], "isError": False},
        {
            "content": [
                {
                    "type": "text",
                    "text": {"@cols": ["id", "name"], "@rows": [[i, f"n{i}"] for i in range(20)]},
                }
            ],
            "isError": False,
        },
        {"embedded": [".content[].text"]},
    ),
]


@pytest.mark.parametrize(
    ("name", "value", "data", "legend"), LOSSLESS_CASES, ids=[c[0] for c in LOSSLESS_CASES]
)
def test_lossless_factoring(name: str, value: Any, data: Any, legend: dict[str, Any]) -> None:
    out = json.loads(run(value))
    assert out["@data"] == data
    for key, expected in legend.items():
        assert out["@legend"][key] == expected
    # the ref shows in the one marker grammar, and it stands for nothing left out
    (original,) = find_markers(json.dumps(out))
    assert (original.count, original.ref) == (0, REF)
    assert out["@legend"]["original"] == ORIGINAL_LOSSLESS


def test_small_snapshot() -> None:
    assert run(USERS) == (
        '{"@legend":{"how":"@cols+@rows: an array of objects, a row each; @ cell: key absent '
        "(default or derived value applies); a string row marks an omission; default: value of "
        "a key an object at the path lacks; derived: template of a key an object lacks, "
        '{k}/{../k}: its/its parent\'s k","original":"[headroom: 0 values omitted '
        '(lossless compact form); ref=hr_aaaaaaaaaaaaaaaaaaaa]",'
        '"default":{"[]":{"type":"User"}},'
        '"derived":{"[]":{"url":"https://api.example.com/users/{login}"}}},'
        '"@data":{"@cols":["login","id"],"@rows":[["ann",1],["bob",2],["cid",3],["dee",4],'
        '["eve",5],["fay",6],["gus",7],["hal",8],["ida",9],["jay",10],["kim",11],["lou",12]]}}'
    )


def test_too_small_to_factor_is_only_minified() -> None:
    assert run(USERS[:2]) == json.dumps(USERS[:2], separators=(",", ":"))


def test_plain_and_mixed_values_are_only_minified() -> None:
    assert run([1, "a", {"b": 1}, [2]]) == '[1,"a",{"b":1},[2]]'
    assert run(text='"just a string"') == '"just a string"'


def _factorable(i: int) -> dict[str, Any]:
    """Fields that defaults, link templates and a table would shrink."""
    return {"n": i, "kind": "a-long-enough-kind", "url": f"https://example.com/items/{i}"}


@pytest.mark.parametrize(
    "value",
    [
        [{"@cols": i, "kind": "x"} for i in range(4)],
        [{"a": "@" if i == 7 else "b", **_factorable(i)} for i in range(30)],  # the "@" cell
        [{"deep": [{"x": {"y": "@"}}] if i == 7 else [], **_factorable(i)} for i in range(30)],
    ],
)
def test_reserved_keys_keep_the_plain_shape(value: Any) -> None:
    assert json.loads(run(value)) == value


def test_json_lines_become_an_array() -> None:
    out = json.loads(run(text='{"a": 1}\n{"a": 2}\n\n{"a": 3}\n'))
    assert out["@data"] == [{"a": 1}, {"a": 2}, {"a": 3}]
    assert "JSON Lines" in out["@legend"]["how"]


def test_invalid_json_raises_so_the_api_passes_it_through() -> None:
    with pytest.raises(json.JSONDecodeError):
        run(text="{not json")


def _owner(login: str, i: int, extra: int = 0) -> dict[str, Any]:
    fields = {f"f{k}": f"{login}-{k}" for k in range(extra)}
    return {"login": login, "id": i, "bio": f"{login} " * 12, **fields}


def test_repeated_small_entities_go_to_a_lookup() -> None:
    owners = [_owner("octocat", 1), _owner("hubot", 2)]
    repos = [{"name": f"r{i}", "owner": dict(owners[i // 3]), "stars": i} for i in range(6)]
    out = json.loads(run(repos))
    assert out["@legend"]["lookup"]["[].owner"] == {
        "by": "login",
        "fields": ["id", "bio"],
        "values": {"octocat": [1, "octocat " * 12], "hubot": [2, "hubot " * 12]},
    }
    assert [r[1] for r in out["@data"]["@rows"]] == [{"login": "octocat"}] * 3 + [
        {"login": "hubot"}
    ] * 3


def test_repeated_large_objects_are_referenced_by_id() -> None:
    owners = [_owner("octocat", 1, extra=8), _owner("hubot", 2, extra=8)]
    repos = [{"name": f"r{i}", "owner": dict(owners[i // 3]), "stars": i} for i in range(6)]
    rows = json.loads(run(repos))["@data"]["@rows"]
    assert rows[0][1]["bio"] == "octocat " * 12  # the first occurrence stays whole
    assert rows[1][1] == {"login": "octocat", "@same": "login"}
    assert rows[3][1]["f7"] == "hubot-7"
    assert rows[5][1] == {"login": "hubot", "@same": "login"}


def test_long_strings_are_cut_with_an_exact_count() -> None:
    rows = [{"id": i, "body": f"row {i} " + "lorem ipsum " * 80} for i in range(4)]
    out = run(rows, budget=300)
    data = json.loads(out)
    for marker in find_markers(out):
        assert marker.ref == REF
    cut = [m for m in find_markers(out) if m.unit == "chars"]
    fields = [m for m in find_markers(out) if m.unit == "fields"]
    assert cut or fields
    for m in cut:
        assert m.detail is not None
        full = int(m.detail.removeprefix("of "))
        assert full in {len(str(r["body"])) for r in rows}
    assert data["@legend"]["original"] == ORIGINAL_LOSSY


def test_rows_are_selected_by_query_and_anomaly_and_marked() -> None:
    rows = [{"id": i, "status": "ok", "note": f"build step {i} finished"} for i in range(60)]
    rows[17]["status"] = "failed"
    rows[41]["note"] = "build step 41 uploaded the wheel to pypi"
    out = run(rows, budget=220, query="which step uploaded the wheel?")
    assert TOKENIZER.count(out) <= 220  # rounds go on while every output was over it
    data = json.loads(out)["@data"]
    kept = [r for r in data["@rows"] if isinstance(r, list)]
    ids = [r[0] for r in kept]
    assert {0, 17, 41, 59} <= set(ids)
    assert ids == sorted(ids)
    omitted = sum(m.count for m in find_markers(out) if m.unit == "items")
    assert omitted + len(kept) == len(rows)


def test_numeric_outlier_row_survives() -> None:
    rows = [{"title": f"issue {i}", "comments": i % 4} for i in range(80)]
    rows[33]["comments"] = 250
    out = run(rows, budget=150)
    assert '"issue 33"' in out


def test_output_is_deterministic() -> None:
    rows = [{"id": i, "s": "abc " * (i % 50), "tag": ["x", "y"][i % 2]} for i in range(200)]
    assert run(rows, budget=400, query="tag y") == run(rows, budget=400, query="tag y")


def test_a_large_lossless_output_that_just_fits_is_kept_whole() -> None:
    # longer than the part counted whole, so its tokens per character are sampled first: an
    # estimate that close to the budget is settled by counting the whole output
    rows = [
        {"id": i, "title": f"item {i} of the list", "state": ["ok", "late"][i % 2]}
        for i in range(600)
    ]
    lossless = run(rows)
    assert len(lossless) > 16000
    tokens = TOKENIZER.count(lossless)
    assert run(rows, budget=tokens) == lossless
    assert run(rows, budget=tokens - 1) != lossless


def test_huge_array_is_sampled_in_bounded_time() -> None:
    text = json.dumps(list(range(1_000_000)))
    start = time.perf_counter()
    out = run(text=text, budget=2000, count=lambda s: (len(s) + 3) // 4)
    assert time.perf_counter() - start < 20
    assert "sampled" in out
    data = json.loads(out)
    items = data if isinstance(data, list) else data["@data"]
    kept = [v for v in items if isinstance(v, int)]
    omitted = sum(m.count for m in find_markers(out) if m.unit == "items")
    assert kept[0] == 0 and kept[-1] == 999_999
    assert omitted + len(kept) == 1_000_000


@pytest.mark.parametrize("entry", [{"v": 1, "state": "ok"}, 7], ids=["map", "flat object"])
def test_an_object_of_many_entries_is_sampled_and_every_entry_accounted_for(entry: Any) -> None:
    # a map keyed by id (or a flat object) of 20,000 entries, an early one unusual: as long
    # arrays are, it is sampled before analysis, each skipped run an "@omitted" entry whose
    # marker counts it, and the legend says what such entries are
    value = {f"id{i}": entry for i in range(20_000)}
    value["id1234"] = {"v": 2, "state": "failed"} if isinstance(entry, dict) else 8
    out = run(value, budget=10**9)
    assert "@omitted keys" in json.loads(out)["@legend"]["how"]
    data = json.loads(out)["@data"]
    kept = [k for k in data if not k.startswith("@omitted")]
    markers = [m for m in find_markers(out) if m.unit == "entries"]
    assert len(markers) == sum(k.startswith("@omitted") for k in data) > 1
    assert sum(m.count for m in markers) + len(kept) == 20_000
    assert kept[0] == "id0" and kept[-1] == "id19999"
    assert all("sampled: object of 20000 entries" in (m.detail or "") for m in markers)
    # under a budget, entries go further (by query and anomalies), still counted
    small = run(value, budget=300, query="which failed?")
    assert "@omitted keys" in json.loads(small)["@legend"]["how"]
    data = json.loads(small)["@data"]
    omitted = sum(m.count for m in find_markers(small) if m.unit in ("entries", "items"))
    assert omitted + sum(not k.startswith("@omitted") for k in data) == 20_000
    assert TOKENIZER.count(small) <= 300
    if isinstance(entry, dict):  # its error word makes it an anomaly
        assert "id1234" in data


def test_long_json_lines_are_sampled() -> None:
    text = "\n".join(json.dumps({"n": i}) for i in range(6000))  # no commas at all
    out = run(text=text, budget=2000, count=lambda s: (len(s) + 3) // 4)
    assert "sampled" in out
    data = json.loads(out)["@data"]
    rows = data["@rows"] if isinstance(data, dict) else data
    omitted = sum(m.count for m in find_markers(out) if m.unit == "items")
    assert omitted + sum(not isinstance(r, str) for r in rows) == 6000


def test_sampling_reads_again_what_the_walk_parsed_before_the_long_array() -> None:
    # the walk parses embedded JSON as it goes: it meets the note before the long array,
    # stops there, and the tree is read again, sampled and walked whole
    note = json.dumps({"kind": "release", "tags": ["a", "b", "c"], "by": "ann"})
    value = {"note": note, "items": [{"n": i, "ok": i % 7 != 3} for i in range(6000)]}
    for parsed in (None, json.loads(json.dumps(value))):
        out = run(value, budget=10**9, parsed=parsed)
        data = json.loads(out)
        assert ".note" in json.dumps(data["@legend"])
        assert "sampled" in out
        body = data["@data"]
        assert body["note"] == json.loads(note)
        rows = body["items"]["@rows"] if "@rows" in body["items"] else body["items"]
        omitted = sum(m.count for m in find_markers(out) if m.unit == "items")
        assert omitted + sum(not isinstance(r, str) for r in rows) == 6000


def test_a_long_array_in_embedded_json_is_not_sampled() -> None:
    inner = json.dumps(list(range(6000)))
    out = run({"id": 1, "payload": inner}, budget=10**9)
    assert "sampled" not in out
    assert json.loads(out)["@data"]["payload"] == list(range(6000))


def test_compress_stores_the_original_byte_exact() -> None:
    value = [{"id": i, "url": f"https://x.test/i/{i}", "state": "open"} for i in range(80)]
    text = json.dumps(value, indent=2)
    c = compress(text)
    assert c.kind == "json"
    assert c.ref is not None
    assert c.compressed_tokens < c.original_tokens
    assert retrieve(c.ref) == text


def test_maps_keyed_by_data_are_factored_and_selected() -> None:
    versions = {
        f"1.{i}.0": {
            "version": f"1.{i}.0",
            "license": "MIT",
            "tarball": f"https://registry.example.org/pkg/-/pkg-1.{i}.0.tgz",
            "deprecated": "insecure, upgrade" if i == 13 else None,
            "readme": f"release {i} " + "notes " * 60,
        }
        for i in range(40)
    }
    doc = {"name": "pkg", "versions": versions}
    lossless = json.loads(run(doc))
    assert lossless["@legend"]["default"][".versions.*"]["license"] == "MIT"
    assert lossless["@legend"]["derived"][".versions.*"] == {
        "tarball": "https://registry.example.org/pkg/-/pkg-{version}.tgz"
    }
    out = run(doc, budget=400, query="which version is deprecated?")
    data = json.loads(out)["@data"]["versions"]
    assert "1.13.0" in data
    kept = [k for k in data if not k.startswith("@omitted")]
    omitted = sum(
        m.count for k, v in data.items() if k.startswith("@omitted") for m in find_markers(v)
    )
    assert omitted + len(kept) == len(versions)


def test_a_map_of_scalars_gives_up_entries_each_under_its_own_key() -> None:
    # sizes per file: many values are equal (one int object, one string), so entries are
    # put back by position, and a kept string value is not taken for a marker
    sizes = {f"src/file_{i}.py": 4096 if i % 3 else "unknown" for i in range(600)}
    sizes["src/huge.bin"] = 987654321
    text = json.dumps(sizes, indent=2)
    budget = TOKENIZER.count(text) // 6
    out = run(text=text, budget=budget, query="which file is huge?")
    assert TOKENIZER.count(out) <= budget
    data = json.loads(out)["@data"]
    assert data["src/huge.bin"] == 987654321
    kept = {k: v for k, v in data.items() if not k.startswith("@omitted")}
    assert 0 < len(kept) < len(sizes) and all(sizes[k] == v for k, v in kept.items())
    omitted = sum(m.count for k in data if k.startswith("@omitted") for m in find_markers(data[k]))
    assert omitted + len(kept) == len(sizes)


@pytest.mark.parametrize("entries", [1000, 3000])
def test_a_map_of_small_entries_keeps_what_its_budget_holds(entries: int) -> None:
    # an entry's key goes with it: sized by their values alone, the entries dropped saved
    # far more than asked, and a map kept a handful of entries within a budget of thousands
    users = {f"u{i}": {"id": i, "state": "ok", "name": f"user {i}"} for i in range(entries)}
    users["u42"]["state"] = "suspended"
    text = json.dumps(users, indent=2)
    budget = TOKENIZER.count(text) // 7
    out = run(text=text, budget=budget, query="which user is suspended?")
    assert 0.8 * budget <= TOKENIZER.count(out) <= budget
    data = json.loads(out)["@data"]
    assert data["u42"]["state"] == "suspended"
    kept = [k for k in data if not k.startswith("@omitted")]
    omitted = sum(m.count for k in data if k.startswith("@omitted") for m in find_markers(data[k]))
    assert omitted + len(kept) == entries


def test_json_framed_by_text_is_compressed_as_json_and_the_frame_kept() -> None:
    # a tool that prints a heading before its JSON and a note after it
    page = json.loads(case_text({"file": "files/issue_triage/openframeworks-pages-1-2.json"}))
    heading, note = "Found 60 issues (page 1):\n```json\n", "\n```\nMore: page=2\n"
    text = heading + json.dumps(page, indent=2) + note
    config = HeadroomConfig()
    c = compress(text, query="which issues are about ofThread?", config=config)
    assert c.kind == "json" and c.text.startswith(heading) and c.text.endswith(note)
    data = json.loads(c.text[len(heading) : len(c.text) - len(note)])
    assert "@legend" in data
    assert c.compressed_tokens <= config.budget_for("json", c.original_tokens)
    assert "Fix ofThread destructor behaviour" in c.text
    assert c.ref is not None and retrieve(c.ref, config=config) == text


def test_an_array_of_short_strings_keeps_what_its_budget_holds() -> None:
    # a string row takes its quotes and a comma besides its text: counted without them,
    # each dropped path seemed to save less than it did, and far too many went
    paths = [f"src/module_{i // 50}/file_{i}.py" for i in range(4999)]
    text = json.dumps(paths)
    budget = TOKENIZER.count(text) // 7
    out = run(text=text, budget=budget, query="files of module_7")
    assert 0.85 * budget <= TOKENIZER.count(out) <= budget
    rows = json.loads(out)
    rows = rows["@data"] if isinstance(rows, dict) else rows
    kept = [r for r in rows if not r.startswith("[headroom: ")]
    omitted = sum(m.count for r in rows for m in find_markers(r))
    assert omitted + len(kept) == len(paths)


def test_rows_under_wrapper_objects_are_rows_not_deep_detail() -> None:
    # a GraphQL answer: the issues sit four objects down, in no row. Counted from the root,
    # the array of them looked like detail nested in rows, and went whole as such
    edges = [
        {
            "cursor": f"Y3Vyc29y{i:06d}",
            "node": {
                "number": i,
                "title": f"Issue {i} about the parser",
                "author": {"login": f"user{i % 20}"},
                "labels": {"nodes": [{"name": "bug"}, {"name": f"area-{i % 5}"}]},
            },
        }
        for i in range(300)
    ]
    doc = {"data": {"repository": {"issues": {"totalCount": 300, "edges": edges}}}}
    text = json.dumps(doc, indent=2)
    budget = TOKENIZER.count(text) // 5
    out = run(text=text, budget=budget, query="parser issues opened by user3")
    assert TOKENIZER.count(out) > budget // 2
    rows = json.loads(out)["@data"]["data"]["repository"]["issues"]["edges"]["@rows"]
    kept = [row for row in rows if not isinstance(row, str)]
    assert len(kept) > 100
    assert any(row[1]["author"] == {"login": "user3"} for row in kept)


def test_text_of_the_row_matching_the_query_is_kept() -> None:
    issues = [
        {"number": n, "title": f"issue {n}", "body": f"body {n}: " + "nothing to see " * 40}
        for n in range(30)
    ]
    issues[17]["body"] = "segfault in the renderer when resizing " + "details " * 60
    out = run(issues, budget=500, query="which issue is a segfault crash?")
    assert "segfault in the renderer" in out
    assert "nothing to see" not in out
    data = json.loads(out)
    assert "body" in data["@legend"]["omitted"]


def _packages(active: float) -> list[dict[str, Any]]:
    """Packages with daily counts, mostly zero; about ``active`` of the days have downloads."""
    out = []
    for i in range(16):
        days = []
        for d in range(60):
            busy = (d * 7 + i * 3) % 100 < active * 100
            days.append({"day": 20240101 + d, "count": (d * 13 + i) % 50 + 1 if busy else 0})
        days[i * 3]["errors"] = 1
        out.append({"name": f"pkg-{i}", "daily": days})
    return out


def _lossless_tokens(value: Any) -> int:
    return TOKENIZER.count(run(value))


@pytest.mark.parametrize("active", [0.0, 0.1, 0.8])
def test_nested_arrays_shrink_before_rows_go(active: float) -> None:
    packages = _packages(active)
    budget = _lossless_tokens(packages) // 2
    out = run(packages, budget=budget, query="which packages had errors?")
    assert TOKENIZER.count(out) <= budget
    rows = json.loads(out)["@data"]["@rows"]
    assert [r[0] for r in rows] == [p["name"] for p in packages]  # every row kept
    for row, package in zip(rows, packages, strict=True):
        daily = row[1]["@rows"] if isinstance(row[1], dict) else row[1]
        kept = [
            d if isinstance(d, list) else [d["day"], d.get("errors")]
            for d in daily
            if not isinstance(d, str)
        ]
        omitted = sum(m.count for d in daily if isinstance(d, str) for m in find_markers(d))
        assert omitted + len(kept) == len(package["daily"])
        assert kept[0][0] == 20240101 and kept[-1][0] == 20240160
        assert package["daily"][packages.index(package) * 3]["day"] in [d[0] for d in kept]
    if active == 0.1:  # runs of zero days are collapsed, and say what they held
        assert "each count=0" in out


def test_usual_runs_name_the_values_they_stand_for() -> None:
    packages = _packages(0.1)
    out = run(packages, budget=_lossless_tokens(packages) * 2 // 3)
    assert "each " in out
    for m in find_markers(out):
        if m.unit != "items" or m.detail is None or "each" not in m.detail:
            continue
        span, values = m.detail.split(", each ")
        first, last = (int(x) for x in span.removeprefix("items ").split("-"))
        assert m.count == last - first + 1
        assert values == "count=0"


def test_api_links_stated_once_as_defaults_go_before_rows() -> None:
    repo = {"id": 7, "full_name": "acme/tool", "html_url": "https://example.com/acme/tool"}
    repo |= {f"{k}_url": f"https://api.example.com/repos/acme/tool/{k}" for k in "abcdefghij"}
    alerts = [
        {"number": n, "summary": f"advisory {n} " * 6, "repository": dict(repo)} for n in range(30)
    ]
    lossless = json.loads(run(alerts))
    assert lossless["@legend"]["default"]["[].repository"]["a_url"].endswith("/a")
    out = run(alerts, budget=_lossless_tokens(alerts) - 80)
    data = json.loads(out)
    assert "a_url" not in json.dumps(data["@legend"]["default"])
    assert data["@legend"]["default"]["[].repository"]["html_url"] == repo["html_url"]
    assert [r[0] for r in data["@data"]["@rows"]] == list(range(30))  # no row dropped
    (omitted,) = find_markers(data["@legend"]["omitted"])
    assert omitted.count == 10 * len(alerts)  # each alert's repository lost ten links


def test_a_list_of_scalars_most_objects_share_is_a_default() -> None:
    alerts = [
        {"number": n, "tags": ["security", "cwe-275"], "scopes": [1, True]} for n in range(12)
    ]
    alerts[4]["tags"] = ["security"]
    alerts[5]["scopes"] = [1, 1]  # equal in Python, not the same JSON
    out = json.loads(run(alerts))
    assert out["@legend"]["default"]["[]"] == {"tags": ["security", "cwe-275"], "scopes": [1, True]}
    rows = out["@data"]
    assert rows[4]["tags"] == ["security"] and rows[5]["scopes"] == [1, 1]
    assert [n for n, r in enumerate(rows) if "tags" in r] == [4]


def test_nested_arrays_of_names_are_not_collapsed_as_usual_runs() -> None:
    issues = [
        {
            "number": n,
            "title": f"issue {n} " * 8,
            "labels": [
                {"name": f"area-{n}-{k}", "color": "fbca04" if k < 10 else "eb6420"}
                for k in range(14)
            ],
        }
        for n in range(10)
    ]
    out = run(issues, budget=_lossless_tokens(issues) - 40)
    assert "each color" not in out
    assert [r[0] for r in json.loads(out)["@data"]["@rows"]] == list(range(10))


def test_a_document_that_is_one_series_collapses_its_usual_runs() -> None:
    daily = [{"date": f"2024-03-{d:02}T00:00:00Z", "views": 0, "uniques": 0} for d in range(1, 31)]
    daily[17] |= {"views": 41, "uniques": 9}
    doc = {"package": "acme-tool", "daily": daily}
    out = run(doc, budget=_lossless_tokens(doc) // 2)
    shown = json.loads(out)["@data"]["daily"]["@rows"]
    kept = [d for d in shown if isinstance(d, list)]
    omitted = sum(m.count for d in shown if isinstance(d, str) for m in find_markers(d))
    assert omitted + len(kept) == len(daily)
    for day in (0, 17, 29):
        assert list(daily[day].values()) in kept
    assert "each views=0 uniques=0" in out


def test_a_long_list_of_omitted_fields_ends_in_a_count() -> None:
    rows = [
        {"id": n} | {f"link_{k:02}_url": f"https://api.example.com/{n}/{k}/x" for k in range(30)}
        for n in range(6)
    ]
    out = json.loads(run(rows, budget=60))
    (omitted,) = find_markers(out["@legend"]["omitted"])
    assert omitted.detail is not None and omitted.detail.endswith(" more")
    named, _, more = omitted.detail.rpartition(" and ")
    assert len(named.split(", ")) + int(more.split()[0]) == 30


def test_rows_that_are_tuples_keep_their_anomalies() -> None:
    weeks = [[1329004800 + 604800 * k, 0, 0] for k in range(80)]
    weeks[23][1:] = [1840, -310]
    weeks[57][1:] = [12, -3]
    out = run(weeks, budget=200)
    data = json.loads(out)
    kept = [w for w in data if isinstance(w, list)]
    assert weeks[23] in kept and weeks[57] in kept
    assert "each #1=0 #2=0" in out
    omitted = sum(m.count for w in data if isinstance(w, str) for m in find_markers(w))
    assert omitted + len(kept) == len(weeks)


def test_tuple_rows_are_ranked_by_their_values() -> None:
    rows = [[f"user-{k}", k % 3, 0] for k in range(60)]
    rows[41][2] = 1840
    out = run(rows, budget=60)
    assert '["user-41",2,1840]' in out


def test_a_map_of_lists_gives_up_entries_and_keeps_its_anomaly() -> None:
    releases: dict[str, list[dict[str, Any]]] = {}
    for i in range(60):
        version = f"2.{i // 10}.{i % 10}"
        releases[version] = [
            {"filename": f"tool-{version}{ext}", "size": 9000 + 37 * i, "yanked": i == 41}
            for ext in (".tar.gz", "-py3-none-any.whl")
        ]
    releases["2.6.0"] = []  # a version with no files is still an entry
    doc = {"info": {"name": "tool"}, "releases": releases}
    budget = _lossless_tokens(doc) // 4
    out = run(doc, budget=budget)
    assert TOKENIZER.count(out) <= budget
    shown = json.loads(out)["@data"]["releases"]
    assert "2.4.1" in shown  # the yanked release
    kept = [k for k in shown if not k.startswith("@omitted")]
    omitted = sum(
        m.count for k, v in shown.items() if k.startswith("@omitted") for m in find_markers(v)
    )
    assert omitted + len(kept) == len(releases)


ODD_LITERALS = [
    ("integer beyond 64 bits", "123456789012345678901234567890"),
    ("integer just below int64", "-9223372036854775809"),
    ("2**64", "18446744073709551616"),
    ("NaN", "NaN"),
    ("infinity", "-Infinity"),
    ("lone surrogate", '"\\ud800"'),
]


@pytest.mark.parametrize(("name", "literal"), ODD_LITERALS, ids=[n for n, _ in ODD_LITERALS])
@pytest.mark.parametrize("handed_over", [False, True], ids=["own parse", "detection's parse"])
def test_values_orjson_reads_or_writes_inexactly_keep_their_exact_value(
    name: str, literal: str, handed_over: bool
) -> None:
    # each row holds the literal, so both the lossless form and a lossy round show it
    rows = ",\n".join(
        f'{{"id": {i}, "title": "issue {i} about the parser", "value": {literal}, '
        f'"url": "https://api.example.com/issues/{i}", "body": "{"words " * 40}"}}'
        for i in range(30)
    )
    text = f"[{rows}]"
    expected = json.loads(literal)
    for budget in (10**9, TOKENIZER.count(text) // 4):
        parsed = detect_kind(text).value if handed_over else None
        out = run(text=text, budget=budget, parsed=parsed)
        shown = _values_of(json.loads(out), "value")
        assert shown, out[:300]
        for v in shown:
            if isinstance(expected, float) and expected != expected:
                assert isinstance(v, float) and v != v
            else:
                assert type(v) is type(expected) and v == expected, (name, v)


def _values_of(tree: Any, key: str) -> list[Any]:
    """Every value held under ``key`` in objects, or in a table's column named ``key``."""
    found: list[Any] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            cols = node.get("@cols")
            if isinstance(cols, list) and key in cols:
                i = cols.index(key)
                found += [r[i] for r in node.get("@rows", []) if isinstance(r, list)]
            if key in node:
                found.append(node[key])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def test_float_exponents_read_back_as_the_same_numbers() -> None:
    value = [{"id": i, "x": 1.5e-8 * (i + 1), "y": 1e16 + i * 1e3} for i in range(12)]
    out = json.loads(run(value))
    rows = out["@data"]["@rows"] if "@data" in out else out
    assert [r[1:] if isinstance(r, list) else [r["x"], r["y"]] for r in rows] == [
        [v["x"], v["y"]] for v in value
    ]


def test_a_null_link_is_derived_only_from_a_null_field() -> None:
    users = [{"login": f"u{i}", "url": f"https://x.example/users/u{i}"} for i in range(10)]
    users += [{"login": None, "url": None}, {"login": "", "url": None}]
    out = json.loads(run(users))
    assert "(null if that is null)" in out["@legend"]["how"]
    assert out["@legend"]["derived"]["[]"] == {"url": "https://x.example/users/{login}"}
    # a null login gives a null url, as the legend says; an empty one gives no url at all,
    # so that object keeps its null
    assert out["@data"][-2:] == [{"login": None}, {"login": "", "url": None}]
    # without such a null, the legend does not mention it
    plain = json.loads(run(users[:10]))
    assert "null if" not in plain["@legend"]["how"]


def test_compress_factors_json_while_the_input_is_counted(
    corpus_cases: list[dict[str, Any]], tmp_path: Any
) -> None:
    # headroom_core.compress runs the lossless stage before the count ends (budget 0 then):
    # the output is the compressor's own with the budget from the finished count
    config = HeadroomConfig(home=tmp_path)
    for case in [c for c in corpus_cases if c["kind"] == "json"][:3]:
        text = case_text(case)
        got = compress(text, query=case["query"], tool=case["tool"], config=config)
        tokens = TOKENIZER.count(text)
        assert got.original_tokens == tokens and got.ref is not None
        ctx = CompressContext(
            ref=got.ref,
            config=config,
            count_tokens=TOKENIZER.count,
            original_tokens=tokens,
            budget=config.budget_for("json", tokens),
            query=case["query"],
            tool=case["tool"],
        )
        assert got.text == JSONCompressor().compress(text, ctx).text


def test_over_every_budget_it_tried_the_output_is_the_closest(
    corpus_cases: list[dict[str, Any]],
) -> None:
    # at budgets the floors (legend, rows kept for the query and anomalies) cannot meet, no
    # round fits: the output is then the round that came closest, not the last one
    overs = 0
    outputs: dict[str, int] = {}

    def count(s: str) -> int:
        n = TOKENIZER.count(s)
        try:
            json.loads(s)  # a whole output, not a sample of one
        except ValueError:
            return n
        outputs[s] = n
        return n

    for case in [c for c in corpus_cases if c["kind"] == "json"]:
        text = case_text(case)
        tokens = TOKENIZER.count(text)
        for share in (0.02, 0.05):
            outputs.clear()
            budget = int(tokens * share)
            out = run(text=text, budget=budget, query=case["query"], tool=case["tool"], count=count)
            n = TOKENIZER.count(out)
            if n > budget:
                overs += 1
                assert n == min(outputs.values()), (case["id"], share)
    assert overs  # the corpus has such budgets


def _issues(n: int) -> list[dict[str, Any]]:
    return [
        {
            "number": i,
            "title": f"issue {i}: the build fails on target {i % 7}",
            "body": f"Steps to reproduce {i}: " + "configure, build, run the suite; " * 30,
            "html_url": f"https://example.com/repo/issues/{i}",
            "state": ["open", "closed"][i % 2],
        }
        for i in range(n)
    ]


def _prepared(value: Any, budget: int) -> tuple[Any, CompressContext]:
    text = json.dumps(value, indent=2)
    ctx = _context(text, budget)
    return JSONCompressor().prepare(text, ctx), ctx


def test_far_over_the_budget_the_lossless_output_is_not_rendered() -> None:
    # its tokens would only calibrate the selection, which the factored tree does as well
    lossless_tokens = TOKENIZER.count(run(_issues(40)))
    far, ctx = _prepared(_issues(40), lossless_tokens // 5)
    out = far.finish(ctx)
    assert far.compact == "" and "lossy" in " ".join(out.notes)
    assert TOKENIZER.count(out.text) <= ctx.budget
    near, ctx = _prepared(_issues(40), lossless_tokens // 2)
    assert "lossy" in " ".join(near.finish(ctx).notes) and near.compact != ""


def test_a_selection_misled_by_repeated_objects_starts_again_from_the_lossless_output() -> None:
    # three large owners, each repeated on a third of the rows: the compact form refers to
    # the repeats, so it is a small share of the factored tree the estimate starts from
    owners = [
        {**_owner(login, i, extra=8), "about": f"{login} maintains the build. " * 40}
        for i, login in enumerate(LOGINS[:3], 1)
    ]
    rows = [{"id": i, "owner": dict(owners[i % 3])} for i in range(60)]
    lossless = run(rows)
    budget = TOKENIZER.count(lossless)
    prepared, ctx = _prepared(rows, budget)
    estimate = len(prepared.pristine) * ctx.original_tokens / len(prepared.text)
    assert estimate >= FAR_OVER * budget  # the estimate alone would skip the lossless output
    assert prepared.finish(ctx).text == lossless


def test_the_row_matching_the_query_best_goes_after_the_first_and_last_only() -> None:
    # the first and last rows show where the array starts and ends, the failure is an
    # anomaly; a fourth row kept is the one the query asks about, never the second
    rows = [{"id": i, "status": "ok", "note": f"build step {i} finished"} for i in range(60)]
    rows[17]["status"] = "failed"
    rows[41]["note"] = "build step 41 uploaded the wheel to pypi"
    fourth = 0
    for budget in range(150, 400, 6):
        out = run(rows, budget=budget, query="which step uploaded the wheel?")
        ids = [r[0] for r in json.loads(out)["@data"]["@rows"] if isinstance(r, list)]
        assert {0, 17, 59} <= set(ids)
        if len(ids) > 3:
            fourth += 1
            assert 41 in ids, (budget, ids)
    assert fourth  # some budgets keep a fourth row


LINK_KINDS = ["branches", "commits", "contents", "events", "forks", "issues", "pulls", "tags"]


def _repository(i: int) -> dict[str, Any]:
    name = f"org{i}/project{i}"
    repo: dict[str, Any] = {"id": 1000 + i, "full_name": name, "name": f"project{i}"}
    repo.update({f"topic_{k}": f"tag-{i}-{k * 7919 % 1000}-{'xyz' * (k % 4)}" for k in range(25)})
    repo.update({f"{k}_url": f"https://api.example.com/repos/{name}/{k}" for k in LINK_KINDS})
    return repo


def test_a_lossless_output_that_fits_is_kept_when_the_estimate_said_far_over() -> None:
    # search hits naming three repositories ten times each: the factored tree states every
    # repeat, the compact form refers to them, so the estimate from the tree is far over a
    # budget the lossless output meets; the selection's own output shows it may fit
    hits = [
        {"path": f"src/file{j}.py", "sha": f"{j:040x}", "repository": _repository(j % 3)}
        for j in range(30)
    ]
    lossless = run(hits)
    budget = TOKENIZER.count(lossless)
    prepared, ctx = _prepared(hits, budget)
    estimate = len(prepared.pristine) * ctx.original_tokens / len(prepared.text)
    assert estimate >= FAR_OVER * budget
    assert prepared.finish(ctx).text == lossless

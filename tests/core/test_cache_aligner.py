"""CacheAligner: volatile parts of a prompt prefix, the stability score, opt-in fixes."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from headroom_core import CacheAligner, PrefixReport
from headroom_core._cache_aligner import find_volatile

STABLE = (
    "You are a coding agent. Use Python 3.11 and return JSON with 2 fields. "
    "Serve on localhost:8080 with HTTP/1.1; the aspect ratio is 16:9; version v1.2.3. "
) * 20


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Now: 2026-11-25T16:20:03Z.", "timestamp", "2026-11-25T16:20:03Z"),
        ("at 2026-11-25 16:20:03.123+01:00 sharp", "timestamp", "2026-11-25 16:20:03.123+01:00"),
        ("Date: Tue, 25 Nov 2026 16:20:00 GMT", "timestamp", "Tue, 25 Nov 2026 16:20:00 GMT"),
        ("syslog Nov 25 16:20:00 host", "timestamp", "Nov 25 16:20:00"),
        ("Today is 2026-11-25.", "date", "2026-11-25"),
        ("Today is Tuesday, November 25, 2026.", "date", "Tuesday, November 25, 2026"),
        ("on 25 Nov 2026 we", "date", "25 Nov 2026"),
        ("due 11/25/2026", "date", "11/25/2026"),
        ("It is 4:20 PM now", "time", "4:20 PM"),
        (
            "id 3f2b8c1e-9d4a-4e7b-8f6a-2c1d0e9f8a7b here",
            "uuid",
            "3f2b8c1e-9d4a-4e7b-8f6a-2c1d0e9f8a7b",
        ),
        ("request id: 8f7a6b5c4d3e", "request_id", "8f7a6b5c4d3e"),
        ("X-Request-ID=abc123def456", "request_id", "abc123def456"),
        ("trace_id 'f00dbabe1234'", "request_id", "f00dbabe1234"),
        ("resp_68a1b2c3d4e5f6a7 done", "request_id", "resp_68a1b2c3d4e5f6a7"),
        ("nonce 4bf92f3577b34da6a3ce929d0e0e4736", "hex_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("ts=1732551603 ", "epoch", "1732551603"),
        ("ts=1732551603123 ", "epoch", "1732551603123"),
    ],
)
def test_volatile_values_are_found(text: str, kind: str, value: str) -> None:
    found = [(k, text[s:e]) for k, s, e in find_volatile(text)]
    assert found == [(kind, value)]


def test_stable_text_has_no_volatile_parts() -> None:
    assert find_volatile(STABLE) == []
    report = CacheAligner().analyze(system=STABLE)
    assert report.parts == () and report.stable
    assert report.score == 1.0
    assert report.stable_tokens == report.prefix_tokens > 0


def test_score_is_the_share_before_the_first_volatile_part() -> None:
    aligner = CacheAligner()
    early = aligner.analyze(system="Current date: 2026-11-25.\n" + STABLE)
    late = aligner.analyze(system=STABLE + "\nCurrent date: 2026-11-25.")
    assert early.score < 0.02
    assert late.score > 0.95
    assert early.kinds == late.kinds == ("date",)
    assert not late.stable
    part = late.parts[0]
    assert (part.location, part.value) == ("system", "2026-11-25")
    assert STABLE.endswith(" ") and part.start == len(STABLE) + len("\nCurrent date: ")


def chat_tools(*names: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": n, "description": f"{n} things", "parameters": {"type": "object"}},
        }
        for n in names
    ]


def test_tools_come_first_and_are_located() -> None:
    tools = [
        {"name": "b", "description": "build 2026-01-02"},
        {"name": "a", "description": "x"},
    ]
    report = CacheAligner().analyze(system=STABLE, tools=tools)
    assert report.parts[0].location == "tools[0]"
    assert report.score < 0.05
    assert report.tools_sorted is False
    assert CacheAligner().analyze(tools=chat_tools("a", "b")).tools_sorted is True


def test_comparison_with_the_previous_request_finds_reordering_and_changes() -> None:
    aligner = CacheAligner()
    first = aligner.analyze(system=STABLE + "You have 17 credits.", tools=chat_tools("b", "a"))
    second = aligner.analyze(
        system=STABLE + "You have 16 credits.", tools=chat_tools("a", "b"), previous=first
    )
    kinds = [p.kind for p in second.parts]
    assert kinds == ["tool_order", "changed"]
    assert second.parts[0].token_offset == 0 and second.score == 0.0
    changed = second.parts[1]
    assert changed.location == "system" and changed.value.startswith("6 credits")
    same = aligner.analyze(
        system=STABLE + "You have 17 credits.", tools=chat_tools("b", "a"), previous=first
    )
    assert same.parts == ()


def test_sort_tools_makes_any_order_identical() -> None:
    aligner = CacheAligner(sort_tools=True)
    tools = chat_tools("search", "add", "mul")
    before = copy.deepcopy(tools)
    one = aligner.align(tools=tools)
    two = aligner.align(tools=list(reversed(tools)))
    assert tools == before
    assert one.tools is not None and two.tools is not None
    assert json.dumps(one.tools) == json.dumps(two.tools)
    assert one.after.tools_sorted and not one.before.tools_sorted
    assert CacheAligner().align(tools=tools).tools == tools, "no fix unless opted in"


def test_move_volatile_gives_identical_prefixes_across_requests() -> None:
    aligner = CacheAligner(move_volatile=True)

    def request(day: str, rid: str) -> tuple[str, list[dict[str, Any]]]:
        system = f"{STABLE}\nToday is {day}. Request id: {rid}.\n{STABLE}"
        return system, [{"role": "user", "content": "Summarise the incident."}]

    s1, m1 = request("2026-11-25", "req_8f7a6b5c4d3e2f1a")
    s2, m2 = request("2026-11-26", "req_0000aaaa1111bbbb")
    a1, a2 = aligner.align(system=s1, messages=m1), aligner.align(system=s2, messages=m2)
    assert a1.system == a2.system
    assert "[date#1]" in a1.system and "2026-11-25" not in a1.system
    assert a1.before.score < 0.6 and a1.after.score == 1.0
    assert a1.moved == (("[date#1]", "2026-11-25"), ("[request_id#1]", "req_8f7a6b5c4d3e2f1a"))
    assert a1.note is not None and "[date#1] = 2026-11-25" in a1.note
    assert a1.messages is not None
    assert a1.messages[-1]["content"].endswith(a1.note)
    assert m1 == [{"role": "user", "content": "Summarise the incident."}], "input not mutated"


@pytest.mark.parametrize(
    ("messages", "where"),
    [
        (  # OpenAI Chat: leading system message, trailing tool result
            [
                {"role": "system", "content": "Now: 2026-11-25T16:20:03Z"},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": None, "tool_calls": []},
                {"role": "tool", "tool_call_id": "c", "content": "ok"},
            ],
            "system message",
        ),
        (  # OpenAI Responses: developer instructions, trailing function_call_output
            [
                {
                    "role": "developer",
                    "content": [{"type": "input_text", "text": "Now: 2026-11-25T16:20:03Z"}],
                },
                {"type": "function_call_output", "call_id": "c", "output": "ok"},
            ],
            "developer item",
        ),
        (  # Anthropic: last user message with tool_result blocks
            [
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "t", "content": "ok"}],
                },
            ],
            "text block",
        ),
    ],
)
def test_note_goes_after_everything_in_each_format(messages: list[Any], where: str) -> None:
    system = (
        None
        if where != "text block"
        else [
            {
                "type": "text",
                "text": "Now: 2026-11-25T16:20:03Z",
                "cache_control": {"type": "ephemeral"},
            }
        ]
    )
    before = copy.deepcopy(messages)
    out = CacheAligner(move_volatile=True).align(system=system, messages=messages)
    assert messages == before
    assert out.messages is not None and out.note is not None
    assert out.messages[: len(messages) - 1] == messages[:-1] or where != "text block"
    last = out.messages[-1]
    if where == "system message":
        assert out.messages[0]["content"] == "Now: [timestamp#1]"
        assert last == {"role": "system", "content": out.note}
    elif where == "developer item":
        assert out.messages[0]["content"][0]["text"] == "Now: [timestamp#1]"
        assert last == {"role": "developer", "content": out.note}
    else:
        assert out.system[0] == {
            "type": "text",
            "text": "Now: [timestamp#1]",
            "cache_control": {"type": "ephemeral"},
        }
        assert last["content"][-1] == {"type": "text", "text": out.note}
        assert last["content"][0] == messages[0]["content"][0]
    assert isinstance(out.before, PrefixReport) and out.after.parts == ()

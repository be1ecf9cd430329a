"""compress_messages on OpenAI Chat, OpenAI Responses and Anthropic message lists."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from headroom_core import (
    MARKER_RE,
    RETRIEVE_TOOL_NAME,
    ConfigError,
    HeadroomConfig,
    MessagesCompression,
    SQLiteStore,
    compress_messages,
    format_marker,
    retrieve,
)
from headroom_core._messages_cache import MESSAGE_CACHE
from headroom_core._messages_formats import build_query, live_zone_start, tool_calls_of

ROWS = [
    {
        "login": f"user{i}",
        "id": 1000 + i,
        "site_admin": i == 7,
        "url": f"https://api.github.com/users/user{i}",
        "repos_url": f"https://api.github.com/users/user{i}/repos",
    }
    for i in range(60)
]
BIG = json.dumps(ROWS, indent=2)  # indented JSON: every compressor shrinks it
OTHER = json.dumps([{**r, "id": r["id"] + 5000} for r in ROWS], indent=2)
SMALL = '{"ok": true}'


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    MESSAGE_CACHE.clear()
    yield
    MESSAGE_CACHE.clear()


def wire(messages: list[Any]) -> str:
    """The bytes a client would send for ``messages``."""
    return json.dumps(messages, ensure_ascii=False)


def chat_transcript() -> list[dict[str, Any]]:
    return [
        {"role": "system", "content": "You are a careful assistant. " + BIG},
        {"role": "user", "content": "Which user is a site admin?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "list_users", "arguments": '{"org": "acme"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "ping", "arguments": "{}"},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": BIG},
        {"role": "tool", "tool_call_id": "call_2", "content": SMALL},
    ]


def assert_retrievable(result: MessagesCompression, original: str) -> None:
    assert result.refs, "expected at least one compressed result"
    assert retrieve(result.refs[0]) == original


def test_chat_completions_tool_result_compressed_rest_untouched() -> None:
    messages = chat_transcript()
    before = copy.deepcopy(messages)
    result = compress_messages(messages)

    assert messages == before, "input must not be mutated"
    out = result.messages
    assert out[:3] == messages[:3], "system, user and assistant are untouched by default"
    assert out[4] == messages[4], "a result below the floor is untouched"
    assert len(out[3]["content"]) < len(BIG)
    assert out[3]["tool_call_id"] == "call_1" and out[3]["role"] == "tool"
    assert_retrievable(result, BIG)

    s = result.stats[3]
    assert (s.action, s.live, s.tools) == ("compressed", True, ("list_users",))
    assert 0 < s.compressed_tokens < s.original_tokens
    assert result.stats[4].notes == ("below min_tokens",)
    assert result.stats[0].action == "unchanged" and result.stats[0].original_tokens == 0
    assert result.live_from == 3
    assert result.compressed_count == 1
    assert result.saved_tokens == s.saved_tokens > 0
    assert 0 < result.savings < 1
    assert result.to_dict()["stats"][3]["refs"] == list(s.refs)  # type: ignore[index]


def test_chat_list_content_parts_are_compressed_per_part() -> None:
    messages = chat_transcript()
    messages[3] = {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": [{"type": "text", "text": BIG}, {"type": "text", "text": SMALL}],
    }
    out = compress_messages(messages).messages[3]["content"]
    assert len(out[0]["text"]) < len(BIG)
    assert out[1] == {"type": "text", "text": SMALL}


def test_openai_responses_function_call_output() -> None:
    items: list[dict[str, Any]] = [
        {"role": "user", "content": [{"type": "input_text", "text": "Who is user7?"}]},
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {
            "type": "function_call",
            "call_id": "fc_1",
            "name": "list_users",
            "arguments": '{"path": "users.json"}',
        },
        {"type": "function_call_output", "call_id": "fc_1", "output": BIG},
    ]
    before = copy.deepcopy(items)
    result = compress_messages(items)
    assert items == before
    assert result.messages[:3] == items[:3]
    out = result.messages[3]
    assert out["type"] == "function_call_output" and out["call_id"] == "fc_1"
    assert len(out["output"]) < len(BIG)
    assert result.stats[3].role == "function_call_output"
    assert result.stats[3].tools == ("list_users",)
    assert result.live_from == 3
    assert_retrievable(result, BIG)


def anthropic_transcript(content: Any, **block_extra: Any) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "Which user is a site admin?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me list them."},
                {"type": "tool_use", "id": "toolu_1", "name": "list_users", "input": {"org": "x"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": content,
                    **block_extra,
                },
                {"type": "text", "text": "Keep it short."},
            ],
        },
    ]


def test_anthropic_string_content() -> None:
    messages = anthropic_transcript(BIG, is_error=False)
    before = copy.deepcopy(messages)
    result = compress_messages(messages)
    assert messages == before
    block = result.messages[2]["content"][0]
    assert block["tool_use_id"] == "toolu_1" and block["is_error"] is False
    assert len(block["content"]) < len(BIG)
    assert result.messages[2]["content"][1] == {"type": "text", "text": "Keep it short."}
    assert result.stats[2].tools == ("list_users",)
    assert_retrievable(result, BIG)


def test_anthropic_list_content_keeps_images_and_small_blocks() -> None:
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"},
    }
    content = [{"type": "text", "text": BIG}, image, {"type": "text", "text": SMALL}]
    result = compress_messages(anthropic_transcript(content))
    out = result.messages[2]["content"][0]["content"]
    assert len(out[0]["text"]) < len(BIG)
    assert out[1] == image
    assert out[2] == {"type": "text", "text": SMALL}


@pytest.mark.parametrize("where", ["block", "inner", "message"])
def test_anthropic_cache_control_is_never_touched(where: str) -> None:
    cc = {"type": "ephemeral"}
    if where == "block":
        messages = anthropic_transcript(BIG, cache_control=cc)
    elif where == "inner":
        messages = anthropic_transcript([{"type": "text", "text": BIG, "cache_control": cc}])
    else:
        messages = anthropic_transcript(BIG)
        messages[2]["cache_control"] = cc
    result = compress_messages(messages)
    assert wire(result.messages) == wire(messages)
    assert "cache_control" in result.stats[2].notes
    assert result.refs == ()


def test_anthropic_cache_control_elsewhere_does_not_block_other_results() -> None:
    messages = anthropic_transcript(BIG)
    messages[2]["content"].insert(
        0,
        {
            "type": "tool_result",
            "tool_use_id": "t0",
            "content": OTHER,
            "cache_control": {"type": "ephemeral"},
        },
    )
    out = compress_messages(messages).messages[2]["content"]
    assert out[0]["content"] == OTHER
    assert len(out[1]["content"]) < len(BIG)


def test_history_stays_byte_identical_when_a_turn_is_added() -> None:
    first = chat_transcript()
    r1 = compress_messages(first)
    second = [
        *first,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_3", "type": "function", "function": {"name": "ls", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_3", "content": OTHER},
        {"role": "user", "content": "A completely different question about repos_url."},
    ]
    for clear in (False, True):  # with the cache, and as a fresh process would see it
        if clear:
            MESSAGE_CACHE.clear()
        r2 = compress_messages(second)
        assert wire(r2.messages[: len(first)]) == wire(r1.messages)
        assert r2.stats[3].live is False and r2.stats[6].live is True
        assert r2.stats[3].notes == (() if clear else ("cache hit",))


def test_feeding_output_back_changes_nothing() -> None:
    r1 = compress_messages(chat_transcript())
    r2 = compress_messages(r1.messages)
    assert wire(r2.messages) == wire(r1.messages)
    assert r2.stats[3].notes == ("already compressed",)
    assert r2.stats[3].action == "unchanged"
    # refs in the output stay visible, so callers keep offering headroom_retrieve
    if MARKER_RE.search(r1.messages[3]["content"]):
        assert r2.refs == r1.refs


def test_frozen_prefix_is_left_alone() -> None:
    messages = chat_transcript()
    result = compress_messages(messages, frozen_prefix=4)
    assert wire(result.messages) == wire(messages)
    assert [s.action for s in result.stats] == ["frozen"] * 4 + ["unchanged"]
    with pytest.raises(ConfigError):
        compress_messages(messages, frozen_prefix=-1)


def test_opt_in_roles() -> None:
    messages = chat_transcript()
    messages[0] = {"role": "system", "content": OTHER}
    messages[1] = {"role": "user", "content": [{"type": "text", "text": OTHER}]}
    default = compress_messages(messages)
    assert default.messages[:3] == messages[:3]
    opted = compress_messages(messages, roles=("tool", "user", "system"))
    assert len(opted.messages[0]["content"]) < len(messages[0]["content"])
    assert len(opted.messages[1]["content"][0]["text"]) < len(OTHER)
    assert opted.stats[1].action == "compressed"
    with pytest.raises(ConfigError):
        compress_messages(messages, roles=("tool", "robot"))


def test_size_floor_is_configurable() -> None:
    result = compress_messages(chat_transcript(), min_tokens=10**6)
    assert result.refs == ()
    assert "below min_tokens" in result.stats[3].notes


def test_retrieval_results_are_never_compressed_again() -> None:
    messages = chat_transcript()
    messages[2]["tool_calls"][0]["function"]["name"] = RETRIEVE_TOOL_NAME
    result = compress_messages(messages)
    assert result.messages[3]["content"] == BIG
    assert result.stats[3].notes == ("retrieval result",)


def test_odd_items_pass_through() -> None:
    messages: list[Any] = [
        "not a dict",
        None,
        {"role": "tool", "tool_call_id": "nope", "content": None},
        {"role": "tool", "tool_call_id": "nope", "content": {"a": BIG}},
        {"type": "function_call_output", "call_id": "unknown", "output": BIG},
        {"role": "user"},
        {"type": "function_call_output", "call_id": "x"},
    ]
    before = copy.deepcopy(messages)
    result = compress_messages(messages)
    assert messages == before
    assert result.messages[:4] == messages[:4]
    assert result.messages[5:] == messages[5:], "no key is added"
    assert result.stats[3].notes == ("not text",)
    assert len(result.messages[4]["output"]) < len(BIG), "an unlinked result still compresses"
    with pytest.raises(TypeError):
        compress_messages("hello")  # type: ignore[arg-type]


def test_cache_hit_is_not_served_for_another_store(tmp_path: Path) -> None:
    messages = chat_transcript()
    compress_messages(messages)
    other = SQLiteStore(tmp_path / "other.sqlite3")
    try:
        result = compress_messages(messages, store=other)
        assert result.stats[3].notes == ()
        assert retrieve(result.refs[0], store=other) == BIG
    finally:
        other.close()


def test_same_bytes_in_another_process(headroom_home: Path) -> None:
    messages = anthropic_transcript(BIG)
    here = wire(compress_messages(messages).messages)
    code = (
        "import json, sys\n"
        "from headroom_core import compress_messages\n"
        "msgs = json.loads(sys.stdin.read())\n"
        "sys.stdout.write(json.dumps(compress_messages(msgs).messages, ensure_ascii=False))\n"
    )
    env = {**os.environ, "HEADROOM_HOME": str(headroom_home)}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(messages),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == here


def test_format_helpers() -> None:
    chat = chat_transcript()
    assert dict(tool_calls_of(chat[2]))["call_1"].name == "list_users"
    assert dict(tool_calls_of(chat[2]))["call_1"].arguments == "acme"
    anth = anthropic_transcript(BIG)
    call = dict(tool_calls_of(anth[1]))["toolu_1"]
    assert (call.name, call.arguments) == ("list_users", "x")
    resp = {
        "type": "function_call",
        "call_id": "f",
        "name": "read",
        "arguments": '{"path": "a.py"}',
    }
    assert dict(tool_calls_of(resp))["f"].path == "a.py"
    assert build_query("why did it fail?", call) == "why did it fail?\nx"
    assert build_query("", None) is None
    assert live_zone_start(chat) == 3
    assert live_zone_start(chat[:2]) == 0
    assert live_zone_start([*anth, {"role": "assistant", "content": "done"}]) == 4


def test_config_is_part_of_the_cache_key() -> None:
    messages = chat_transcript()
    a = compress_messages(messages)
    b = compress_messages(messages, config=HeadroomConfig(max_output_tokens=300))
    assert b.stats[3].notes == ()  # not served from a's entry
    assert a.stats[3].compressed_tokens >= b.stats[3].compressed_tokens


def test_text_with_a_marker_is_left_alone_and_its_ref_reported() -> None:
    ref = "hr_" + "a" * 20
    messages = chat_transcript()
    messages[3]["content"] = BIG + "\n" + format_marker(3, "rows", ref)
    result = compress_messages(messages)
    assert result.messages[3]["content"] == messages[3]["content"]
    assert result.stats[3].notes == ("already compressed",)
    assert (result.stats[3].action, result.refs) == ("unchanged", (ref,))


def test_compression_cache_is_bounded() -> None:
    from headroom_core._messages_cache import CachedResult, CompressionCache, digest

    cache = CompressionCache(max_entries=6, max_chars=100)
    for i in range(10):
        cache.put(digest(str(i)), CachedResult(f"text {i}", "text", 10, 2, None, None))
    assert len(cache) <= 6
    assert cache.get(digest("9"), None) is not None, "the newest entry is kept"
    assert cache.get(digest("0"), None) is None, "the oldest entry was evicted"
    assert cache.is_output(digest("text 9")) and not cache.is_output(digest("text 0"))
    cache.put("big", CachedResult("x" * 90, "text", 100, 30, None, None))
    cache.put("big2", CachedResult("y" * 90, "text", 100, 30, None, None))
    assert cache.get("big", None) is None and cache.get("big2", None) is not None
    cache.clear()
    assert len(cache) == 0


def test_responses_sdk_output_items_are_read_but_kept_as_objects() -> None:
    """``input += response.output`` puts SDK models in the list next to dicts."""
    from openai.types.responses import ResponseFunctionToolCall

    call = ResponseFunctionToolCall(
        type="function_call",
        id="fc_item",
        call_id="fc_1",
        name="list_users",
        arguments='{"org": "acme"}',
        status="completed",
    )
    items: list[Any] = [
        {"role": "user", "content": "Who is user7?"},
        call,
        {"type": "function_call_output", "call_id": "fc_1", "output": BIG},
    ]
    result = compress_messages(items)
    assert result.live_from == 2
    assert isinstance(result.messages[1], ResponseFunctionToolCall)
    assert result.messages[1] == call
    assert result.stats[1].role == "function_call"
    assert result.stats[2].tools == ("list_users",)
    assert len(result.messages[2]["output"]) < len(BIG)

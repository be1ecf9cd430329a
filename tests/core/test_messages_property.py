"""Property: adding a turn never changes the compressed bytes of the turns before it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from headroom_core import compress_messages
from headroom_core._messages_cache import MESSAGE_CACHE

_LOG = "\n".join(
    f"2024-05-0{1 + i % 9} 10:{i % 60:02d}:{i % 59:02d} {'ERROR' if i % 37 == 0 else 'INFO'} "
    f"worker-{i % 4} request {1000 + i} handled in {i % 17} ms"
    for i in range(240)
)
_JSON_A = json.dumps(
    [{"id": i, "name": f"item-{i}", "ok": i % 5 != 0} for i in range(120)], indent=2
)
_JSON_B = json.dumps(
    {"items": [{"sha": f"{i:040x}", "msg": f"fix {i}"} for i in range(60)]}, indent=2
)
_CODE = "\n".join(
    f"def handler_{i}(request):\n    return respond(request, {i})\n" for i in range(90)
)
PAYLOADS = [_LOG, _JSON_A, _JSON_B, _CODE, "ok", "short result with a few words"]
QUESTIONS = [
    "Why did worker-2 fail?",
    "Which items are not ok?",
    "Find the commit that fixed 42.",
    "What does handler_7 return?",
]
TOOLS = ["get_logs", "list_items", "git_log", "read_file"]

# a turn: ("user", question index) or ("tool", tool index, payload index, arg)
turns = st.lists(
    st.one_of(
        st.tuples(st.just("user"), st.integers(0, len(QUESTIONS) - 1)),
        st.tuples(
            st.just("tool"),
            st.integers(0, len(TOOLS) - 1),
            st.integers(0, len(PAYLOADS) - 1),
            st.sampled_from(["a.py", "b.log", "x"]),
        ),
    ),
    min_size=1,
    max_size=8,
)


def build(fmt: str, script: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """A message list in ``fmt`` for ``script`` (each turn appends messages, never edits)."""
    msgs: list[dict[str, Any]] = []
    if fmt == "chat":
        msgs.append({"role": "system", "content": "You are an agent."})
    for n, turn in enumerate(script):
        if turn[0] == "user":
            text = QUESTIONS[turn[1]]
            if fmt == "responses":
                msgs.append({"role": "user", "content": [{"type": "input_text", "text": text}]})
            else:
                msgs.append({"role": "user", "content": text})
            continue
        _, tool_i, payload_i, arg = turn
        cid, name, args, out = f"c{n}", TOOLS[tool_i], {"path": arg}, PAYLOADS[payload_i]
        if fmt == "chat":
            fn = {"name": name, "arguments": json.dumps(args)}
            msgs.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": cid, "type": "function", "function": fn}],
                }
            )
            msgs.append({"role": "tool", "tool_call_id": cid, "content": out})
        elif fmt == "responses":
            msgs.append(
                {
                    "type": "function_call",
                    "call_id": cid,
                    "name": name,
                    "arguments": json.dumps(args),
                }
            )
            msgs.append({"type": "function_call_output", "call_id": cid, "output": out})
        else:
            msgs.append(
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": cid, "name": name, "input": args}],
                }
            )
            content: Any = out if n % 2 else [{"type": "text", "text": out}]
            msgs.append(
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": cid, "content": content}],
                }
            )
    return msgs


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fmt=st.sampled_from(["chat", "responses", "anthropic"]),
    script=turns,
    extra=turns,
    cold=st.booleans(),
)
def test_first_n_turns_stay_byte_identical(
    fmt: str, script: list[tuple[Any, ...]], extra: list[tuple[Any, ...]], cold: bool
) -> None:
    first = build(fmt, script)
    longer = build(fmt, [*script, extra[0]])
    assert longer[: len(first)] == first  # the longer transcript only appends
    r1 = compress_messages(first)
    if cold:  # what another process, or an evicted cache, would produce
        MESSAGE_CACHE.clear()
    r2 = compress_messages(longer)
    for a, b in zip(r1.messages, r2.messages[: len(first)], strict=True):
        assert json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)
    # nothing grew, and everything outside tool results is untouched
    for orig, new, stats in zip(longer, r2.messages, r2.stats, strict=True):
        assert stats.compressed_tokens <= stats.original_tokens
        if orig.get("role") in ("system", "assistant") or orig.get("type") == "function_call":
            assert new == orig


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fmt=st.sampled_from(["chat", "responses", "anthropic"]),
    script=turns,
    extra=turns,
    cold=st.booleans(),
)
def test_output_kept_as_history_stays_byte_identical(
    fmt: str, script: list[tuple[Any, ...]], extra: list[tuple[Any, ...]], cold: bool
) -> None:
    """A caller that appends new turns to headroom's output, not to its originals."""
    first = build(fmt, script)
    r1 = compress_messages(first)
    appended = build(fmt, [*script, extra[0]])[len(first) :]
    if cold:  # another process: the caller says what it already sent
        MESSAGE_CACHE.clear()
        r2 = compress_messages([*r1.messages, *appended], frozen_prefix=len(first))
    else:
        r2 = compress_messages([*r1.messages, *appended])
    assert json.dumps(r2.messages[: len(first)]) == json.dumps(r1.messages)
    fresh = compress_messages(build(fmt, [*script, extra[0]]))
    assert json.dumps(r2.messages) == json.dumps(fresh.messages)

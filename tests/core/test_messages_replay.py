"""The prefix-caching simulation of the replay benchmark, on requests small enough to check by hand."""

from __future__ import annotations

from benchmarks.replay import to_request
from benchmarks.replay_sim import Tokens, cost, simulate_anthropic, simulate_openai

WORD = "alpha "  # one cl100k token per repetition


def seg(n: int, tag: str = "") -> str:
    return tag + WORD * n


def test_openai_reuses_the_shared_prefix_in_128_token_steps() -> None:
    tokens = Tokens()
    head = seg(1500, "H")
    r1 = [head, seg(10, "a")]
    r2 = [head, seg(10, "a"), seg(300, "b")]
    r3 = [seg(1500, "X"), seg(10, "a")]  # first segment changed: nothing to reuse
    u = simulate_openai([r1, r2, r3], tokens)
    shared = tokens.count(head) + tokens.count(seg(10, "a"))
    assert u[0].cached == 0
    assert u[1].cached == shared // 128 * 128 and u[1].cached >= 1024
    assert u[1].reusable == shared and u[1].rebilled == shared - u[1].cached < 128
    assert u[2].cached == 0 and u[2].rebilled == u[2].reusable > 1500


def test_openai_needs_1024_tokens() -> None:
    u = simulate_openai([[seg(500)], [seg(500), seg(5)]], Tokens())
    assert [x.cached for x in u] == [0, 0]


def test_anthropic_reads_the_previous_breakpoint_and_writes_the_rest() -> None:
    tokens = Tokens()
    r1 = [seg(1200, "S"), seg(50, "u")]
    r2 = [*r1, seg(40, "c"), seg(700, "t")]
    r3 = [seg(1200, "S"), seg(51, "u"), seg(40, "c")]  # message 1 changed
    u = simulate_anthropic([r1, r2, r3], tokens)
    assert (u[0].cached, u[0].write) == (0, u[0].input)
    assert u[1].cached == u[0].input and u[1].write == u[1].input - u[0].input
    assert u[2].cached == tokens.count(r3[0]), "only the system breakpoint still matches"
    assert u[2].rebilled > 0
    assert cost("anthropic", u) > 0 and cost("openai", u) > 0


def test_anthropic_breakpoint_goes_before_a_trailing_note() -> None:
    note = "Current values for the placeholders in the instructions: [date#1] = 2026-01-15"
    messages = [
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t", "name": "x", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t", "content": "ok"},
                {"type": "text", "text": note},
            ],
        },
    ]
    segs, last = to_request("anthropic", messages, "[]", "system", note)
    assert segs[-1] == note and last == len(segs) - 1
    assert to_request("anthropic", messages, "[]", "system")[1] == len(segs)
    segs, last = to_request("openai", [{"role": "system", "content": "s"}, *messages], "[]")
    assert last == len(segs) == 4

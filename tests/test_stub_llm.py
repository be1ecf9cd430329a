"""The shared stub LLM server speaks the three wire formats the real clients expect."""

from __future__ import annotations

import anthropic
import openai

from tests.stub_llm import StubLLM, StubRequest, Text, ToolCall


def _script(req: StubRequest) -> Text | ToolCall:
    if not req.tool_outputs():
        return ToolCall("lookup", {"q": "needle"}, id="call_1")
    return Text(f"saw: {req.tool_outputs()[-1]}")


def test_chat_completions_round_trip_and_stream() -> None:
    with StubLLM(_script) as llm:
        client = openai.OpenAI(base_url=llm.base_url, api_key="test-key")
        first = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
        call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
        assert call.function.name == "lookup"  # type: ignore[union-attr]
        msgs = [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": "the answer is 42"},
        ]
        stream = client.chat.completions.create(model="m", messages=msgs, stream=True)  # type: ignore[arg-type]
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert text == "saw: the answer is 42"
    assert llm.requests[1].tool_outputs() == ["the answer is 42"]
    assert llm.requests[0].headers["authorization"] == "Bearer test-key"


def test_responses_api_round_trip_and_stream() -> None:
    with StubLLM(_script) as llm:
        client = openai.OpenAI(base_url=llm.base_url, api_key="k")
        first = client.responses.create(model="m", input="hi")
        call = first.output[0]
        assert call.type == "function_call" and call.name == "lookup"
        items = [
            {"role": "user", "content": "hi"},
            {"type": "function_call_output", "call_id": call.call_id, "output": "forty-two"},
        ]
        with client.responses.stream(model="m", input=items) as stream:  # type: ignore[arg-type]
            final = stream.get_final_response()
        assert final.output_text == "saw: forty-two"


def test_anthropic_messages_round_trip_and_stream() -> None:
    with StubLLM(_script) as llm:
        client = anthropic.Anthropic(base_url=llm.url, api_key="k")
        first = client.messages.create(
            model="m", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
        )
        block = first.content[0]
        assert block.type == "tool_use" and block.name == "lookup"
        msgs = [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [block.model_dump()]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": block.id,
                        "content": [{"type": "text", "text": "x=7"}],
                    }
                ],
            },
        ]
        with client.messages.stream(model="m", max_tokens=100, messages=msgs) as stream:  # type: ignore[arg-type]
            text = stream.get_final_text()
        assert text == "saw: x=7"
    headers = llm.requests[0].headers
    assert "k" in (
        headers.get("x-api-key"),
        headers.get("authorization", "").removeprefix("Bearer "),
    )

"""Prompt assembly: the prompt never passes the model's context length (less the answer's
and the tools' room), keeps the newest history, never opens on a tool's answer without its
call, and keeps the best retrieved context first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from personae.providers.chat import Message, ToolCall
from personae.runtime.prompt import answered, assemble, message_tokens

TEXT = st.text(alphabet="abcdefgh ", max_size=400)
MESSAGES = st.lists(
    st.one_of(
        st.builds(Message, st.sampled_from(["user", "assistant"]), TEXT),
        st.builds(lambda t: Message("tool", t, tool_call_id="c1"), TEXT),
        st.builds(
            lambda t: Message("assistant", t, tool_calls=(ToolCall("c1", "weather", "{}"),)), TEXT
        ),
    ),
    max_size=40,
)


@given(MESSAGES, st.lists(TEXT, max_size=10), st.integers(min_value=300, max_value=6000))
def test_the_prompt_fits_and_keeps_the_newest(
    history: list[Message], context: list[str], length: int
) -> None:
    prompt = assemble(
        "You are terse.", context, history, "And now?", context_length=length, answer_tokens=200
    )
    assert prompt.tokens <= length - 200
    kept = prompt.messages[1:-1]
    whole = answered(history)
    assert kept == whole[len(whole) - len(kept) :]  # a suffix: the newest
    assert not kept or kept[0].role != "tool"
    assert prompt.messages[-1] == Message("user", "And now?")
    assert prompt.messages[0].role == "system"


def test_calls_left_unanswered_and_answers_to_no_call_are_left_out() -> None:
    weather = ToolCall("c1", "weather", "{}")
    lost = ToolCall("c2", "tides", "{}")  # its run was cancelled before it was answered
    history = [
        Message("tool", "an answer whose call was cut", tool_call_id="c0"),
        Message("user", "Weather and tides?"),
        Message("assistant", "", tool_calls=(weather, lost)),
        Message("tool", "sunny", tool_call_id="c1"),
        Message("assistant", "Checking the tides", tool_calls=(ToolCall("c3", "tides", "{}"),)),
        Message("user", "Never mind."),
    ]
    assert answered(history) == [
        Message("user", "Weather and tides?"),
        Message("assistant", "", tool_calls=(weather,)),
        Message("tool", "sunny", tool_call_id="c1"),
        Message("assistant", "Checking the tides"),
        Message("user", "Never mind."),
    ]


def test_a_small_context_length_trims_the_history() -> None:
    history = [
        Message("user" if i % 2 else "assistant", f"turn {i} " + "x" * 200) for i in range(50)
    ]
    small = assemble(
        "Be brief.", ["a memory"], history, "Hi", context_length=1000, answer_tokens=256
    )
    large = assemble(
        "Be brief.", ["a memory"], history, "Hi", context_length=100_000, answer_tokens=256
    )
    assert 0 < small.history_kept < 20 and small.history_dropped == 50 - small.history_kept
    assert large.history_kept == 50 and large.history_dropped == 0
    assert small.messages[-2].content.startswith("turn 49")
    assert "a memory" in small.messages[0].content
    assert sum(message_tokens(m) for m in small.messages) <= 1000 - 256


def test_context_is_kept_best_first_within_half_the_room() -> None:
    context = [f"fact {i}: " + "y" * 400 for i in range(20)]
    prompt = assemble("S", context, [], "Q", context_length=2000, answer_tokens=200)
    assert 0 < prompt.context_kept < 20
    assert "fact 0:" in prompt.messages[0].content
    assert f"fact {prompt.context_kept}:" not in prompt.messages[0].content

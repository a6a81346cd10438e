"""A turn's answer: the model called through its chain (streamed or whole) with the
prompt `prepare` built, tool rounds, the answer checked (its format, the agent's guards:
written again, then a FALLBACK template), or a template's answer without the model.
What happens is yielded as it happens; how it ended is written by `closing`."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

from personae.errors import PersonaeError, ProviderError, ProviderUnavailable
from personae.personas.modulation import Levels
from personae.providers.chat import Completion, Message, Request
from personae.runtime import behaving
from personae.runtime.chat_completions import formatted
from personae.runtime.closing import end_cancelled, fail, finish, pause
from personae.runtime.context import Emitted, Turn
from personae.runtime.fallback_chain import FallbackChain
from personae.runtime.preparation import prepare
from personae.runtime.record import Step
from personae.runtime.relay import Relay
from personae.runtime.tool_calls import call_tools


async def answer(turn: Turn, stream: bool, stop: asyncio.Event) -> AsyncIterator[Emitted]:
    """Carry the started turn from its prompt to its end."""
    runtime = turn.services
    try:
        messages, request, chain = await prepare(turn)
    except PersonaeError as failed:
        yield await fail(turn, failed.detail)
        return
    settings = runtime.settings
    decided = turn.retrieved.result().decided
    guards = decided.behaviour.guards
    # an answer that must pass a format or guards is streamed once it passes
    checked = request.response_format is not None or bool(guards.checks)
    relay = Relay(runtime.sessions, turn.session_id, turn.run_id)
    exclusive, template = behaving.template_answer(decided, "EXCLUSIVE")
    if exclusive is not None and template is not None:  # the template is the answer
        if stream:
            relay.send(exclusive)
            yield Emitted("token", {"text": exclusive})
            await relay.close()
        yield await finish(turn, exclusive, template)
        return
    if template is not None:  # it did not render: the model answers
        turn.recorder.commit_soon([template])
    rounds = retries = regenerated = 0
    try:
        while True:
            step = Step("llm_call", input={"iteration": rounds + retries + 1})
            completion: Completion | None = None
            chain.attempts.clear()
            if stream and not checked:
                async for item in _stream(chain, messages, request, stop):
                    if isinstance(item, Completion):
                        completion = item
                    else:
                        relay.send(item)
                        yield Emitted("token", {"text": item})
                await relay.close()  # the watchers have the tokens before what follows
            else:
                completion = await chain.complete(messages, request)
            if completion is None:  # cancelled mid-stream
                yield await end_cancelled(turn, chain, step)
                return
            completion = _client_calls_named(turn, completion)
            turn.usages.append(completion.usage())
            step.end(
                attempts=[a.__dict__ for a in chain.attempts],
                usage=completion.usage(),
                parameters=dict(request.parameters),
                neuromodulators=Levels.of(turn.persona.neuromodulators).stored(),
                tool_calls=len(completion.tool_calls),
            )
            if completion.tool_calls and rounds < settings.turn_max_tool_iterations:
                rounds += 1
                results = []
                async for emitted, answered in call_tools(turn, completion, step, stop):
                    yield emitted
                    if answered is not None:
                        results.append(answered)
                calls = completion.tool_calls
                theirs = [c for c in calls if c.name in turn.asked.client_functions]
                if theirs and not stop.is_set():
                    yield await pause(turn, completion.text, theirs)
                    return
                messages = [
                    *messages,
                    Message("assistant", completion.text, tool_calls=calls),
                    *results,
                ]
                if stop.is_set():
                    yield await end_cancelled(turn, chain, None)
                    return
                continue
            answer, wrong = formatted(request.response_format, completion.text)
            if wrong is not None and retries < settings.turn_format_retries:
                retries += 1
                turn.recorder.commit_soon([step])
                messages = [
                    *messages,
                    Message("assistant", completion.text),
                    Message(
                        "user", f"That answer does not match the format: {wrong}. Answer again."
                    ),
                ]
                continue
            if wrong is not None:
                tries = retries + 1
                reason = f"after {tries} tries the answer does not match response_format: {wrong}"
                yield await fail(turn, reason, chain)
                return
            violations, guarded = await behaving.checked(turn, decided, answer, regenerated + 1)
            if guarded is not None:
                turn.recorder.commit_soon([step])
                step = guarded
            if violations and regenerated < guards.regenerations:
                regenerated += 1
                turn.recorder.commit_soon([step])
                messages = [
                    *messages,
                    Message("assistant", completion.text),
                    Message("user", behaving.violation_note(violations)),
                ]
                continue
            if violations:
                turn.recorder.commit_soon([step])
                names = ", ".join(v.guard for v in violations)
                reason = f"after {regenerated + 1} tries the answer still fails {names}"
                fallback, fallen = await behaving.fallback_answer(turn, decided)
                if fallback is None or fallen is None:
                    yield await fail(turn, reason, chain, [fallen] if fallen else [])
                    return
                answer, step = fallback, fallen
            if stream and checked:
                relay.send(answer)
                yield Emitted("token", {"text": answer})
                await relay.close()
            yield await finish(turn, answer, step)
            return
    except (ProviderUnavailable, ProviderError) as failed:
        fallback, fallen = await behaving.fallback_answer(turn, decided)
        if fallback is None or fallen is None:
            yield await fail(turn, failed.detail, chain, [fallen] if fallen else [])
            return
        fallen.detail["because"] = failed.detail
        if stream:
            relay.send(fallback)
            yield Emitted("token", {"text": fallback})
        yield await finish(turn, fallback, fallen)
    finally:
        await relay.close()


def _client_calls_named(turn: Turn, completion: Completion) -> Completion:
    """The completion with each call of a client's function given an id naming the run
    (`call_<run id>…`), by which the client's results find it again."""
    if not turn.asked.client_functions:
        return completion
    calls = tuple(
        replace(call, id=f"call_{turn.run_id.hex}{secrets.token_hex(6)}")
        if call.name in turn.asked.client_functions
        else call
        for call in completion.tool_calls
    )
    return replace(completion, tool_calls=calls)


async def _stream(
    chain: FallbackChain, messages: Sequence[Message], request: Request, stop: asyncio.Event
) -> AsyncIterator[str | Completion]:
    """The chain's stream until it ends or `stop` is set (then the provider's stream is
    closed: the model stops producing)."""
    pieces = chain.stream(messages, request)
    try:
        async for item in pieces:
            if stop.is_set():
                return
            yield item
    finally:
        await pieces.aclose()

"""What the tenant's utility model judges in a turn, where a model pays: whether the
shortlisted rules really apply to the message (one call for all of them), and whether an
answer meets an agent's guards written in plain language (one call for all of them).

Each is one call with a numbered list and a JSON answer (`{"numbers": [...]}`), its usage
recorded on the turn. A verification that fails (no utility model, a provider down, an
answer that is not the JSON asked for) keeps the shortlist as matched and says why; a
plain-language guard that cannot be judged counts as failed (guards fail closed)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from personae.db.tenancy import tenant_session
from personae.errors import PersonaeError
from personae.providers.chat import Message
from personae.runtime.context import Turn
from personae.settings_store.model_configs import background_model

ANSWER_TOKENS = 200
VERIFY = (
    "You decide which conditions apply to a customer's message. Reply with JSON only: "
    '{"numbers": [the numbers of the conditions that apply]} (an empty list if none does).'
)
CHECK = (
    "You check an assistant's answer against requirements. Reply with JSON only: "
    '{"numbers": [the numbers of the requirements the answer does NOT meet]} '
    "(an empty list if it meets them all)."
)
_JSON = re.compile(r"\{.*\}", re.DOTALL)


@dataclass
class Judged:
    """The numbers the model named, or why there are none to trust."""

    numbers: set[int] = field(default_factory=set)
    error: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)


async def judge(turn: Turn, instruction: str, subject: str, items: Sequence[str]) -> Judged:
    """One call of the tenant's utility model: `items` numbered under `subject`."""
    services = turn.services
    async with tenant_session(services.sessions, turn.principal.tenant_id) as session:
        try:
            model = await background_model(
                session, services.vault, services.settings.model_endpoint_hosts
            )
        except PersonaeError as unopened:
            return Judged(error=unopened.detail)
    if model is None:
        return Judged(error="the tenant has no utility model")
    listed = "\n".join(f"{n}. {item}" for n, item in enumerate(items, start=1))
    try:
        completion = await model.complete(
            [Message("system", instruction), Message("user", f"{subject}\n\n{listed}")],
            max_tokens=ANSWER_TOKENS,
        )
    except PersonaeError as failed:
        return Judged(error=failed.detail)
    finally:
        await model.close()
    usage = completion.usage()
    turn.usages.append(usage)
    found = _JSON.search(completion.text)
    try:
        numbers = json.loads(found.group(0))["numbers"] if found else None
        if not isinstance(numbers, list) or not all(isinstance(n, int) for n in numbers):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return Judged(error="the utility model's answer is not the JSON asked for", usage=usage)
    return Judged({n for n in numbers if 1 <= n <= len(items)}, usage=usage)

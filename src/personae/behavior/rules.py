"""Rules: when an agent must do what, said in plain language.

A rule's condition ("the customer says their card was stolen") and its example messages
are embedded when written, by the tenant's model, as the rule's phrasings: what a turn's
message is matched to (`behavior.matching`). Its action says what a match does: the
instructions it adds to the prompt, the tools it offers, the template it applies, the
variables it sets. Rules are imported in bulk by name (`put_all`: the same file twice
changes nothing). When the tenant moves to another embedding model, the phrasings follow
(`behavior.phrasings`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior import by_name, expressions, phrasings
from personae.behavior.actions import check_action
from personae.behavior.models import Rule, RulePhrasing
from personae.behavior.scopes import check_scope, merged_scope
from personae.errors import ValidationFailed
from personae.kernel.principal import Principal
from personae.kernel.resources import Resource
from personae.providers.embeddings import Embedders

NEW = {"action_type": "INSTRUCT"}
"""What a new rule is unless told otherwise: its action adds instructions to the prompt."""
PHRASED = ("condition_text", "examples")
"""The fields whose change embeds a rule's phrasings again."""


class _Rules(Resource[Rule]):
    """Rules of an agent (`/agents/{agent_id}/rules`), unique by name within it."""

    async def check(
        self, session: AsyncSession, principal: Principal, values: Mapping[str, Any]
    ) -> None:
        if "condition_text" in values and not str(values["condition_text"] or "").strip():
            raise ValidationFailed("say when the rule applies", field="condition_text")
        for index, example in enumerate(values.get("examples") or ()):
            if not example.strip():
                raise ValidationFailed("an example may not be empty", field=f"examples.{index}")
        if values.get("filter_expression") is not None:
            expressions.parse(values["filter_expression"], "filter_expression")
        if "agent_id" in values and "action_config" in values:
            await check_action(session, values["agent_id"], values["action_config"])
        await check_scope(session, values)

    async def changing(
        self, session: AsyncSession, principal: Principal, row: Rule, changes: Mapping[str, Any]
    ) -> None:
        if "action_config" in changes:
            await check_action(session, row.agent_id, changes["action_config"])
        merged = merged_scope(row, changes)
        if merged is not None:
            await check_scope(session, merged)


RULES = _Rules(Rule, "rule", "rules", unique=("agent_id", "name"))


async def create(
    session: AsyncSession,
    principal: Principal,
    embedders: Embedders,
    agent_id: uuid.UUID,
    values: Mapping[str, Any],
) -> Rule:
    """A new rule of the agent, its phrasings embedded."""
    rule = await RULES.create(session, principal, {**NEW, **values}, {"agent_id": agent_id})
    await phrase(session, embedders, [rule])
    return rule


async def update(
    session: AsyncSession,
    principal: Principal,
    embedders: Embedders,
    agent_id: uuid.UUID,
    rule_id: uuid.UUID,
    changes: Mapping[str, Any],
) -> Rule:
    """The rule changed; embedded again if what it is matched by changed."""
    rule = await RULES.update(session, principal, rule_id, changes, {"agent_id": agent_id})
    if set(PHRASED) & changes.keys():
        await phrase(session, embedders, [rule])
    return rule


async def put_all(
    session: AsyncSession,
    principal: Principal,
    embedders: Embedders,
    agent_id: uuid.UUID,
    rules: Sequence[Mapping[str, Any]],
) -> tuple[int, int, int]:
    """Import `rules` by name (`by_name.put_all`: the same import twice changes nothing).
    Returns how many rules were created, updated and left unchanged; the phrasings of all
    are embedded in one call."""
    put = await by_name.put_all(
        session, principal, RULES, agent_id, rules, new=NEW, phrased=PHRASED, field_name="rules"
    )
    await phrase(session, embedders, put.phrased)
    return put.created, put.updated, put.unchanged


async def phrase(session: AsyncSession, embedders: Embedders, rules: Sequence[Rule]) -> None:
    """Embed the rules' conditions and examples (one call) as their phrasings, replacing
    the ones they had."""
    if not rules:
        return
    await session.execute(
        delete(RulePhrasing).where(RulePhrasing.rule_id.in_([rule.id for rule in rules]))
    )
    said = [
        (rule, {"rule_id": rule.id, "kind": kind}, text)
        for rule in rules
        for kind, text in _phrasings(rule)
    ]
    await phrasings.write(session, embedders, phrasings.RULES, rules, said)


def _phrasings(rule: Rule) -> list[tuple[str, str]]:
    return [("CONDITION", rule.condition_text), *(("EXAMPLE", e) for e in rule.examples)]


EXPORTED = (
    "name",
    "description",
    "condition_text",
    "examples",
    "action_type",
    "action_config",
    "scope",
    "scope_id",
    "scope_step",
    "priority",
    "enabled",
    "cooldown_turns",
    "max_fires_per_session",
    "tags",
    "filter_expression",
)


async def exported(
    session: AsyncSession, principal: Principal, agent_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The agent's live rules by name, as `put_all` takes them back."""
    principal.require("rules:read")
    found = await session.execute(
        select(Rule)
        .where(Rule.agent_id == agent_id, Rule.deleted_at.is_(None))
        .order_by(Rule.name, Rule.id)
    )
    return [{name: getattr(rule, name) for name in EXPORTED} for rule in found.scalars()]

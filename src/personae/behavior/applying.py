"""What an agent's rules decide for one turn, before the model is called.

`decide` matches the message to the agent's rules (`matching`), keeps those the agent's
selection keeps and whose filters hold, and loads the templates the kept rules apply
(the agent's FALLBACK template in scope is read only when a turn needs it: `fallback`). The
caller (the turn) may `reject` kept rules (its utility model did not confirm them), then
`settle`s the variables the kept rules set (by each variable's policy), writes the fires
and the variables, and uses the rest to build the prompt (`instructions`, SUGGEST
templates), to answer without the model (EXCLUSIVE), to check the answer (`guards`) and
to fall back (FALLBACK)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.behavior import expressions, matching, templates, variables
from personae.behavior.guards import Guards
from personae.behavior.models import Template
from personae.errors import PersonaeError, ValidationFailed

SPECIFIC = {"STEP": 0, "SCENARIO": 1, "GLOBAL": 2}


@dataclass(frozen=True)
class Chosen:
    """A template the turn may use."""

    name: str
    content: str
    mode: str
    rule: str | None = None
    """The kept rule that applies it (None: the agent's fallback in scope)."""


@dataclass(frozen=True)
class Resolver:
    """How a variable is computed: its tool, when again, for how long."""

    tool: str
    refresh: str
    ttl_seconds: int | None


RESOLVED = "@resolved"
"""The key of the session's variables that keeps when each computed one was computed
(not a name a variable can have)."""


@dataclass
class Behaviour:
    """What the agent's rules decided for the turn."""

    matches: list[matching.Match] = field(default_factory=list)
    """Every candidate, scored, the kept ones marked."""
    values: dict[str, Any] = field(default_factory=dict)
    """The session's variables once the kept rules set theirs."""
    changed: dict[str, Any] = field(default_factory=dict)
    """The variables the kept rules set (to store on the session), once `settled`."""
    policies: dict[str, str] = field(default_factory=dict)
    """The agent's variables' update policies, by name."""
    resolvers: dict[str, Resolver] = field(default_factory=dict)
    """The agent's variables computed by a tool, by name."""
    computed_now: set[str] = field(default_factory=set)
    """The variables their tools computed this turn."""
    profile: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    chosen: list[Chosen] = field(default_factory=list)
    guards: Guards = field(default_factory=Guards)
    only_rule_tools: bool = False
    verify: bool = False

    @property
    def kept(self) -> list[matching.Match]:
        """The kept rules, highest priority first (then best score)."""
        kept = [m for m in self.matches if m.kept]
        return sorted(kept, key=lambda m: (-m.priority, -m.score, m.name))

    @property
    def tools(self) -> list[str]:
        """The tools the kept rules attach, by name, in their order."""
        names = [t for m in self.kept for t in m.action.get("tools") or ()]
        return list(dict.fromkeys(names))

    def reject(self, names: set[str], reason: str) -> None:
        """The kept rules of `names` are not kept after all (nor their templates)."""
        self.matches = [
            matching.marked(m, reason) if m.kept and m.name in names else m for m in self.matches
        ]
        self.chosen = [c for c in self.chosen if c.rule is None or c.rule not in names]

    def settle(self) -> dict[str, Any]:
        """Set the variables the kept rules set, by each one's policy (those its resolver
        computed this turn keep the computed value); what changed."""
        for match in self.kept:
            for name, value in (match.action.get("variables") or {}).items():
                policy = self.policies.get(name)
                if policy is not None and name not in self.computed_now:  # else gone; or its tool's
                    self._set(name, policy, value)
        return self.changed

    def _set(self, name: str, policy: str, value: Any) -> bool:
        """`value` set on the variable by `policy`; whether it could be."""
        try:
            new = variables.updated(policy, self.values.get(name), value)
        except ValidationFailed:
            return False
        self.values[name] = self.changed[name] = new
        return True

    def _stamps(self) -> dict[str, Any]:
        """When each computed variable was computed, as the session keeps it (its variables
        may be written through the API too: anything but an object counts as none)."""
        stamps = self.values.get(RESOLVED)
        return stamps if isinstance(stamps, dict) else {}

    def due(self, turn_number: int, now: datetime) -> list[str]:
        """The computed variables to compute now: those refreshed every turn, on a
        session's first turn (or never computed yet), or when a kept rule sets them, unless
        the value computed last is younger than its TTL."""
        named = {n for m in self.kept for n in (m.action.get("variables") or {})}
        stamps = self._stamps()
        due = []
        for name, resolver in sorted(self.resolvers.items()):
            when = {
                "TURN": True,
                "SESSION_START": turn_number == 1 or name not in stamps,
                "RULE_FIRE": name in named,
            }[resolver.refresh]
            stamp = _stamp(stamps.get(name))
            if when and stamp is not None and resolver.ttl_seconds is not None:
                when = (now - stamp).total_seconds() >= resolver.ttl_seconds
            if when:
                due.append(name)
        return due

    def computed(self, name: str, value: Any, now: datetime) -> None:
        """The variable `name` was computed as `value` (set by its policy, stamped)."""
        if self._set(name, self.policies.get(name, "REPLACE"), value):
            self.computed_now.add(name)
            stamps = {**self._stamps(), name: now.isoformat()}
            self.values[RESOLVED] = self.changed[RESOLVED] = stamps

    def names(self) -> dict[str, Any]:
        """What templates and expressions read: variables, `profile`, `message`."""
        return {**self.values, "profile": self.profile, "message": self.message}

    def render(self, content: str) -> str:
        """`content` rendered with the turn's values (RenderFailed naming what is missing)."""
        return templates.render(content, self.names())

    def instructions(self, budget_chars: int) -> tuple[str, list[str]]:
        """The kept rules' instructions, rendered, as many as `budget_chars` holds (a
        rule's whole instruction or none of it); and what could not be rendered."""
        lines, failures, used = [], [], 0
        for match in self.kept:
            source = str(match.action.get("instructions") or "").strip()
            if not source:
                continue
            try:
                said = self.render(source).strip()
            except templates.RenderFailed as wrong:
                failures.append(f"rule {match.name}: {wrong.detail}")
                continue
            if said and used + len(said) <= budget_chars:
                lines.append(f"- {said}")
                used += len(said)
        return ("Rules that apply now:\n" + "\n".join(lines) if lines else ""), failures

    def of_mode(self, mode: str) -> list[Chosen]:
        return [c for c in self.chosen if c.mode == mode]


async def decide(
    session: AsyncSession,
    agent_id: uuid.UUID,
    configuration: Mapping[str, Any],
    message: str,
    vector: list[float],
    model: str,
    situation: matching.Situation,
    stored: Mapping[str, Any],
    customer_profile_id: uuid.UUID | None,
    defined: Mapping[str, variables.Definition] | None = None,
    customer: Mapping[str, Any] | None = None,
) -> Behaviour:
    """The agent's rules matched to `message` (embedded as `vector` by `model`) where the
    session stands (`situation`, its variables `stored`; the agent's variables `defined`
    and the `customer`'s profile read here unless given)."""
    selection = matching.Selection.of(configuration)
    found = await matching.candidates(session, agent_id, message, vector, model, situation)
    if defined is None:
        defined = await variables.defined(session, agent_id)
    behaviour = Behaviour(
        values=variables.values(defined.values(), stored),
        profile=dict(customer)
        if customer is not None
        else await profile(session, customer_profile_id),
        message=message,
        policies={name: v.update_policy for name, v in defined.items()},
        resolvers={
            name: Resolver(v.resolver_tool_id, v.refresh, v.ttl_seconds)
            for name, v in defined.items()
            if v.resolver_tool_id
        },
        guards=Guards.of(configuration),
        only_rule_tools=selection.only_rule_tools,
        verify=selection.verify,
    )
    behaviour.matches = matching.select(found, selection, lambda m: _filtered(m, behaviour))
    behaviour.chosen = await _templates(session, agent_id, behaviour.kept, situation)
    return behaviour


def _stamp(value: Any) -> datetime | None:
    """When a computed variable was computed, if the session says so legibly (its
    variables may be written through the API too: anything else counts as never)."""
    try:
        stamp = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return stamp if stamp is not None and stamp.tzinfo is not None else None


def _filtered(match: matching.Match, behaviour: Behaviour) -> str | None:
    """Why the rule's filter keeps it out, if it does."""
    if match.filter is None:
        return None
    try:
        holds = expressions.parsed(match.filter).evaluate(behaviour.names())
    except PersonaeError as wrong:
        return f"filter failed: {wrong.detail}"
    return None if holds else "filter does not hold"


async def _templates(
    session: AsyncSession,
    agent_id: uuid.UUID,
    kept: list[matching.Match],
    situation: matching.Situation,
) -> list[Chosen]:
    """The templates the kept rules apply, in the rules' order, those scoped to another
    scenario or step than the session's left out (no statement if none)."""
    named = {str(m.action["template"]): m.name for m in kept if m.action.get("template")}
    if not named:
        return []
    found = await session.execute(
        select(Template).where(
            Template.agent_id == agent_id,
            Template.deleted_at.is_(None),
            Template.name.in_(list(named)),
            _in_scope(situation),
        )
    )
    by_name = {t.name: t for t in found.scalars()}
    return [
        Chosen(name, by_name[name].content, by_name[name].mode, rule)
        for name, rule in named.items()
        if name in by_name
    ]


async def fallback(
    session: AsyncSession, agent_id: uuid.UUID, situation: matching.Situation
) -> Chosen | None:
    """The agent's FALLBACK template in the session's scope, the most specific (step,
    then scenario, then global; then by name): read only when a turn needs it."""
    found = await session.execute(
        select(Template).where(
            Template.agent_id == agent_id,
            Template.deleted_at.is_(None),
            Template.mode == "FALLBACK",
            _in_scope(situation),
        )
    )
    ordered = sorted(found.scalars(), key=lambda t: (SPECIFIC[t.scope], t.name))
    return Chosen(ordered[0].name, ordered[0].content, "FALLBACK") if ordered else None


def _in_scope(situation: matching.Situation) -> ColumnElement[bool]:
    """A template that applies where the session is: global, its scenario's, its step's."""
    return (
        (Template.scope == "GLOBAL")
        | ((Template.scope == "SCENARIO") & (Template.scope_id == situation.scenario_id))
        | (
            (Template.scope == "STEP")
            & (Template.scope_id == situation.scenario_id)
            & (Template.scope_step == situation.step)
        )
    )


def profile_query(profile_id: str) -> str:
    """The customer's profile as templates read it (its names and current fields, the
    latest of a name winning) as one JSON object, for the profile `profile_id` names (a
    parameter, or a column of a statement this is a subquery of)."""
    return (
        "SELECT jsonb_build_object('display_name', p.display_name, 'external_id', "
        "p.external_id) || coalesce((SELECT jsonb_object_agg(f.field_name, f.field_value "
        "ORDER BY f.valid_from) FROM profile_fields AS f WHERE f.profile_id = p.id "
        f"AND f.valid_to IS NULL), '{{}}') FROM customer_profiles AS p WHERE p.id = {profile_id}"
    )


async def profile(session: AsyncSession, profile_id: uuid.UUID | None) -> dict[str, Any]:
    """The customer's profile as templates read it (empty without a customer)."""
    if profile_id is None:
        return {}
    found = await session.execute(text(profile_query(":profile_id")), {"profile_id": profile_id})
    return dict(found.scalar_one_or_none() or {})

"""Which of an agent's rules a message calls for, before the model is called.

One statement finds the candidates: the rules of the agent's nearest phrasings (HNSW over
conditions and examples, the agent's alone), kept only if enabled, in scope (global, or
the session's scenario and step), out of their cooldown and under their most fires a
session. Each candidate is then scored against all its phrasings: its best phrasing, and
the centre of them all (a rule with five examples has a shape a single phrasing does
not), blended by `BEST_SHARE`; whether a phrasing shares the message's words is shown.
(Candidates found by words as well changed no match on BANKING77 and cost 1.7 ms of a
3.6 ms statement at 1,000 rules: they were dropped.)

A selection then keeps what applies: never below the agent's `min_score` (a message no
rule applies to matches nothing), at most `k`, and with the `gap` strategy only those
within `gap` of the best. Ties go to priority, then name, then id: the same message over
the same rules gives the same matches."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import ValidationFailed
from personae.retrieval.hybrid import vector_literal

BEST_SHARE = 0.3
"""The best phrasing's share of a rule's score; the centre of its phrasings has the rest."""
NEAR = 40
"""Nearest phrasings taken as candidates."""
Strategy = Literal["top_k", "gap"]


@dataclass(frozen=True)
class Selection:
    """How matched rules are kept (an agent's `configuration.rules` overrides these)."""

    strategy: Strategy = "top_k"
    k: int = 3
    min_score: float = 0.35
    """The least score a rule is kept at (cosine scale of the tenant's model)."""
    gap: float = 0.1
    """With `gap`: only rules within this of the best are kept."""
    only_rule_tools: bool = False
    """Offer the model only the tools the kept rules attach (none if they attach none)."""
    verify: bool = False
    """Have the tenant's utility model confirm the kept rules (one call a turn)."""

    @classmethod
    def of(cls, configuration: Mapping[str, Any]) -> Selection:
        """The agent's selection, its `configuration.rules` checked (422 naming the key)."""
        given = configuration.get("rules")
        given = {} if given is None else given
        if not isinstance(given, Mapping):
            raise ValidationFailed("must be an object", field="configuration.rules")
        values = {**asdict(cls()), **{k: v for k, v in given.items() if k in asdict(cls())}}
        if values["strategy"] not in ("top_k", "gap"):
            raise ValidationFailed("top_k or gap", field="configuration.rules.strategy")
        for flag in ("only_rule_tools", "verify"):
            if not isinstance(values[flag], bool):
                raise ValidationFailed("true or false", field=f"configuration.rules.{flag}")
        for name, low, high in (("k", 1, 50), ("min_score", -1.0, 1.0), ("gap", 0.0, 2.0)):
            value = values[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationFailed("must be a number", field=f"configuration.rules.{name}")
            if not low <= value <= high:
                raise ValidationFailed(
                    f"between {low} and {high}", field=f"configuration.rules.{name}"
                )
        return cls(**values)


@dataclass(frozen=True)
class Match:
    rule_id: uuid.UUID
    name: str
    priority: int
    score: float
    best: float
    """Cosine of the message and the rule's nearest phrasing."""
    centre: float
    """Cosine of the message and the centre of the rule's phrasings."""
    words: bool
    """Some phrasing shares the message's words."""
    action: dict[str, Any]
    filter: str | None = None
    """The rule's filter expression (it must hold for the rule to be kept)."""
    condition: str = ""
    kept: bool = False
    reason: str = ""

    def shown(self) -> dict[str, Any]:
        """As a turn's record shows it."""
        return {
            "rule_id": str(self.rule_id),
            "name": self.name,
            "score": round(self.score, 4),
            "best": round(self.best, 4),
            "centre": round(self.centre, 4),
            "words": self.words,
            "kept": self.kept,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Situation:
    """Where the session stands: what scopes and fires are judged by."""

    session_id: uuid.UUID | None = None
    turn_number: int = 0
    scenario_id: uuid.UUID | None = None
    step: str | None = None


_CANDIDATES = text(
    """
WITH q AS (
    SELECT CAST(:vector AS vector) AS v,
           to_tsquery('english', :words) AS words
), near AS (
    SELECT p.rule_id FROM rule_phrasings AS p
    WHERE p.agent_id = :agent_id AND p.embedding_model = :model
    ORDER BY p.embedding <=> (SELECT v FROM q)
    LIMIT :near
), candidates AS (
    SELECT DISTINCT rule_id FROM near
)
SELECT r.id AS rule_id, r.name, r.priority, r.action_config AS action,
       r.filter_expression AS filter, r.condition_text AS condition,
       max(1 - (p.embedding <=> q.v)) AS best,
       1 - (l2_normalize(sum(p.embedding)) <=> q.v) AS centre,
       bool_or(p.text_tsv @@ q.words) AS words
FROM candidates AS c
JOIN rules AS r ON r.id = c.rule_id
JOIN rule_phrasings AS p ON p.rule_id = r.id AND p.embedding_model = :model
CROSS JOIN q
WHERE r.agent_id = :agent_id AND r.deleted_at IS NULL AND r.enabled
  AND (r.scope = 'GLOBAL'
       OR (r.scope = 'SCENARIO' AND r.scope_id = :scenario_id)
       OR (r.scope = 'STEP' AND r.scope_id = :scenario_id AND r.scope_step = :step))
  AND (r.max_fires_per_session IS NULL OR r.max_fires_per_session > (
        SELECT count(*) FROM rule_fires AS f
        WHERE f.session_id = :session_id AND f.rule_id = r.id))
  AND (r.cooldown_turns = 0 OR NOT EXISTS (
        SELECT 1 FROM rule_fires AS f
        WHERE f.session_id = :session_id AND f.rule_id = r.id
          AND f.turn_number >= :turn_number - r.cooldown_turns))
GROUP BY r.tenant_id, r.id, q.v
"""
)


async def candidates(
    session: AsyncSession,
    agent_id: uuid.UUID,
    message: str,
    vector: list[float],
    model: str,
    situation: Situation = Situation(),
) -> list[Match]:
    """The rules that may apply to `message` (embedded as `vector` by `model`), scored,
    best first; none kept yet (`select` keeps)."""
    rows = await session.execute(
        _CANDIDATES,
        {
            "vector": vector_literal(vector),
            "words": _any_word(message),
            "model": model,
            "agent_id": agent_id,
            "near": NEAR,
            "scenario_id": situation.scenario_id,
            "step": situation.step,
            "session_id": situation.session_id,
            "turn_number": situation.turn_number,
        },
    )
    found = [
        Match(
            rule_id=row.rule_id,
            name=row.name,
            priority=row.priority,
            score=BEST_SHARE * row.best + (1 - BEST_SHARE) * row.centre,
            best=float(row.best),
            centre=float(row.centre),
            words=bool(row.words),
            action=dict(row.action or {}),
            filter=row.filter,
            condition=row.condition,
        )
        for row in rows
    ]
    return sorted(found, key=lambda m: (-round(m.score, 6), -m.priority, m.name, m.rule_id))


def select(
    found: list[Match],
    selection: Selection,
    refused: Callable[[Match], str | None] = lambda match: None,
) -> list[Match]:
    """`found` (best first) with the kept ones marked and the reason for each (`refused`:
    why a rule that scores well enough may not apply, if it may not)."""
    if not found:
        return []
    best = found[0].score
    chosen: list[Match] = []
    kept = 0
    for match in found:
        why_not = None if match.score < selection.min_score else refused(match)
        if match.score < selection.min_score:
            reason = f"below min_score {selection.min_score}"
        elif selection.strategy == "gap" and match.score < best - selection.gap:
            reason = f"more than {selection.gap} below the best"
        elif kept >= selection.k:
            reason = f"beyond the first {selection.k}"
        elif why_not is not None:
            reason = why_not
        else:
            kept += 1
            reason = "kept"
        chosen.append(marked(match, reason))
    return chosen


def marked(match: Match, reason: str) -> Match:
    """`match` kept (`reason` "kept") or not, and why."""
    return Match(**{**asdict(match), "kept": reason == "kept", "reason": reason})


def _any_word(message: str) -> str:
    """A tsquery matching any of the message's words (an empty one matches nothing)."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in message.lower()).split()]
    return " | ".join(dict.fromkeys(words)) or "''"

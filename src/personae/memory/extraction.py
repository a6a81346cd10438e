"""Facts from conversation: the tenant's utility model reads a session's turns in batches
and names the entities and facts in them.

What it names is recorded like facts sent to `POST /v1/memory/facts`: entities resolved
and deduplicated in the session's scope, contradictions closed, each fact supported by the
turns it came from (so erasing them erases it). Every entity is linked to the turns that
name it (entity mentions). The model's tokens and cost go into the audit event of each
batch. Turns are marked read (`metadata.extracted`) in the transaction that records their
facts: a job run twice reads nothing twice. Runs while the tenant's `memory_extraction`
flag is on and it has a utility model; an answer that is not the JSON asked for is
logged and its turns are marked read with the error, never retried forever."""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, TypeVar

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db import locks
from personae.db.tenancy import tenant_session
from personae.errors import ProviderError
from personae.kernel.audit.service import record
from personae.kernel.principal import Principal
from personae.memory.facts import FactInput, assert_facts
from personae.memory.mentions import mention
from personae.memory.models import Episode
from personae.memory.resolution import DEFAULTS, EntityRef, Scope, Thresholds, resolve_all
from personae.providers.chat import Completion, Message
from personae.providers.embeddings import Embedders
from personae.retrieval.embedding_models import tenant_embedder
from personae.settings_store.flags import enabled
from personae.settings_store.model_configs import background_model
from personae.vault.service import Vault

log = logging.getLogger(__name__)
ANSWER_TOKENS = 2048
PROMPT = """You build a knowledge graph from a conversation. The turns are numbered:
[n] (date) speaker: text. Name the people, places, organisations and things the turns
talk about, and the facts they state about them. Answer with one JSON object only:
{"entities": [{"name": "Caroline", "type": "person", "aliases": ["Caro"]}],
 "facts": [{"subject": "Caroline", "relation": "lives_in", "object": "Sweden",
            "fact": "Caroline lives in Sweden.", "valid_from": "2023-05-08",
            "exclusive": true, "turns": [3]}]}
`relation` is a short snake_case verb phrase; `exclusive` is true when a subject holds it
with one object at a time (lives_in, works_at, is_married_to); `valid_from` is the date
the fact began, when the turns say; `turns` are the numbers of the turns that state it.
Use only what the turns say. No facts: empty lists."""
RELATION_WORDS = re.compile(r"[^a-z0-9]+")
JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


class NamedEntity(BaseModel):
    name: str = Field(min_length=1, max_length=500)
    type: str | None = Field(default=None, max_length=100)
    aliases: list[str] = Field(default_factory=list, max_length=20)


class StatedFact(BaseModel):
    subject: str = Field(min_length=1, max_length=500)
    relation: str = Field(min_length=1, max_length=100)
    object: str = Field(min_length=1, max_length=500)
    fact: str | None = Field(default=None, max_length=2000)
    valid_from: date | datetime | None = None
    exclusive: bool | None = None
    turns: list[int] = Field(default_factory=list)


ENTITIES = TypeAdapter(NamedEntity)
FACTS = TypeAdapter(StatedFact)


def read_answer(text: str) -> tuple[list[NamedEntity], list[StatedFact]]:
    """The entities and facts of the model's answer; items that do not fit are left out.
    Raises `ProviderError` when the answer holds no JSON object at all."""
    found = JSON_OBJECT.search(text)
    try:
        answer = json.loads(found.group(0)) if found else None
    except json.JSONDecodeError:
        answer = None
    if not isinstance(answer, dict):
        raise ProviderError("the model's answer is not a JSON object")
    return _valid(ENTITIES, answer.get("entities")), _valid(FACTS, answer.get("facts"))


T = TypeVar("T")


def _valid(adapter: TypeAdapter[T], items: Any) -> list[T]:
    kept = []
    for item in items if isinstance(items, list) else []:
        try:
            kept.append(adapter.validate_python(item))
        except ValidationError:
            log.info("an extracted item left out: %.200r", item)
    return kept


def relation(words: str) -> str | None:
    """A relation's words as a name (`Lives in` → `lives_in`), None if it has none."""
    name = RELATION_WORDS.sub("_", words.lower()).strip("_")
    return name[:100] if name and name[0].isalpha() else None


async def extract_session(
    sessions: async_sessionmaker[AsyncSession],
    embedders: Embedders,
    tenant_id: uuid.UUID,
    session_id: uuid.UUID,
    *,
    vault: Vault | None,
    endpoint_hosts: Sequence[str] = (),
    batch_size: int,
    thresholds: Thresholds = DEFAULTS,
) -> int:
    """Extract the facts of the session's turns not read yet; returns how many were stored.
    A provider that is down raises `ProviderUnavailable` (the job runs again)."""
    stored = 0
    while True:
        async with tenant_session(sessions, tenant_id) as session:
            if vault is None or not await enabled(session, tenant_id, "memory_extraction"):
                return stored
            turns = await _unread(session, session_id, batch_size)
            model = await background_model(session, vault, endpoint_hosts) if turns else None
        if model is None:
            return stored
        try:
            completion = await model.complete(
                [Message("system", PROMPT), Message("user", _numbered(turns))],
                max_tokens=ANSWER_TOKENS,
            )
        finally:
            await model.close()
        try:
            entities, facts = read_answer(completion.text)
            error = None
        except ProviderError as failed:
            entities, facts, error = [], [], failed.detail
            log.warning("extraction from session %s: %s", session_id, error)
        async with tenant_session(sessions, tenant_id) as session:
            await locks.hold(session, f"extraction:{session_id}")
            unread = {turn.id for turn in await _unread(session, session_id, batch_size)}
            turns = [turn for turn in turns if turn.id in unread]
            if not turns:
                continue  # read by another run meanwhile
            embedder = await tenant_embedder(session, embedders, tenant_id, hold=True)
            scope = Scope(turns[0].persona_id, turns[0].agent_id, turns[0].customer_profile_id)
            inputs = _facts(turns, entities, facts)
            refs = [EntityRef(e.name, _type(e.type), tuple(e.aliases)) for e in entities]
            named = await resolve_all(session, embedder, tenant_id, refs, scope, thresholds)
            written = await assert_facts(session, embedder, tenant_id, inputs, scope, thresholds)
            mentioned = {r.entity.id for r in named} | {
                e.entity.id for s in written for e in (s.subject, s.object)
            }
            mentions = await mention(session, tenant_id, [t.id for t in turns], mentioned)
            await _mark_read(session, turns, completion, error)
            await record(
                session,
                Principal.system(tenant_id),
                "extract",
                "session",
                session_id,
                data={
                    "turns": len(turns),
                    "facts": len(written),
                    "entities": len(mentioned),
                    "mentions": mentions,
                    **completion.usage(),
                    **({"error": error} if error else {}),
                },
            )
        stored += len(written)


async def _unread(session: AsyncSession, session_id: uuid.UUID, limit: int) -> list[Episode]:
    found = await session.execute(
        select(Episode)
        .where(
            Episode.session_id == session_id,
            Episode.episode_type == "TURN",
            ~Episode.metadata_.has_key("extracted"),
        )
        .order_by(Episode.source_event_ids[1])
        .limit(limit)
    )
    return list(found.scalars())


def _numbered(turns: Sequence[Episode]) -> str:
    return "\n".join(
        f"[{n}] ({turn.occurred_at.date().isoformat()}) {turn.content}"
        for n, turn in enumerate(turns, start=1)
    )


def _type(name: str | None) -> str | None:
    return relation(name) if name else None


def _facts(
    turns: Sequence[Episode], entities: Sequence[NamedEntity], facts: Sequence[StatedFact]
) -> list[FactInput]:
    """The model's facts as facts to record: entity types and aliases from its entity list,
    supported by the turns it names (else every turn that names the subject), valid from
    the date it gives (else when it was first said)."""
    known = {e.name.casefold(): e for e in entities}
    inputs = []
    for stated in facts:
        name = relation(stated.relation)
        if name is None:
            continue
        support = [turns[n - 1] for n in stated.turns if 1 <= n <= len(turns)] or [
            t for t in turns if stated.subject.casefold() in t.content.casefold()
        ]
        support = support or list(turns)
        inputs.append(
            FactInput(
                subject=_ref(stated.subject, known),
                relation=name,
                object=_ref(stated.object, known),
                fact=stated.fact,
                valid_from=_start(stated.valid_from) or support[0].occurred_at,
                source_episode_ids=[turn.id for turn in support],
                exclusive=stated.exclusive,
                metadata={"extracted": True},
            )
        )
    return inputs


def _ref(name: str, known: dict[str, NamedEntity]) -> EntityRef:
    entity = known.get(name.casefold())
    if entity is None:
        return EntityRef(name)
    return EntityRef(name, _type(entity.type), tuple(entity.aliases))


def _start(when: date | datetime | None) -> datetime | None:
    if when is None or isinstance(when, datetime):
        return when
    return datetime.combine(when, time.min).astimezone()


async def _mark_read(
    session: AsyncSession, turns: Sequence[Episode], completion: Completion, error: str | None
) -> None:
    mark = {"extracted": {"model": completion.model, **({"error": error} if error else {})}}
    await session.execute(
        update(Episode)
        .where(Episode.id.in_([turn.id for turn in turns]))
        .values(
            metadata_=Episode.metadata_.op("||", return_type=JSONB)(
                bindparam("mark", mark, type_=JSONB)
            )
        )
    )

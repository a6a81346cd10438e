"""Facts in batches: 10,000 facts in one request store what sending them one by one stores
(the same entities, the same rows, the same cut-short history), in a few statements."""

from __future__ import annotations

import itertools
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from personae.db.engine import DatabaseUrls
from personae.db.tenancy import tenant_session
from personae.kernel.principal import Principal
from personae.memory.facts import FactInput, record
from personae.memory.models import Entity, Relationship
from personae.memory.resolution import EntityRef
from personae.providers.embeddings import Embedders
from personae.settings import Settings
from tests.api.conftest import bearer, new_tenant, running_app

SETTINGS = Settings(connect_timeout_s=2, embedder="hashing", memory_entity_similarity=0.5)
DAY0 = datetime(2024, 1, 1, tzinfo=UTC)
RELATIONS = [("lives_in", True), ("works_in", True), ("visits", False)]
OWNER = "owner@fact-batches.example.com"
FIRST = [
    "Ana",
    "Bruno",
    "Carla",
    "Diogo",
    "Elsa",
    "Filipe",
    "Gloria",
    "Hugo",
    "Ines",
    "Joaquim",
    "Karina",
    "Luis",
    "Marta",
    "Nuno",
    "Olga",
    "Pedro",
    "Quiteria",
    "Rui",
    "Sofia",
    "Tiago",
    "Ursula",
    "Vasco",
    "Wanda",
    "Xavier",
    "Yara",
    "Zeca",
    "Alberto",
    "Beatriz",
    "Custodio",
    "Dalila",
    "Eduardo",
    "Fatima",
    "Gaspar",
    "Helena",
    "Ivo",
    "Julia",
    "Leandro",
    "Matilde",
    "Norberto",
    "Otilia",
]
LAST = ["Lopes", "Carvalho", "Figueiredo", "Mendonca", "Quaresma", "Tavares", "Vilaverde", "Zagalo"]
PLACES = [
    "Porto",
    "Braga",
    "Lisbon",
    "Faro",
    "Coimbra",
    "Aveiro",
    "Evora",
    "Leiria",
    "Viseu",
    "Guarda",
    "Setubal",
    "Tomar",
]


def told(count: int, seed: int) -> list[FactInput]:
    """`count` facts about a few dozen people, told out of order: moves that contradict
    earlier ones, restatements, fixed spans, names misspelt and known by an alias."""
    rng = random.Random(seed)
    people = [f"{first} {last}" for first, last in zip(FIRST, LAST * 5, strict=False)]
    spellings = {p: [p, p + p[-1], p.upper()] for p in people}  # a typo, another case
    facts = []
    for _ in range(count):
        person = rng.choice(people)
        relation, exclusive = rng.choice(RELATIONS)
        start = DAY0 + timedelta(days=rng.randrange(0, 700))
        span = rng.random() < 0.3
        facts.append(
            FactInput(
                EntityRef(rng.choice(spellings[person]), "person", (person.split()[0],)),
                relation,
                EntityRef(rng.choice(PLACES), "place"),
                valid_from=start,
                valid_to=start + timedelta(days=rng.randrange(1, 200)) if span else None,
                confidence=rng.choice([0.5, 0.8, 1.0]),
                exclusive=exclusive,
            )
        )
    return facts


async def stored_state(session: AsyncSession) -> tuple[Any, Any]:
    """Every entity and every fact row (current and cut short), by names rather than ids."""
    entities = (await session.execute(select(Entity))).scalars().all()
    name = {e.id: e.name for e in entities}
    rows = (await session.execute(select(Relationship))).scalars().all()
    revised = {r.id: r for r in rows}
    return sorted((e.name, e.entity_type, tuple(sorted(e.aliases))) for e in entities), sorted(
        (
            name[r.source_entity_id],
            r.relationship_type,
            name[r.target_entity_id],
            r.valid_from,
            r.valid_to or datetime.max.replace(tzinfo=UTC),
            r.expired_at is None,
            r.confidence,
            r.fact or "",
            "revises" in r.metadata_ and r.metadata_["revises"] in {str(i) for i in revised},
        )
        for r in rows
    )


@pytest.fixture
async def two_tenants(
    owner_engine: AsyncEngine, app_engine: AsyncEngine
) -> tuple[uuid.UUID, uuid.UUID]:
    tag = uuid.uuid4().hex[:8]
    made = [
        await new_tenant(owner_engine, app_engine, f"facts-{side}-{tag}", f"{side}-{tag}@f.example")
        for side in ("batch", "single")
    ]
    return made[0].tenant.id, made[1].tenant.id


async def test_a_batch_stores_what_one_fact_at_a_time_stores(
    two_tenants: tuple[uuid.UUID, uuid.UUID], app_sessions: async_sessionmaker[AsyncSession]
) -> None:
    embedders = Embedders(SETTINGS)
    batch_tenant, single_tenant = two_tenants
    earlier, facts = told(60, seed=1), told(10_000, seed=2)
    states = []
    for tenant, sizes in ((batch_tenant, [len(facts)]), (single_tenant, [1] * len(facts))):
        async with tenant_session(app_sessions, tenant) as session:  # what was known before
            await record(session, Principal.system(tenant), embedders, earlier)
        async with tenant_session(app_sessions, tenant) as session:
            start = 0
            for size in sizes:
                await record(
                    session, Principal.system(tenant), embedders, facts[start : start + size]
                )
                start += size
        async with tenant_session(app_sessions, tenant) as session:
            states.append(await stored_state(session))
    (batch_entities, batch_rows), (single_entities, single_rows) = states
    assert batch_entities == single_entities
    assert len(batch_entities) == len(FIRST) + len(PLACES)  # once, whatever the spelling
    assert batch_rows == single_rows
    assert sum(not current for *_, current, _, _, _ in batch_rows) > 0  # the earlier ones cut


async def test_ten_thousand_facts_in_one_request_leave_one_answer_at_any_time(
    urls: DatabaseUrls, owner_password: str
) -> None:
    facts = told(10_000, seed=3)
    body = {
        "facts": [
            {
                "subject": f.subject.name,
                "subject_type": "person",
                "subject_aliases": list(f.subject.aliases),
                "relation": f.relation,
                "object": f.object.name,
                "object_type": "place",
                "valid_from": f.valid_from.isoformat() if f.valid_from else None,
                "valid_to": f.valid_to.isoformat() if f.valid_to else None,
                "exclusive": f.exclusive,
            }
            for f in facts
        ]
    }
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, OWNER, owner_password)
        response = await client.post("/v1/memory/facts", headers=auth, json=body, timeout=300)
        assert response.status_code == 201, response.text[:500]
        assert len(response.json()) == 10_000
        people = {(f["subject_id"]) for f in response.json()}
        assert len(people) == len(FIRST)
        spans: dict[tuple[str, str], list[tuple[datetime, datetime]]] = defaultdict(list)
        for person in people:
            listed = await client.get(
                "/v1/memory/facts",
                headers=auth,
                params={"subject_id": person, "history": "true", "limit": 1000},
            )
            for fact in listed.json():
                end = fact["valid_to"] or datetime.max.replace(tzinfo=UTC).isoformat()
                spans[(person, fact["relation"])].append(
                    (datetime.fromisoformat(fact["valid_from"]), datetime.fromisoformat(end))
                )
    for (_, relation), held in spans.items():
        if relation != "visits":  # one place at a time
            ordered = sorted(held)
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(ordered)), relation

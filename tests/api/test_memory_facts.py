"""Facts in time: contradictions close the old fact (never overwrite it), every question
"what held then, as we knew it then" has one answer, and entity names resolve to one
entity per person, not per spelling."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from personae.db.engine import DatabaseUrls
from personae.db.tenancy import tenant_session
from personae.kernel.principal import Principal
from personae.memory.facts import FactInput, facts, record
from personae.memory.resolution import EntityRef
from personae.providers.embeddings import Embedders
from personae.settings import Settings
from tests.api.conftest import bearer, new_tenant, running_app

OWNER = "owner@memory-facts.example.com"
SETTINGS = Settings(connect_timeout_s=2, embedder="hashing", memory_entity_similarity=0.5)
DAY0 = datetime(2024, 1, 1, tzinfo=UTC)


async def post_facts(
    client: httpx.AsyncClient, auth: dict[str, str], **body: Any
) -> list[dict[str, Any]]:
    response = await client.post("/v1/memory/facts", headers=auth, json=body)
    assert response.status_code == 201, response.text
    stored: list[dict[str, Any]] = response.json()
    return stored


async def where(
    client: httpx.AsyncClient, auth: dict[str, str], subject_id: str, **params: str
) -> list[str]:
    response = await client.get(
        "/v1/memory/facts",
        headers=auth,
        params={"subject_id": subject_id, "relation": "lives_in", **params},
    )
    assert response.status_code == 200, response.text
    return [f["object"] for f in response.json()]


async def test_a_move_closes_the_old_address_and_the_past_stays_answerable(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, OWNER, owner_password)
        march, april, june = (DAY0.replace(month=m).isoformat() for m in (3, 4, 6))
        first = await post_facts(
            client,
            auth,
            facts=[
                {
                    "subject": "Ana Lopes",
                    "subject_type": "person",
                    "relation": "lives_in",
                    "object": "Porto",
                    "object_type": "place",
                    "valid_from": DAY0.isoformat(),
                    "exclusive": True,
                }
            ],
        )
        ana = first[0]["subject_id"]
        known_before_move = (await client.get("/v1/memory/facts", headers=auth)).json()[0][
            "recorded_at"
        ]
        moved = await post_facts(
            client,
            auth,
            facts=[
                {
                    "subject": "ana lopes",  # the same person, however written
                    "subject_type": "person",
                    "relation": "lives_in",
                    "object": "Lisbon",
                    "object_type": "place",
                    "valid_from": april,
                }
            ],
        )
        assert moved[0]["subject_id"] == ana and moved[0]["subject_match"] == "exact"
        assert moved[0]["closed"] == 1
        assert await where(client, auth, ana) == ["Lisbon"]
        assert await where(client, auth, ana, as_of=march) == ["Porto"]
        assert await where(client, auth, ana, as_of=june) == ["Lisbon"]
        # In June as we knew it before the move was told: still Porto.
        assert await where(client, auth, ana, as_of=june, known_at=known_before_move) == ["Porto"]
        history = (
            await client.get(
                "/v1/memory/facts",
                headers=auth,
                params={"subject_id": ana, "history": "true"},
            )
        ).json()
        assert [(f["object"], f["valid_to"] is None) for f in history] == [
            ("Porto", False),
            ("Lisbon", True),
        ]
        # Told again, as a bare triple (no types: any entity of the name): one more support.
        again = await post_facts(client, auth, triples=[["Ana Lopes", "lives in", "Lisbon"]])
        assert (again[0]["subject_id"], again[0]["closed"]) == (ana, 0)
        assert again[0]["id"] == moved[0]["id"]
        recount = await client.get(
            "/v1/memory/facts", headers=auth, params={"subject_id": ana, "history": "true"}
        )
        assert len(recount.json()) == 2  # no new row

        # A stay with an end inside a current fact: that fact holds before and after it.
        summer = await post_facts(
            client,
            auth,
            facts=[
                {
                    "subject": "Ana Lopes",
                    "subject_type": "person",
                    "relation": "lives_in",
                    "object": "Faro",
                    "valid_from": DAY0.replace(month=7).isoformat(),
                    "valid_to": DAY0.replace(month=9).isoformat(),
                }
            ],
        )
        assert summer[0]["closed"] == 1
        for month, city in ((6, "Lisbon"), (8, "Faro"), (10, "Lisbon")):
            assert await where(client, auth, ana, as_of=DAY0.replace(month=month).isoformat()) == [
                city
            ]

        refused = await client.post(
            "/v1/memory/facts",
            headers=auth,
            json={"facts": [{"subject": "A", "relation": "Lives In!", "object": "B"}]},
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"].startswith("facts.0.relation")
        over = SETTINGS.memory_facts_per_request + 1
        too_many = await client.post(
            "/v1/memory/facts", headers=auth, json={"triples": [["a", "knows", "b"]] * over}
        )
        assert too_many.status_code == 422, too_many.text[:500]
        assert too_many.json()["errors"][0]["field"] == "facts"
        none = await client.post("/v1/memory/facts", headers=auth, json={})
        assert none.status_code == 422, none.text
        backwards = await client.post(
            "/v1/memory/facts",
            headers=auth,
            json={
                "facts": [
                    {
                        "subject": "A",
                        "relation": "knows",
                        "object": "B",
                        "valid_from": june,
                        "valid_to": march,
                    }
                ]
            },
        )
        assert backwards.status_code == 422, backwards.text


async def test_names_resolve_by_alias_and_spelling_but_not_across_people(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, OWNER, owner_password)

        async def person(name: str, aliases: list[str] | None = None) -> dict[str, Any]:
            stored = await post_facts(
                client,
                auth,
                facts=[
                    {
                        "subject": name,
                        "subject_type": "person",
                        "subject_aliases": aliases or [],
                        "relation": "works_at",
                        "object": "Harbour Office",
                    }
                ],
            )
            return stored[0]

        katherine = await person("Katherine Johnson", ["Kate"])
        by_alias = await person("Kate")
        assert (by_alias["subject_id"], by_alias["subject_match"]) == (
            katherine["subject_id"],
            "alias",
        )
        typo = await person("Katherine Jonson")
        assert (typo["subject_id"], typo["subject_match"]) == (katherine["subject_id"], "similar")
        other = await person("Katherine Jackson")  # another person with a similar name
        assert other["subject_id"] != katherine["subject_id"] and other["subject_match"] == "new"
        john = await person("John Smith")
        smithers = await person("John Smithers")
        assert smithers["subject_id"] != john["subject_id"]
        entity = (await client.get(f"/v1/entities/{katherine['subject_id']}", headers=auth)).json()
        assert set(entity["aliases"]) == {"Kate", "Katherine Jonson"}  # learned spellings


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[int, str]]:
    """Three facts about where one subject lives: (day it began, city), in the order told."""
    days = draw(st.lists(st.integers(0, 364), min_size=3, max_size=3, unique=True))
    told = draw(st.permutations(list(zip(days, ["Aveiro", "Braga", "Coimbra"], strict=True))))
    return list(told)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(history=histories())
async def test_successive_facts_answer_every_as_of_and_known_at(
    history: list[tuple[int, str]],
    tenant_sessions: tuple[async_sessionmaker[AsyncSession], uuid.UUID],
) -> None:
    sessions, tenant = tenant_sessions
    embedders = Embedders(SETTINGS)
    subject = f"Subject {uuid.uuid4().hex[:8]}"
    known: list[datetime] = []  # when each fact was recorded
    for day, city in history:
        async with tenant_session(sessions, tenant) as session:
            stored = await record(
                session,
                Principal.system(tenant),
                embedders,
                [
                    FactInput(
                        EntityRef(subject, "person"),
                        "lives_in",
                        EntityRef(city, "place"),
                        valid_from=DAY0 + timedelta(days=day),
                        exclusive=True,
                    )
                ],
            )
            known.append(stored[0].relationship.recorded_at)
    subject_id = stored[0].relationship.source_entity_id
    async with tenant_session(sessions, tenant) as session:
        now = await facts(session, subject_id=subject_id, history=True)
        spans = sorted((f.valid_from, f.valid_to or datetime.max.replace(tzinfo=UTC)) for f in now)
        assert len(spans) == 3
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # no overlap
        for told, moment in enumerate(known, start=1):
            for probe in range(-1, 366, 7):
                as_of = DAY0 + timedelta(days=probe, hours=12)
                expected = [
                    city
                    for day, city in sorted(history[:told])
                    if DAY0 + timedelta(days=day) <= as_of
                ][-1:]
                answer = await facts(session, subject_id=subject_id, as_of=as_of, known_at=moment)
                assert [f.object for f in answer] == expected, (history, told, probe)


@pytest.fixture(scope="module")
async def tenant_sessions(
    owner_engine: AsyncEngine,
    app_engine: AsyncEngine,
    app_sessions: async_sessionmaker[AsyncSession],
) -> tuple[async_sessionmaker[AsyncSession], uuid.UUID]:
    """A tenant of its own for the property test, and sessions to reach it."""
    created = await new_tenant(owner_engine, app_engine, "facts-property", "p@facts.example.com")
    return app_sessions, created.tenant.id

"""The knowledge graph: what is reachable from an entity through facts, hop by hop, as the
facts held then and as we knew them; and search that favours what the query's entities
are linked to."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from personae.db.engine import DatabaseUrls
from personae.settings import Settings
from tests.api.conftest import bearer, running_app
from tests.api.test_memory_facts import post_facts

SETTINGS = Settings(connect_timeout_s=2, embedder="hashing")


async def graph(client: httpx.AsyncClient, auth: dict[str, str], **params: Any) -> dict[str, Any]:
    found = await client.get("/v1/memory/graph", headers=auth, params=params)
    assert found.status_code == 200, found.text
    return dict(found.json())


def distances(found: dict[str, Any]) -> dict[str, int]:
    return {e["name"]: e["distance"] for e in found["entities"]}


async def test_the_graph_is_walked_hop_by_hop_at_the_time_asked(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        await post_facts(
            client,
            auth,
            facts=[
                {"subject": "Ada", "relation": "works_at", "object": "Acme"},
                {"subject": "Bob", "relation": "works_at", "object": "Acme"},
                {"subject": "Acme", "relation": "located_in", "object": "London"},
                {
                    "subject": "Ada",
                    "relation": "lives_in",
                    "object": "Oxford",
                    "valid_from": "2020-01-01T00:00:00Z",
                    "exclusive": True,
                },
                {
                    "subject": "Ada",
                    "relation": "lives_in",
                    "object": "Paris",
                    "valid_from": "2023-01-01T00:00:00Z",
                },
                {"subject": "Carl", "relation": "lives_in", "object": "Paris"},
            ],
        )
        near = await graph(client, auth, named_in="Tell me about ada's week", depth=1)
        assert distances(near) == {"Ada": 0, "Acme": 1, "Paris": 1}
        assert {(f["subject"], f["relation"], f["object"]) for f in near["facts"]} == {
            ("Ada", "works_at", "Acme"),
            ("Ada", "lives_in", "Paris"),
        }
        ada = next(e["id"] for e in near["entities"] if e["name"] == "Ada")
        far = await graph(client, auth, entity_id=ada, depth=2)
        assert distances(far) == {
            "Ada": 0,
            "Acme": 1,
            "Paris": 1,
            "Bob": 2,
            "London": 2,
            "Carl": 2,
        }
        back_then = await graph(client, auth, entity_id=ada, depth=1, as_of="2021-06-01T00:00:00Z")
        assert distances(back_then) == {"Ada": 0, "Oxford": 1}  # she worked nowhere we knew of
        assert await graph(client, auth, named_in="nobody we know", depth=3) == {
            "entities": [],
            "facts": [],
        }
        neither = await client.get("/v1/memory/graph", headers=auth, params={"depth": 1})
        assert neither.status_code == 422
        assert neither.json()["errors"][0]["field"] == "entity_id"


async def test_search_favours_what_the_querys_entities_are_linked_to(
    urls: DatabaseUrls, fresh_owner: tuple[str, str]
) -> None:
    async with running_app(urls, SETTINGS) as (_app, client):
        auth = await bearer(client, *fresh_owner)
        ids = {}
        for place, content in (
            ("acme", "She started at Acme last spring, on the night shift."),
            ("depot", "Someone else started a night shift at the depot."),
        ):
            made = await client.post("/v1/memory/episodes", headers=auth, json={"content": content})
            assert made.status_code == 201, made.text
            ids[place] = made.json()["id"]
        await post_facts(
            client,
            auth,
            facts=[
                {
                    "subject": "Ada",
                    "relation": "works_at",
                    "object": "Acme",
                    "source_episode_ids": [ids["acme"]],
                }
            ],
        )

        async def scores(**weights: Any) -> dict[str, float]:
            body = {"query": "Ada started a night shift", "k": 5, "facts": 0, **weights}
            found = await client.post("/v1/memory/search", headers=auth, json=body)
            assert found.status_code == 200, found.text
            return {h["id"]: h["score"] for h in found.json()["episodes"]}

        plain, linked = await scores(graph_weight=0), await scores(graph_weight=2)
        # the Acme shift mentions Acme, one hop from Ada: 1 + 2 * 1/2; the depot's is not
        assert linked[ids["acme"]] == pytest.approx(plain[ids["acme"]] * 2)
        assert linked[ids["depot"]] == pytest.approx(plain[ids["depot"]])
        assert await scores(graph_weight=2, graph_depth=0) == pytest.approx(plain)

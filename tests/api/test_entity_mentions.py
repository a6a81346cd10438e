"""Entity mentions: documents are linked to the entities they name (by name, canonical
name or alias, as whole words), whichever comes first, the entity or the document; the
links follow renames, new versions and deletions, respect team access, and filter search."""

from __future__ import annotations

from typing import Any

import httpx

from personae.db.engine import DatabaseUrls
from tests.api.conftest import bearer, join, running_app
from tests.api.test_documents import SETTINGS, drain, search, upload

OWNER = "owner@mentions.example.com"
LETTER = (
    b"Ada Lovelace wrote the first program. Later the Countess of Lovelace corresponded "
    b"with Charles Babbage about the engine.\n\nAdam from Canada read it in 1900."
)


async def entity(client: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    made = await client.post("/v1/entities", headers=auth, json={"entity_type": "person", **body})
    assert made.status_code == 201, made.text
    return dict(made.json())


async def named(
    client: httpx.AsyncClient, auth: dict[str, str], document_id: str
) -> dict[str, int]:
    found = await client.get(f"/v1/documents/{document_id}/entities", headers=auth)
    assert found.status_code == 200, found.text
    return {row["name"]: row["mentions"] for row in found.json()}


async def test_documents_are_linked_to_the_entities_they_name(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        ada = await entity(client, auth, name="Ada", aliases=["Countess of Lovelace"])
        ada = (
            await client.patch(
                f"/v1/entities/{ada['id']}", headers=auth, json={"name": "Ada Lovelace"}
            )
        ).json()
        letter = await upload(client, auth, "letter.txt", LETTER)
        other = await upload(client, auth, "other.txt", b"Tea with nobody in particular.")
        await drain(app)
        # both of Ada's names, and not "Ada" inside Adam or Canada
        assert await named(client, auth, letter["id"]) == {"Ada Lovelace": 2}
        assert await named(client, auth, other["id"]) == {}

        # an entity made after the document is looked for in it
        babbage = await entity(client, auth, name="Charles Babbage", aliases=["Babbage"])
        await drain(app)
        assert await named(client, auth, letter["id"]) == {"Ada Lovelace": 2, "Charles Babbage": 1}
        linked = await client.get(f"/v1/entities/{babbage['id']}/documents", headers=auth)
        assert [d["document_id"] for d in linked.json()] == [letter["id"]]
        assert linked.json()[0]["relevance"] == 1.0  # its one chunk names him

        # search can keep to chunks that name an entity
        hits = await search(client, auth, "tea engine program", entity_id=babbage["id"])
        assert {h["document_id"] for h in hits} == {letter["id"]}

        # a rename looks again: the old name's mentions go
        await client.patch(
            f"/v1/entities/{babbage['id']}", headers=auth, json={"name": "Grace", "aliases": []}
        )
        await drain(app)
        assert await named(client, auth, letter["id"]) == {"Ada Lovelace": 2}
        # a new version that no longer names Ada drops the link
        await client.put(
            f"/v1/documents/{letter['id']}/content",
            params={"filename": "letter.txt"},
            headers=auth,
            content=b"Grace Hopper found a moth in the relay.",
        )
        await drain(app)
        assert await named(client, auth, letter["id"]) == {"Grace": 1}
        # a deleted document is linked to nothing
        assert (
            await client.delete(f"/v1/documents/{letter['id']}", headers=auth)
        ).status_code == 204
        gone = await client.get(f"/v1/entities/{babbage['id']}/documents", headers=auth)
        assert gone.json() == []


async def test_links_respect_personas_and_team_access(
    urls: DatabaseUrls, owner_password: str
) -> None:
    async with running_app(urls, SETTINGS) as (app, client):
        auth = await bearer(client, OWNER, owner_password)
        outsider = await join(client, auth, "outsider@mentions.example.com", "member")
        persona = await client.post("/v1/personas", headers=auth, json={"name": "Archivist"})
        assert persona.status_code == 201, persona.text
        private = await entity(client, auth, name="Zebracorp", persona_id=persona.json()["id"])
        public = await entity(client, auth, name="Quokka Labs", entity_type="organisation")
        theirs = await upload(
            client,
            auth,
            "a.txt",
            b"Zebracorp and Quokka Labs merge.",
            persona_id=persona.json()["id"],
        )
        anyone = await upload(client, auth, "b.txt", b"Zebracorp and Quokka Labs merge again.")
        team = await client.post("/v1/teams", headers=auth, json={"name": "Legal"})
        await client.put(
            f"/v1/documents/{theirs['id']}/teams",
            headers=auth,
            json={"teams": [{"team_id": team.json()["id"], "permission": "read"}]},
        )
        await drain(app)
        assert await named(client, auth, theirs["id"]) == {"Quokka Labs": 1, "Zebracorp": 1}
        # the persona's entity is not linked to a document of no persona
        assert await named(client, auth, anyone["id"]) == {"Quokka Labs": 1}
        # an outsider to the team doesn't learn which team document names an entity
        seen = await client.get(f"/v1/entities/{public['id']}/documents", headers=outsider)
        assert seen.status_code == 200, seen.text
        assert [d["document_id"] for d in seen.json()] == [anyone["id"]]
        hidden = await client.get(f"/v1/documents/{theirs['id']}/entities", headers=outsider)
        assert hidden.status_code == 404
        assert private["persona_id"] == persona.json()["id"]

"""External identities: linked by the operator, seen and unlinked by their own user only."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.db.engine import DatabaseUrls
from personae.errors import Conflict
from personae.identity import external
from tests.api.conftest import ClientFactory, bearer, join, user_id

OWNER = "owner@identities.example.com"


async def test_linked_identities_are_their_users_own(
    urls: DatabaseUrls,
    api_client: ClientFactory,
    app_sessions: async_sessionmaker[AsyncSession],
    owner_password: str,
) -> None:
    async with api_client(urls) as client:
        owner = await bearer(client, OWNER, owner_password)
        other = await join(client, owner, "other@identities.example.com", "admin")
        async with app_sessions() as session, session.begin():
            await external.link(session, OWNER, "google", "g-123", {"name": "Owner"})
        async with app_sessions() as session, session.begin():
            with pytest.raises(Conflict):
                await external.link(session, "other@identities.example.com", "google", "g-123")
        async with app_sessions() as session, session.begin():
            assert str(await external.resolve(session, "google", "g-123")) == await user_id(
                client, owner
            )
            assert await external.resolve(session, "google", "nobody") is None

        mine = (await client.get("/v1/me/identities", headers=owner)).json()
        assert [(i["provider"], i["subject"]) for i in mine] == [("google", "g-123")]
        assert mine[0]["last_used_at"] is not None
        assert (await client.get("/v1/me/identities", headers=other)).json() == []
        path = f"/v1/me/identities/{mine[0]['id']}"
        assert (await client.delete(path, headers=other)).status_code == 404
        assert (await client.delete(path, headers=owner)).status_code == 204
        assert (await client.get("/v1/me/identities", headers=owner)).json() == []

        audit = (await client.get("/v1/audit?resource_type=identity", headers=owner)).json()
        assert [e["action"] for e in audit["items"]] == ["unlink", "link"]

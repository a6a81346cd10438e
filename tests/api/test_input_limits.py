"""JSON nested too deep is refused on the way in (422 naming the field), so nothing stored
can stop the tenant's lists from being read back."""

from __future__ import annotations

import json
from typing import Any

from personae.db.engine import DatabaseUrls
from tests.api.conftest import ClientFactory, bearer

OWNER = "owner@limits.example.com"


def nested(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"a": value}
    return value


async def test_deep_json_is_refused_and_lists_stay_readable(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        for levels in (40, 600, 900):
            deep = '{"a":' * levels + '"bottom"' + "}" * levels  # past json.dumps' own limit
            body = f'{{"name": {json.dumps(f"deep-{levels}")}, "metadata": {deep}}}'
            refused = await client.post(
                "/v1/personas",
                headers={**auth, "Content-Type": "application/json"},
                content=body,
            )
            assert refused.status_code == 422, (levels, refused.text[:200])
            assert refused.json()["errors"][0]["field"] == "metadata" + ".a" * 31
        deep = '{"a":' * 5000 + "1" + "}" * 5000  # past what the JSON parser takes at all
        unparsed = await client.post(
            "/v1/personas",
            headers={**auth, "Content-Type": "application/json"},
            content=f'{{"name": "deepest", "metadata": {deep}}}',
        )
        assert unparsed.status_code == 400 and "parsing the body" in unparsed.text
        session = await client.post("/v1/sessions", headers=auth, json={"metadata": nested(100)})
        assert session.status_code == 422
        kept = await client.post(
            "/v1/personas", headers=auth, json={"name": "shallow", "metadata": nested(30)}
        )
        assert kept.status_code == 201, kept.text
        listed = await client.get("/v1/personas", headers=auth)
        assert listed.status_code == 200
        assert [p["name"] for p in listed.json()["items"]] == ["shallow"]

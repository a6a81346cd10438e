"""The documentation pages load everything from this server: they work offline."""

from __future__ import annotations

import re

from personae.db.engine import DatabaseUrls
from tests.api.conftest import ClientFactory


async def test_docs_pages_load_their_assets_from_this_server(
    urls: DatabaseUrls, api_client: ClientFactory
) -> None:
    async with api_client(urls) as client:
        for page in ("/docs", "/redoc"):
            html = await client.get(page)
            assert html.status_code == 200
            assets = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html.text)
            assert assets, page
            for asset in assets:
                assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
                fetched = await client.get(asset)
                assert fetched.status_code == 200, asset
                assert len(fetched.content) > 1000, asset
            assert "https://" not in "".join(re.findall(r"<(?:script|link)[^>]*>", html.text))
        spec = await client.get("/openapi.json")
        assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")

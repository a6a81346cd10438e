"""Authentication overhead: the same handler with and without `authorized()`, in one run.

What is measured: median latency of N in-process requests (httpx over ASGI, so no network
noise) to a handler that returns a constant, bare vs behind bearer authentication (JWT
check, then the caller's session/permission state from the access cache) and behind an API
token (which also writes its audit event). `uncached_overhead_ms` repeats the bearer case
with the access cache off (one query per request). Runs on a throwaway embedded
PostgreSQL. Last line: one JSON object.

    python bench/auth.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from fastapi import APIRouter

from personae.api.app import create_app
from personae.api.deps import RequestContext, authorized
from personae.db.engine import DatabaseUrls
from personae.settings import Settings
from personae.vault.crypto import new_key
from throwaway import measure_and_report, new_tenant

router = APIRouter()
MASTER_KEY = new_key()


@dataclass
class Samples:
    bare: list[float]
    jwt: list[float]
    token: list[float]


@router.get("/bench/bare")
async def bare() -> dict[str, bool]:
    return {"ok": True}


@router.get("/bench/authed")
async def authed(context: Annotated[RequestContext, authorized("audit:read")]) -> dict[str, bool]:
    return {"ok": True}


async def _timed(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], n: int
) -> list[float]:
    for _ in range(min(200, n)):  # warm up pools and caches
        await client.get(path, headers=headers)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        response = await client.get(path, headers=headers)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
    return samples


async def measure(urls: DatabaseUrls, settings: Settings, password: str, n: int) -> Samples:
    app = create_app(settings, urls, master_key=MASTER_KEY)
    app.include_router(router)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            login = await client.post(
                "/v1/auth/login", json={"email": "bench@example.com", "password": password}
            )
            bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
            token = await client.post(
                "/v1/tokens", headers=bearer, json={"name": "bench", "scopes": ["audit:read"]}
            )
            api_token = {"Authorization": f"Bearer {token.json()['token']}"}
            return Samples(
                bare=await _timed(client, "/bench/bare", {}, n),
                jwt=await _timed(client, "/bench/authed", bearer, n),
                token=await _timed(client, "/bench/authed", api_token, n),
            )


async def run(urls: DatabaseUrls, n: int) -> dict[str, Any]:
    created = await new_tenant(urls)
    password = created.one_time_password or ""
    cached = await measure(urls, Settings(pool_size=5), password, n)
    uncached = await measure(urls, Settings(pool_size=5, access_cache_ttl_s=0), password, n)
    bare_p50 = statistics.median(cached.bare)
    jwt_p50 = statistics.median(cached.jwt)
    return {
        "requests": n,
        "bare_p50_ms": round(bare_p50, 3),
        "auth_p50_ms": round(jwt_p50, 3),
        "auth_p95_ms": round(statistics.quantiles(cached.jwt, n=20)[18], 3),
        "auth_overhead_ms": round(jwt_p50 - bare_p50, 3),
        "auth_ratio": round(jwt_p50 / bare_p50, 2),
        "uncached_overhead_ms": round(
            statistics.median(uncached.jwt) - statistics.median(uncached.bare), 3
        ),
        "token_overhead_ms": round(statistics.median(cached.token) - bare_p50, 3),
        "target_overhead_ms": 1.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    measure_and_report(lambda urls: run(urls, args.requests))


if __name__ == "__main__":
    main()

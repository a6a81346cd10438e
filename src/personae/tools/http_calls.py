"""Running an `http` tool: its arguments POSTed as JSON to its endpoint, through httpx.

Only hosts on the installation's allow-list (`PERSONAE_TOOL_HTTP_ALLOWED_HOSTS`) are
called, and of those, when the tenant has set its own (the setting
`general:tool_http_allowed_hosts`), only hosts on both; redirects are not followed (they
could lead off the list). The answer is the response's JSON (or its text), read up to the
output cap. 429, 5xx, timeouts and connection errors may pass if tried again; other
refusals will not."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from personae.errors import ValidationFailed
from personae.providers.endpoints import listed
from personae.tools.outcome import Outcome

RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def check_endpoint(endpoint: str | None) -> None:
    """Refuse an endpoint that is not an http(s) URL with a host (422)."""
    parts = urlsplit(endpoint or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed("an http or https URL with a host", field="endpoint")


def host_allowed(endpoint: str, allowed: Sequence[str]) -> bool:
    return listed((urlsplit(endpoint).hostname or "").lower(), allowed)


def host_refusal(
    host: str, allowed_hosts: Sequence[str], tenant_hosts: Sequence[str] | None
) -> str | None:
    """Why `host` may not be called (not on the installation's list, or not on the
    tenant's when it set one), or None when it may."""
    if not listed(host.lower(), allowed_hosts):
        return f"{host} is not on the allow-list of tool hosts"
    if tenant_hosts is not None and not listed(host.lower(), tenant_hosts):
        return f"{host} is not on this tenant's allow-list of tool hosts"
    return None


async def call_http(
    client: httpx.AsyncClient,
    endpoint: str,
    arguments: Mapping[str, Any],
    *,
    allowed_hosts: Sequence[str],
    tenant_hosts: Sequence[str] | None,
    timeout_s: float,
    output_bytes: int,
) -> Outcome:
    refusal = host_refusal(urlsplit(endpoint).hostname or "", allowed_hosts, tenant_hosts)
    if refusal is not None:
        return Outcome("failed", error=refusal)
    try:
        async with client.stream(
            "POST", endpoint, json=dict(arguments), timeout=timeout_s, follow_redirects=False
        ) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) > output_bytes:
                    return Outcome("failed", error=f"answered more than {output_bytes} bytes")
    except httpx.TimeoutException:
        return Outcome("timed_out", error=f"no answer within {timeout_s:g} s", retryable=True)
    except httpx.TransportError as error:
        return Outcome("failed", error=f"cannot reach the endpoint: {error}", retryable=True)
    text = body.decode(errors="replace")
    if response.is_success:
        try:
            value: Any = json.loads(text)
        except json.JSONDecodeError:
            value = text
        return Outcome("succeeded", value=value)
    return Outcome(
        "failed",
        error=f"the endpoint answered {response.status_code}: {text[:500]}",
        retryable=response.status_code in RETRYABLE_STATUSES,
    )

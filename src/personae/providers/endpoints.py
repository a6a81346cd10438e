"""Which model endpoints a tenant may point a model config at (`base_url`).

A tenant's `base_url` makes this server send requests where the tenant says: left open,
that reaches loopback, the cloud's metadata address and the private network (SSRF). The
deployment's list `PERSONAE_MODEL_ENDPOINT_HOSTS` says which hosts may be called: names
(`.example.com` allows subdomains), addresses, or `*` for any host whose addresses are all
public (checked as the call is made; a loopback, private or link-local one is refused
unless listed by name or address)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from personae.errors import ProviderError

ANY_PUBLIC_HOST = "*"


def listed(host: str, allowed: Sequence[str]) -> bool:
    """Whether `host` is on `allowed`: by name or address, `.example.com` for subdomains."""
    host = host.lower()
    return any(
        host == a.lower() or (a.startswith(".") and host.endswith(a.lower())) for a in allowed
    )


def endpoint_refusal(url: str, allowed: Sequence[str]) -> str | None:
    """Why `url` may not be called, judged by its host alone; None when it may be (with `*`,
    `public_address_refusal` judges the addresses as the call is made)."""
    host = urlsplit(url).hostname
    if not host:
        return "the URL has no host"
    if listed(host, allowed):
        return None
    if ANY_PUBLIC_HOST not in allowed:
        return f"{host} is not on this installation's list of model endpoints"
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return f"{host} is this server itself"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: its addresses are checked when called
    return None if address.is_global else f"{host} is not a public address"


async def check_endpoint(url: str, allowed: Sequence[str]) -> None:
    """Refuse (ProviderError: not retried) a call to `url` that the list does not allow,
    resolving a name allowed by `*` to make sure all its addresses are public."""
    refusal = endpoint_refusal(url, allowed)
    host = urlsplit(url).hostname or ""
    if refusal is None and not listed(host, allowed):
        refusal = await public_address_refusal(host)
    if refusal is not None:
        raise ProviderError(f"the model endpoint is refused: {refusal}")


async def public_address_refusal(host: str) -> str | None:
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return None  # unresolvable: the call itself fails, as unreachable
    for *_, address in found:
        if not ipaddress.ip_address(address[0]).is_global:
            return f"{host} resolves to {address[0]}, not a public address"
    return None

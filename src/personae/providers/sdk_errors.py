"""What the provider SDKs' errors mean to Personae: a provider that can't answer now
(`ProviderUnavailable`, retried later: unreachable, timed out, 5xx, 408/409/425/429/529)
or one that answered wrongly (`ProviderError`, not retried, saying what the status means
and the error's code, never the body's text). The SDKs retry with backoff,
honouring Retry-After, before either is raised.

`openai` and `anthropic` are generated alike: both have `APIConnectionError`,
`APITimeoutError` and `APIStatusError` (with `status_code` and `message`)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import openai

from personae.errors import ProviderError, ProviderUnavailable

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 529})
"""Besides 5xx; 529: Anthropic is overloaded."""


@contextmanager
def translated(what: str, sdk: ModuleType = openai) -> Iterator[None]:
    """Raise `sdk`'s errors inside as Personae's, naming `what` was called."""
    try:
        yield
    except (sdk.APIConnectionError, sdk.APITimeoutError) as error:
        raise ProviderUnavailable(f"{what} is unreachable ({error})") from None
    except sdk.APIStatusError as error:
        status = error.status_code
        message = f"{what} answered {status}"
        if status >= 500 or status in RETRYABLE_STATUS:
            raise ProviderUnavailable(message) from None
        meaning = MEANINGS.get(status, "refused the request")
        code = next((c for c in (_field(error, "code"), _field(error, "type")) if c), None)
        raise ProviderError(f"{message}: it {meaning}" + (f" ({code})" if code else "")) from None


MEANINGS = {
    400: "found the request malformed",
    401: "refused the API key",
    403: "refused access",
    404: "has no such model or endpoint",
    413: "found the request too large",
    422: "refused what the request holds",
}
"""What a refusal means, said by Personae: the body's own text never reaches the tenant (an
endpoint may be something other than a model provider, and its answer not the tenant's
to read)."""
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")


def _field(error: Exception, name: str) -> str | None:
    """The error's machine-readable `code` or `type` (`invalid_api_key`), when it is one."""
    value = getattr(error, name, None)
    body = getattr(error, "body", None)
    if value is None and isinstance(body, dict):
        inner = body.get("error")
        value = (inner if isinstance(inner, dict) else body).get(name)
    return value if isinstance(value, str) and _CODE.fullmatch(value) else None

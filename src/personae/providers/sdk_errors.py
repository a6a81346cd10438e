"""What the provider SDKs' errors mean to Personae: a provider that can't answer now
(`ProviderUnavailable`, retried later: unreachable, timed out, 5xx, 408/409/425/429/529)
or one that answered wrongly (`ProviderError`, not retried). The SDKs retry with backoff,
honouring Retry-After, before either is raised.

`openai` and `anthropic` are generated alike: both have `APIConnectionError`,
`APITimeoutError` and `APIStatusError` (with `status_code` and `message`)."""

from __future__ import annotations

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
        raise ProviderError(f"{message}: {error.message}") from None

"""What the `openai` SDK's errors mean to Personae: a provider that can't answer now
(`ProviderUnavailable`, retried later: unreachable, timed out, 5xx, 408/409/425/429) or
one that answered wrongly (`ProviderError`, not retried). The SDK retries with backoff,
honouring Retry-After, before either is raised."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import openai

from personae.errors import ProviderError, ProviderUnavailable

RETRYABLE_STATUS = frozenset({408, 409, 425, 429})


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Raise the SDK's errors inside as Personae's, naming `what` was called."""
    try:
        yield
    except (openai.APIConnectionError, openai.APITimeoutError) as error:
        raise ProviderUnavailable(f"{what} is unreachable ({error})") from None
    except openai.APIStatusError as error:
        status = error.status_code
        message = f"{what} answered {status}"
        if status >= 500 or status in RETRYABLE_STATUS:
            raise ProviderUnavailable(message) from None
        raise ProviderError(f"{message}: {error.message}") from None

"""The exception tree. Domain code raises these; the API maps each to one HTTP status.

PersonaeError
├── ConfigurationError    the installation is set up wrongly (a fix is named)
├── NotFound              404, also for another tenant's resources
├── Conflict              409
├── Unauthorized          401
├── Forbidden             403
├── ValidationFailed      422, names the field at fault
├── PayloadTooLarge       413
├── UnsupportedMediaType  415, a file of a type Personae can't read
├── RateLimited           429, carries retry_after seconds
├── ProviderError         502, an outside model answered, but wrongly (retrying won't help)
└── Unavailable           503
    └── ProviderUnavailable   an outside model can't answer now (down, slow, limited)
"""

from __future__ import annotations


class PersonaeError(Exception):
    """Base of every error Personae raises on purpose."""

    status: int = 500
    title: str = "Internal error"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ConfigurationError(PersonaeError):
    """The installation is misconfigured. `detail` names the problem and the fix."""

    title = "Configuration error"


class NotFound(PersonaeError):
    status = 404
    title = "Not found"


class Conflict(PersonaeError):
    status = 409
    title = "Conflict"


class Unauthorized(PersonaeError):
    status = 401
    title = "Unauthorized"


class Forbidden(PersonaeError):
    status = 403
    title = "Forbidden"


class ValidationFailed(PersonaeError):
    status = 422
    title = "Validation failed"

    def __init__(self, detail: str, *, field: str | None = None, **extra: object) -> None:
        super().__init__(detail, **extra)
        self.field = field


class PayloadTooLarge(PersonaeError):
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(PersonaeError):
    status = 415
    title = "Unsupported media type"


class RateLimited(PersonaeError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: float, **extra: object) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after


class Unavailable(PersonaeError):
    status = 503
    title = "Service unavailable"


class ProviderUnavailable(Unavailable):
    """An embedding or language model provider can't answer now; the work is retried."""


class ProviderError(PersonaeError):
    """A provider answered, but not with what was asked (a wrong size, a refusal)."""

    status = 502
    title = "Bad gateway"

"""Personae: an open, self-hostable backend for persona-based AI agents."""

from personae.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    NotFound,
    PersonaeError,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PersonaeError",
    "RateLimited",
    "Unauthorized",
    "ValidationFailed",
    "__version__",
]

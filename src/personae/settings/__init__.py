"""One typed settings object, loaded once from `PERSONAE_*` variables over `.env`, made of
sections (`platform.py`, `features.py`) that a part needing only its own knobs may take."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from personae.settings.features import (
    KnowledgeSettings,
    MemorySettings,
    ModelSettings,
    ToolSettings,
    TurnSettings,
)
from personae.settings.platform import (
    APP_ROLE,
    MODEL_ENDPOINT_HOSTS,
    CacheSettings,
    DatabaseSettings,
    IdentitySettings,
    ServerSettings,
    WorkerSettings,
    default_data_dir,
)

__all__ = ["APP_ROLE", "MODEL_ENDPOINT_HOSTS", "Settings", "default_data_dir", "get_settings"]


class Settings(
    DatabaseSettings,
    ServerSettings,
    IdentitySettings,
    WorkerSettings,
    CacheSettings,
    ModelSettings,
    KnowledgeSettings,
    MemorySettings,
    ToolSettings,
    TurnSettings,
    BaseSettings,
):
    """Every knob of a Personae installation, section by section (each a class above, which
    a part that needs only its own may take). Secrets are `SecretStr`: masked in repr and
    logs. Every field is read from `PERSONAE_<FIELD>`."""

    model_config = SettingsConfigDict(
        env_prefix="PERSONAE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()

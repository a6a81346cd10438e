"""The settings of the platform under the product: database, server, sign-in, worker,
cache; and the constants their defaults use."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from pydantic import BaseModel, Field, SecretStr

MODEL_ENDPOINT_HOSTS = (
    "api.openai.com",
    "api.anthropic.com",
    ".openai.azure.com",
    "openrouter.ai",
    "api.groq.com",
    "api.mistral.ai",
    "api.together.xyz",
    "api.deepseek.com",
    "api.fireworks.ai",
    "api.x.ai",
    "generativelanguage.googleapis.com",
)
"""Public providers a model config may name out of the box; a self-hosted endpoint (on
loopback or the private network) must be added by the operator."""
APP_ROLE = "personae_app"
"""The database role the application runs as: no superuser, no BYPASSRLS."""


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("personae"))


class DatabaseSettings(BaseModel):
    """Where the database is, how the app connects, and the master key."""

    database_url: SecretStr | None = Field(
        default=None,
        description="Owner/migration connection (postgresql://…). Unset: embedded PostgreSQL.",
    )

    app_database_url: SecretStr | None = Field(
        default=None,
        description=f"Connection as the application role ({APP_ROLE}). Unset: derived.",
    )

    master_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes; wraps the vault's data keys. Never stored "
        "in the database. Unset with the embedded database: kept in DATA_DIR/master.key.",
    )

    data_dir: Path = Field(default_factory=default_data_dir)

    embedded_shared_buffers_mb: int | None = Field(
        default=None,
        ge=16,
        le=65_536,
        description="the embedded server's buffer cache (default: 1/16 of memory, 128-1024)",
    )

    embedded_listen: str | None = Field(
        default=None,
        pattern=r"^[^\s:]*:[0-9]{1,5}$",
        description="host:port for the embedded server to listen on over TCP (password "
        "required); unset: its Unix socket only",
    )

    pool_size: int = Field(default=10, ge=1, le=200)

    pool_pre_ping: bool = Field(
        default=False,
        description="Test each pooled connection before use (one more round trip per request).",
    )

    pool_recycle_s: int = Field(default=1800, ge=60)

    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)

    statement_timeout_ms: int = Field(default=30_000, ge=0)


class ServerSettings(BaseModel):
    """The HTTP server and what one request may carry."""

    host: str = "127.0.0.1"

    port: int = Field(default=8420, ge=1, le=65535)

    log_level: str = "info"

    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses of reverse proxies whose X-Forwarded-For / -Proto are "
        "believed (JSON list; empty: none, the peer's address is the client's)",
    )

    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="request body limit")

    max_json_depth: int = Field(
        default=32, ge=4, le=200, description="levels of nesting a JSON body may hold"
    )

    shutdown_grace_s: float = Field(
        default=30.0,
        gt=0,
        description="On SIGTERM or Ctrl-C, open requests (a turn) may finish within this; "
        "live streams end at once.",
    )

    sse_heartbeat_s: float = Field(default=15.0, gt=0, description="comment lines on idle streams")

    max_events_per_append: int = Field(default=1000, ge=1, le=100_000)

    max_event_bytes: int = Field(
        default=262_144, ge=1024, description="an event's payload, as compact JSON"
    )

    max_import_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="request body limit of batch imports (episodes, facts)",
    )

    max_attachment_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1, description="one uploaded file (413 beyond)"
    )

    clamav_address: str | None = Field(
        default=None,
        description="clamd to scan uploads with: tcp://host:port or a Unix socket path. "
        "Unset: the built-in checks alone (EICAR, disguised executables).",
    )

    clamav_timeout_s: float = Field(default=30.0, gt=0, description="per file; then quarantined")


class IdentitySettings(BaseModel):
    """Sign-in: token lifetimes, attempt limits, the access cache."""

    access_token_ttl_s: int = Field(default=900, ge=30, le=86_400)

    refresh_token_ttl_s: int = Field(default=30 * 86_400, ge=300)

    login_attempts_per_pair: int = Field(
        default=10, ge=1, description="sign-ins to one account from one address, per window"
    )

    login_attempts_per_pair_hourly: int = Field(
        default=30, ge=1, description="the same per hour: the longer wait of a repeated guesser"
    )

    login_attempts_per_ip: int = Field(default=50, ge=1, description="per window")

    login_window_s: float = Field(default=60.0, gt=0)

    access_cache_ttl_s: float = Field(
        default=60.0,
        ge=0,
        description="How long a process may reuse a caller's sessions/roles state; changes "
        "reach every process at once through NOTIFY. 0: query on every request.",
    )


class WorkerSettings(BaseModel):
    """Background jobs: the worker and retries."""

    worker: bool = Field(
        default=True, description="Run a job worker inside `personae serve` as well."
    )

    worker_concurrency: int = Field(default=2, ge=1, le=100, description="Jobs run at once.")

    worker_restart_delay_s: float = Field(default=5.0, gt=0, description="after a failure")

    worker_shutdown_timeout_s: float = Field(
        default=10.0, ge=0, description="How long running jobs may finish when stopping."
    )

    worker_heartbeat_s: float = Field(default=10.0, gt=0, description="a live worker says so")

    worker_stalled_after_s: float = Field(
        default=30.0,
        gt=0,
        description="A worker silent this long is dead: its running jobs are queued again.",
    )

    job_max_attempts: int = Field(
        default=12, ge=1, le=100, description="runs of a job whose provider is down"
    )

    job_retry_wait_s: int = Field(default=1, ge=0, description="seconds before every retry")

    job_retry_backoff: int = Field(
        default=2, ge=0, le=10, description="plus backoff ** attempt seconds (0: none)"
    )


class CacheSettings(BaseModel):
    """The Redis-protocol cache in front of PostgreSQL."""

    redis_url: SecretStr | None = Field(
        default=None,
        description="A Redis-protocol server (redis://…, rediss://…) for the hot cache and "
        "shared rate limits and tool circuits. Unset: each process keeps them in its own memory.",
    )

    cache_ttl_s: float = Field(
        default=1800.0, gt=0, description="How long an unused session stays in the hot cache."
    )

    cache_timeout_s: float = Field(
        default=0.05, gt=0, le=10, description="Longest wait for the cache before using PostgreSQL."
    )

    cache_retry_s: float = Field(
        default=5.0, gt=0, description="After repeated cache failures, how long to leave it alone."
    )

    cache_failures_to_open: int = Field(default=3, ge=1, description="failures in a row")

    cache_max_entries: int = Field(
        default=10_000, ge=1, description="entries of the in-process cache (no Redis configured)"
    )

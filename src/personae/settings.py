"""One typed settings object, loaded once from `PERSONAE_*` variables over `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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


class Settings(BaseSettings):
    """Every knob of a Personae installation. Secrets are `SecretStr`: masked in repr and logs."""

    model_config = SettingsConfigDict(
        env_prefix="PERSONAE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

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
    host: str = "127.0.0.1"
    port: int = Field(default=8420, ge=1, le=65535)
    pool_size: int = Field(default=10, ge=1, le=200)
    pool_pre_ping: bool = Field(
        default=False,
        description="Test each pooled connection before use (one more round trip per request).",
    )
    pool_recycle_s: int = Field(default=1800, ge=60)
    connect_timeout_s: float = Field(default=5.0, gt=0, le=120)
    statement_timeout_ms: int = Field(default=30_000, ge=0)
    log_level: str = "info"
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
    max_events_per_append: int = Field(default=1000, ge=1, le=100_000)
    max_event_bytes: int = Field(
        default=262_144, ge=1024, description="an event's payload, as compact JSON"
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
    sse_heartbeat_s: float = Field(default=15.0, gt=0, description="comment lines on idle streams")
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
    access_cache_ttl_s: float = Field(
        default=60.0,
        ge=0,
        description="How long a process may reuse a caller's sessions/roles state; changes "
        "reach every process at once through NOTIFY. 0: query on every request.",
    )

    embedder: str = Field(
        default="auto",
        min_length=1,
        description="The embedding model's provider: minilm (local, the `minilm` extra), "
        "hashing (dependency-free, lexical), openai (any OpenAI-compatible endpoint), or one "
        "a plugin registers. auto: minilm when installed, else hashing.",
    )
    embedding_base_url: str = Field(
        default="https://api.openai.com/v1", description="the openai embedder's endpoint"
    )
    embedding_api_key: SecretStr | None = None
    embedding_model: str = Field(default="text-embedding-3-small", max_length=100)
    embedding_request_dimensions: bool = Field(
        default=False, description="send `dimensions` (models that can shorten their vectors)"
    )
    embedding_batch_size: int = Field(default=64, ge=1, le=2048, description="texts per call")
    embedding_timeout_s: float = Field(default=30.0, gt=0, le=600)
    embedding_max_retries: int = Field(
        default=2, ge=0, le=10, description="within one call; ingestion jobs retry on top"
    )
    embedding_requests_per_minute: int = Field(
        default=0, ge=0, description="per process; 0: no limit"
    )
    max_document_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1, description="one uploaded document (413 beyond)"
    )
    chunk_tokens: int = Field(default=512, ge=16, le=8192, description="target chunk size")
    chunk_overlap_tokens: int = Field(default=64, ge=0, le=4096)
    job_max_attempts: int = Field(
        default=12, ge=1, le=100, description="runs of a job whose provider is down"
    )
    job_retry_wait_s: int = Field(default=1, ge=0, description="seconds before every retry")
    job_retry_backoff: int = Field(
        default=2, ge=0, le=10, description="plus backoff ** attempt seconds (0: none)"
    )
    memory_batch_size: int = Field(
        default=64, ge=1, le=2048, description="messages made episodes per transaction"
    )
    memory_retry_s: float = Field(
        default=60.0, ge=0, description="before embedding episodes again after a failure"
    )
    memory_entity_similarity: float = Field(
        default=0.7,
        ge=0,
        le=1,
        description="Entity names whose embeddings are this close (cosine) are compared ...",
    )
    memory_entity_spelling: float = Field(
        default=0.88,
        ge=0,
        le=1,
        description="... and are one entity when spelled this much alike (0 to 1).",
    )
    memory_summary_window: int = Field(
        default=20, ge=2, le=1000, description="turns a window summary covers"
    )
    memory_meta_window: int = Field(
        default=5, ge=2, le=100, description="window summaries a meta-summary covers"
    )
    memory_extraction_batch: int = Field(
        default=16, ge=1, le=200, description="turns the model reads per extraction call"
    )
    tool_builtin_timeout_s: float = Field(
        default=10.0, gt=0, le=600, description="a built-in tool's time to answer"
    )
    tool_sandbox_wall_s: float = Field(
        default=10.0, gt=0, le=3600, description="a python tool's time to answer"
    )
    tool_sandbox_cpu_s: int = Field(default=5, ge=1, le=3600, description="its CPU seconds")
    tool_sandbox_memory_mb: int = Field(
        default=256, ge=64, le=65_536, description="its address space (each process)"
    )
    tool_sandbox: Literal["bubblewrap", "process"] = Field(
        default="bubblewrap",
        description="how python tools are isolated: bubblewrap (the OS), or process "
        "(weaker, in-interpreter guards: single-user installations only)",
    )
    tool_sandbox_processes: int = Field(
        default=16, ge=2, le=1024, description="processes and threads in a tool's sandbox"
    )
    tool_sandbox_scratch_mb: int = Field(
        default=64, ge=1, le=65_536, description="a tool's private /tmp"
    )
    tool_sandbox_uid: int = Field(
        default=65534, ge=1, le=2**31, description="the uid tools run as when serving as root"
    )
    tool_sandbox_python: Path | None = Field(
        default=None,
        description="the interpreter tools run on (default: the server's own, or "
        "/usr/bin/python3 when the sandbox's uid cannot read it)",
    )
    tool_output_bytes: int = Field(
        default=1_000_000, ge=1024, le=100_000_000, description="what it may print"
    )
    tool_max_attempts: int = Field(
        default=3, ge=1, le=10, description="tries of a call whose failure may pass"
    )
    tool_retry_base_s: float = Field(
        default=0.2, ge=0, le=60, description="the first wait between tries (then doubling)"
    )
    tool_breaker_threshold: int = Field(
        default=5, ge=1, le=1000, description="failures in a row that open a tool's circuit"
    )
    tool_breaker_cooldown_s: float = Field(
        default=30.0, ge=0, le=3600, description="how long an open circuit refuses calls"
    )
    tool_http_timeout_s: float = Field(
        default=10.0, gt=0, le=600, description="an http tool's time to answer"
    )
    model_endpoint_hosts: list[str] = Field(
        default_factory=lambda: list(MODEL_ENDPOINT_HOSTS),
        description="hosts a model config's base_url may name (JSON list; `.example.com` "
        "allows subdomains; `*`: any host whose addresses are all public)",
    )
    tool_http_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="hosts http tools may call (JSON list; `.example.com` allows subdomains)",
    )
    turn_max_tool_iterations: int = Field(
        default=4, ge=0, le=20, description="model calls after tool results, per turn"
    )
    turn_memory_tokens: int = Field(
        default=800, ge=0, le=100_000, description="memories a turn's prompt may hold"
    )
    turn_chunks: int = Field(default=4, ge=0, le=50, description="document chunks per turn")
    turn_tools: int = Field(default=8, ge=0, le=50, description="tools offered per turn")
    turn_answer_tokens: int = Field(
        default=1024, ge=16, le=100_000, description="room kept for the answer"
    )
    turn_model_timeout_s: float = Field(
        default=60.0, gt=0, le=600, description="a model's time to answer (then the fallback)"
    )
    turn_approval_wait_s: float = Field(
        default=300.0, ge=0, le=86_400, description="how long a run waits for a tool's approval"
    )
    turn_approval_poll_s: float = Field(
        default=0.5, gt=0, le=60, description="how often a waiting run looks for the decision"
    )
    turn_steps_flush_s: float = Field(
        default=0.1,
        ge=0,
        le=10,
        description="how long a turn's first steps wait to be written on their own: a turn "
        "whose model answers sooner writes them with its end, in one transaction",
    )
    run_cancel_wait_s: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="how long a cancel waits for the process carrying a run to stop it "
        "(then the run is taken for abandoned and cancelled where it stands)",
    )
    run_stale_after_s: float = Field(
        default=3600.0,
        ge=60,
        le=7 * 86_400,
        description="a run still running this long after it started is failed as stale "
        "(its process died)",
    )
    model_rate_window_s: float = Field(
        default=60.0, gt=0, le=3600, description="the window rpm and tpm count over"
    )
    model_rate_max_wait_s: float = Field(
        default=120.0, ge=0, le=3600, description="longest wait for a model's rate limits"
    )
    search_max_k: int = Field(default=100, ge=1, le=1000)
    search_ef: int = Field(
        default=300, ge=10, le=1000, description="HNSW candidates per search (hnsw.ef_search)"
    )
    turn_search_ef: int = Field(
        default=100,
        ge=10,
        le=1000,
        description="HNSW candidates for the searches on a turn's path: its retrieval and "
        "tool discovery (fewer than `search_ef`: faster, a little less recall)",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()

"""The settings of the product's features: models, knowledge, memory, tools, turns."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from personae.settings.platform import MODEL_ENDPOINT_HOSTS


class ModelSettings(BaseModel):
    """Embedding models, and the chat model endpoints a tenant may call."""

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

    model_endpoint_hosts: list[str] = Field(
        default_factory=lambda: list(MODEL_ENDPOINT_HOSTS),
        description="hosts a model config's base_url may name (JSON list; `.example.com` "
        "allows subdomains; `*`: any host whose addresses are all public)",
    )

    model_rate_window_s: float = Field(
        default=60.0, gt=0, le=3600, description="the window rpm and tpm count over"
    )

    model_rate_max_wait_s: float = Field(
        default=120.0, ge=0, le=3600, description="longest wait for a model's rate limits"
    )


class KnowledgeSettings(BaseModel):
    """Documents, chunks and search."""

    max_document_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1, description="one uploaded document (413 beyond)"
    )

    chunk_tokens: int = Field(default=512, ge=16, le=8192, description="target chunk size")

    chunk_overlap_tokens: int = Field(default=64, ge=0, le=4096)

    search_max_k: int = Field(default=100, ge=1, le=1000)

    search_ef: int = Field(
        default=300, ge=10, le=1000, description="HNSW candidates per search (hnsw.ef_search)"
    )


class MemorySettings(BaseModel):
    """Remembering: batches, summaries, extraction, entity resolution."""

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

    memory_facts_per_request: int = Field(
        default=10_000,
        ge=1,
        le=100_000,
        description="facts (and triples) one request may store (in one transaction)",
    )
    memory_import_episodes: int = Field(
        default=10_000,
        ge=1,
        le=100_000,
        description="episodes one batch request may write (in one transaction)",
    )


class ToolSettings(BaseModel):
    """Running tools: the sandbox, HTTP tools, retries, circuit breakers."""

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

    tool_http_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="hosts http tools may call (JSON list; `.example.com` allows subdomains)",
    )


class TurnSettings(BaseModel):
    """A turn: its budgets, timeouts and searches, and runs."""

    turn_max_tool_iterations: int = Field(
        default=4, ge=0, le=20, description="model calls after tool results, per turn"
    )

    turn_format_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="model calls again, with the error, when an answer does not match the "
        "response_format a client asked for (then the run fails saying why)",
    )

    turn_memory_tokens: int = Field(
        default=800, ge=0, le=100_000, description="memories a turn's prompt may hold"
    )

    turn_chunks: int = Field(default=4, ge=0, le=50, description="document chunks per turn")
    turn_rule_chars: int = Field(
        default=4000,
        ge=0,
        le=100_000,
        description="characters of matched rules' instructions a turn's prompt takes",
    )

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

    turn_search_ef: int = Field(
        default=100,
        ge=10,
        le=1000,
        description="HNSW candidates for the searches on a turn's path: its retrieval and "
        "tool discovery (fewer than `search_ef`: faster, a little less recall)",
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

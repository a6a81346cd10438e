"""A Redis-protocol cache in front of PostgreSQL, or an in-process one with the same interface.

PostgreSQL stays the truth: every entry carries the `seq` it was read at, writes go through
to the database first, and a store that fails or is slow is skipped (see `guarded.py`)."""

from personae.cache.guarded import Guarded
from personae.cache.stores import MemoryStore, RedisStore, Store
from personae.settings import Settings

__all__ = ["Guarded", "MemoryStore", "RedisStore", "Store", "open_cache"]


def open_cache(settings: Settings, namespace: str) -> Guarded:
    """The configured Redis-protocol server, or (none configured) this process's memory.

    `namespace`: the glob matching every key the caller writes."""
    store: Store
    if settings.redis_url is None:
        store = MemoryStore(settings.cache_max_entries)
    else:
        store = RedisStore(
            settings.redis_url.get_secret_value(), timeout_s=settings.cache_timeout_s
        )
    return Guarded(
        store,
        timeout_s=settings.cache_timeout_s,
        retry_s=settings.cache_retry_s,
        failures_to_open=settings.cache_failures_to_open,
        namespace=namespace,
    )

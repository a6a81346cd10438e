"""The data-model rules, checked against the migrated database's own catalog."""

from __future__ import annotations

import os
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.base import GLOBAL_TABLES
from personae.db.types import TSVECTOR, Vector, uuid7
from personae.schema import metadata, tenant_owned_tables
from personae.settings import APP_ROLE

TENANT_TABLES = tenant_owned_tables()


async def test_every_model_table_exists_and_nothing_else(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as conn:
        names = set(
            (
                await conn.execute(
                    text(
                        "SELECT relname FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = relnamespace "
                        "WHERE nspname = 'public' AND relkind IN ('r', 'p') AND NOT relispartition"
                    )
                )
            ).scalars()
        )
    queue = {name for name in names if name.startswith("procrastinate_")}  # migration 0007
    assert queue == {
        "procrastinate_jobs",
        "procrastinate_events",
        "procrastinate_periodic_defers",
        "procrastinate_workers",
    }
    assert names - {"alembic_version"} - queue == set(metadata.tables)
    assert len(TENANT_TABLES) + len(GLOBAL_TABLES) == len(metadata.tables)


async def test_rls_is_enabled_and_forced_on_every_tenant_table(owner_engine: AsyncEngine) -> None:
    """Every tenant-owned table and partition: RLS on and forced, and the only policy that
    can apply to the application role is the tenant isolation policy."""
    async with owner_engine.connect() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
                )
            )
        ).all()
        policies = (
            await conn.execute(
                text(
                    "SELECT tablename, policyname, roles::text[], cmd, qual FROM pg_policies "
                    "WHERE schemaname = 'public'"
                )
            )
        ).all()
    reaching_app: dict[str, list[str]] = {}
    for table, name, roles, _cmd, qual in policies:
        if "public" in roles or APP_ROLE in roles:
            reaching_app.setdefault(table, []).append(name)
            assert qual == "(tenant_id = personae_current_tenant())", (table, name, qual)
    state = {name: (rls, forced) for name, rls, forced in tables}
    partitions_of = {name.rsplit("_", 1)[0] for name in state if name not in metadata.tables}
    checked = 0
    for name, value in state.items():
        parent = (
            name
            if name in metadata.tables
            else next((p for p in partitions_of if name.startswith(p + "_")), None)
        )
        if parent in TENANT_TABLES:
            assert value == (True, True), f"{name}: RLS not enabled and forced"
            assert reaching_app.get(name) == ["tenant_isolation"], (name, reaching_app.get(name))
            checked += 1
    assert checked > len(TENANT_TABLES)  # the tables and their partitions


def test_tenant_id_leads_every_key_and_joins_every_foreign_key() -> None:
    for name in TENANT_TABLES:
        table = metadata.tables[name]
        assert next(iter(table.primary_key.columns)).name == "tenant_id", name
        for fk in table.foreign_key_constraints:
            if fk.referred_table.name not in GLOBAL_TABLES:
                assert "tenant_id" in fk.column_keys, f"{name}: {fk.column_keys}"


async def test_unique_indexes_on_tenant_tables_include_tenant_id(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT t.relname, i.relname, pg_get_indexdef(x.indexrelid) "
                    "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                    "JOIN pg_class t ON t.oid = x.indrelid "
                    "JOIN pg_namespace n ON n.oid = t.relnamespace "
                    "WHERE n.nspname = 'public' AND x.indisunique AND NOT t.relispartition"
                )
            )
        ).all()
    checked = 0
    for table, index, definition in rows:
        if table in TENANT_TABLES:
            assert "tenant_id" in definition, f"{table}.{index}: {definition}"
            checked += 1
    assert checked >= len(TENANT_TABLES)


async def test_every_embedding_has_hnsw_and_every_tsvector_gin(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as conn:
        columns = (
            await conn.execute(
                text(
                    "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) "
                    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT c.relispartition "
                    "AND a.attnum > 0 AND NOT a.attisdropped "
                    "AND format_type(a.atttypid, a.atttypmod) LIKE ANY "
                    "(ARRAY['vector%', 'tsvector'])"
                )
            )
        ).all()
        indexes = (await conn.execute(text("SELECT tablename, indexdef FROM pg_indexes"))).all()
    by_table: dict[str, list[str]] = {}
    for table, definition in indexes:
        by_table.setdefault(table, []).append(definition)
    vectors = tsvectors = 0
    for table, column, kind in columns:
        defs = by_table.get(table, [])
        if kind.startswith("vector"):
            assert kind == "vector(384)", f"{table}.{column}: {kind}"
            assert any("USING hnsw" in d and f"({column} vector_cosine_ops)" in d for d in defs), (
                f"{table}.{column} has no HNSW cosine index"
            )
            vectors += 1
        else:
            assert any("USING gin" in d and f"({column})" in d for d in defs), (
                f"{table}.{column} has no GIN index"
            )
            tsvectors += 1
    declared = [c for t in metadata.tables.values() for c in t.columns]
    assert vectors == sum(isinstance(c.type, Vector) for c in declared) >= 9
    assert tsvectors == sum(isinstance(c.type, TSVECTOR) for c in declared) >= 9


async def test_time_series_are_partitioned_by_month(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as conn:
        parts = (
            await conn.execute(
                text(
                    "SELECT inhparent::regclass::text, count(*) FROM pg_inherits "
                    "JOIN pg_class p ON p.oid = inhparent WHERE p.relkind = 'p' GROUP BY 1"
                )
            )
        ).all()
        now_part = (
            await conn.execute(
                text(
                    "WITH x AS (INSERT INTO system_metrics (host, metric_name, metric_value) "
                    " VALUES ('h', 'cpu', 1) RETURNING tableoid) "
                    "SELECT tableoid::regclass::text FROM x"
                )
            )
        ).scalar_one()
    counts: dict[str, int] = dict(parts)
    assert set(counts) == {
        "agent_metrics",
        "alerts",
        "anomalies",
        "business_metrics",
        "events",
        "forecasts",
        "system_metrics",
        "user_activity",
    }
    assert all(count >= 5 for count in counts.values())  # default + months around now
    assert now_part.startswith("system_metrics_p")


async def test_uuids_are_version_7_and_time_ordered(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as conn:
        from_sql = [
            (await conn.execute(text("SELECT personae_uuidv7()"))).scalar_one() for _ in range(3)
        ]
    from_python = [uuid7() for _ in range(10_000)]
    for value in from_sql + from_python:
        assert isinstance(value, uuid.UUID) and value.version == 7
        assert value.variant == uuid.RFC_4122
    assert from_python == sorted(from_python)
    assert abs(int(from_sql[0].hex[:12], 16) - int(from_python[0].hex[:12], 16)) < 60_000


def test_a_forked_process_draws_random_bits_of_its_own() -> None:
    """Ids read their randomness ahead; a child forked with that buffer must not reuse it
    (two processes would then make ids that differ only in the time and counter)."""
    uuid7()  # the parent holds random bytes read ahead
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its next ids' random bits, to the parent
        os.close(reading)
        os.write(writing, b"".join(uuid7().bytes[8:] for _ in range(8)))
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        theirs = pipe.read()
    os.waitpid(child, 0)
    ours = b"".join(uuid7().bytes[8:] for _ in range(8))
    assert len(theirs) == len(ours) == 64
    assert theirs != ours

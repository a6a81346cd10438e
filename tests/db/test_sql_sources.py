"""The SQL in `db/sql/` is what the migrated database runs: applying every file to it
changes no function, trigger or policy, and every one of ours has a file."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from personae.db import sources
from personae.schema import tenant_owned_tables

SNAPSHOT = text(
    r"""
    SELECT 'function ' || p.oid::regprocedure::text,
           pg_get_functiondef(p.oid) || ' acl ' || coalesce(p.proacl::text, '')
    FROM pg_proc AS p
    WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'personae\_%'
    UNION ALL
    SELECT 'trigger ' || t.tgname || ' on ' || t.tgrelid::regclass::text, pg_get_triggerdef(t.oid)
    FROM pg_trigger AS t JOIN pg_proc AS p ON p.oid = t.tgfoid
    WHERE NOT t.tgisinternal AND p.proname LIKE 'personae\_%'
    UNION ALL
    SELECT 'policy ' || policyname || ' on ' || tablename,
           concat_ws(' | ', permissive, roles::text, cmd, qual, with_check)
    FROM pg_policies WHERE schemaname = 'public'
    UNION ALL
    SELECT 'row security on ' || c.relname, c.relrowsecurity::text || c.relforcerowsecurity::text
    FROM pg_class AS c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
      AND c.relrowsecurity
    """
)

PARTITIONS = text(
    "SELECT i.inhrelid::regclass::text FROM pg_inherits AS i "
    "WHERE i.inhparent::regclass::text = ANY(:tables)"
)


async def _snapshot(conn: AsyncConnection) -> dict[str, str]:
    return {name: definition for name, definition in (await conn.execute(SNAPSHOT)).all()}


async def _apply_every_source(conn: AsyncConnection) -> None:
    tables = tenant_owned_tables()
    partitions = list((await conn.execute(PARTITIONS, {"tables": tables})).scalars())
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    for name in sources.names():
        if name == sources.TENANT_ISOLATION:
            for table in [*tables, *partitions]:
                await driver.execute(sources.tenant_isolation(table))
        else:
            await driver.execute(sources.read(name))


async def test_the_database_runs_what_the_sql_files_say(owner_engine: AsyncEngine) -> None:
    async with owner_engine.connect() as conn:
        before = await _snapshot(conn)
        await _apply_every_source(conn)
        after = await _snapshot(conn)
        await conn.rollback()
    changed = sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
    assert changed == [], (
        "these differ between the migrated database and db/sql/ (change the file, and add a "
        f"migration applying a frozen copy of it): {changed}"
    )


async def test_every_function_trigger_and_policy_of_ours_has_a_file(
    owner_engine: AsyncEngine,
) -> None:
    async with owner_engine.connect() as conn:
        objects = await _snapshot(conn)
    defined = sources.defined()
    for key in objects:
        kind, name = key.split(" ")[:2]
        if kind in ("function", "trigger", "policy"):
            name = name.split("(")[0]
            assert (kind, name) in defined, f"{kind} {name} has no file in db/sql/"
    named = {(kind, name.split("(")[0]) for kind, name, *_ in (k.split(" ") for k in objects)}
    assert defined <= named, f"files define what the database lacks: {defined - named}"

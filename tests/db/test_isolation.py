"""Tenant isolation at the database level, as the application role, over every table."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from personae.db.base import GLOBAL_TABLES
from personae.db.tenancy import bind_tenant
from personae.schema import metadata, tenant_owned_tables
from personae.settings import APP_ROLE
from tests.rows import OVERRIDES, RowFactory

TENANT_TABLES = tenant_owned_tables()


@dataclass
class World:
    factory: RowFactory
    a: uuid.UUID
    b: uuid.UUID
    rows: dict[uuid.UUID, dict[str, list[dict[str, Any]]]]


@pytest.fixture(scope="module")
async def world(owner_engine: AsyncEngine) -> World:
    """Tenants A and B, each with two rows in every tenant-owned table."""
    factory = RowFactory()
    async with owner_engine.begin() as conn:
        await factory.seed_globals(conn)
        a = await factory.tenant(conn, "a")
        b = await factory.tenant(conn, "b")
        rows = {a: await factory.seed(conn, a), b: await factory.seed(conn, b)}
    return World(factory, a, b, rows)


async def test_app_role_is_least_privileged(app_engine: AsyncEngine) -> None:
    async with app_engine.connect() as conn:
        role = (
            await conn.execute(
                text(
                    "SELECT current_user, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb "
                    "FROM pg_roles WHERE rolname = current_user"
                )
            )
        ).one()
    assert tuple(role) == (APP_ROLE, False, False, False, False)


async def test_app_role_cannot_read_password_hashes_or_wrapped_keys(
    world: World, app_engine: AsyncEngine, owner_engine: AsyncEngine
) -> None:
    async with owner_engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO users (email, password_hash) VALUES ('hashed@x.io', 'secret')")
        )
    for forbidden in (
        "SELECT password_hash FROM users",
        "SELECT * FROM users",
        "SELECT * FROM vault_keys",
    ):
        async with app_engine.connect() as conn:
            with pytest.raises(DBAPIError, match="permission denied"):
                await conn.execute(text(forbidden))
    readable = [c.name for c in metadata.tables["users"].columns if c.name != "password_hash"]
    async with app_engine.begin() as conn:
        emails = await conn.execute(text(f"SELECT {', '.join(readable)} FROM users"))
        assert "hashed@x.io" in {row.email for row in emails}
        await conn.execute(  # written, as a password change does, though never read
            text("UPDATE users SET password_hash = 'new' WHERE email = 'hashed@x.io'")
        )


async def test_bound_tenant_sees_only_its_own_rows(world: World, app_engine: AsyncEngine) -> None:
    async with app_engine.begin() as conn:
        await bind_tenant(conn, world.a)
        for name in TENANT_TABLES:
            table = metadata.tables[name]
            tenants = (await conn.execute(select(table.c.tenant_id))).scalars().all()
            assert tenants, f"{name}: tenant A sees none of its rows"
            assert set(tenants) == {world.a}, f"{name}: tenant A sees another tenant's rows"
            assert len(tenants) == len(world.rows[world.a][name]), name


async def test_no_tenant_bound_sees_nothing(world: World, app_engine: AsyncEngine) -> None:
    async with app_engine.begin() as conn:
        for name in TENANT_TABLES:
            count = await conn.execute(select(func.count()).select_from(metadata.tables[name]))
            assert count.scalar_one() == 0, f"{name} leaks rows with no tenant bound"


async def test_tenant_cannot_write_rows_of_another(world: World, app_engine: AsyncEngine) -> None:
    refused = []
    async with app_engine.connect() as conn:
        for name in TENANT_TABLES:
            table = metadata.tables[name]
            values = world.factory.row(table, 5, world.rows[world.b], world.b)
            transaction = await conn.begin()
            await bind_tenant(conn, world.a)
            with pytest.raises(DBAPIError, match="row-level security") as caught:
                await conn.execute(insert(table).values(**values))
            refused.append(name)
            await transaction.rollback()
            assert caught.value is not None
    assert refused == TENANT_TABLES


async def test_tenant_cannot_move_its_row_to_another(world: World, app_engine: AsyncEngine) -> None:
    personas = metadata.tables["personas"]
    async with app_engine.begin() as conn:
        await bind_tenant(conn, world.a)
        with pytest.raises(DBAPIError, match="row-level security"):
            await conn.execute(update(personas).values(tenant_id=world.b))


async def test_foreign_keys_never_cross_tenants(world: World, owner_engine: AsyncEngine) -> None:
    """Even bypassing RLS (as the owner), an A row cannot reference a B row."""
    checked = 0
    async with owner_engine.connect() as conn:
        for name in TENANT_TABLES:
            table = metadata.tables[name]
            for fk in table.foreign_key_constraints:
                target = fk.referred_table.name
                if target in GLOBAL_TABLES or target == name:
                    continue
                values = world.factory.row(table, 2, world.rows[world.a], world.a)
                b_row = world.rows[world.b][target][0]
                alternatives = OVERRIDES.get(name, {})
                if set(fk.column_keys) & set(alternatives):  # "one of these" columns
                    for other, value in alternatives.items():
                        if value == "fk" and other not in fk.column_keys:
                            values[other] = None
                for local, element in zip(fk.column_keys, fk.elements, strict=True):
                    if local != "tenant_id":
                        values[local] = b_row[element.column.name]
                transaction = await conn.begin()
                with pytest.raises(IntegrityError, match="foreign key"):
                    await conn.execute(insert(table).values(**values))
                await transaction.rollback()
                checked += 1
    between_tenant_tables = [
        fk
        for name in TENANT_TABLES
        for fk in metadata.tables[name].foreign_key_constraints
        if fk.referred_table.name not in GLOBAL_TABLES and fk.referred_table.name != name
    ]
    assert checked == len(between_tenant_tables) >= 90


async def test_audit_events_are_append_only_for_the_app(
    world: World, app_engine: AsyncEngine
) -> None:
    audit = metadata.tables["audit_events"]
    async with app_engine.begin() as conn:
        await bind_tenant(conn, world.a)
        await conn.execute(
            insert(audit).values(tenant_id=world.a, event_type="test.written", action="create")
        )
    for statement in (update(audit).values(description="rewritten"), audit.delete()):
        async with app_engine.begin() as conn:
            await bind_tenant(conn, world.a)
            with pytest.raises(DBAPIError, match="permission denied"):
                await conn.execute(statement)

"""The embedded database lets nobody in without a password: not on its socket, not as any
role; it listens on no TCP port; its files and socket are its user's alone."""

from __future__ import annotations

import stat

import asyncpg
import pytest

from personae.db.embedded import PASSWORD_FILE, SUPERUSER, EmbeddedPostgres
from personae.settings import APP_ROLE


@pytest.mark.parametrize("role", [SUPERUSER, APP_ROLE])
async def test_no_role_connects_on_the_socket_without_its_password(
    pg: EmbeddedPostgres, template: str, role: str
) -> None:
    where = {"host": str(pg.socket_dir), "user": role, "database": "personae"}
    for password in (None, "", "postgres", pg.role_password(role) + "x"):
        with pytest.raises(asyncpg.InvalidPasswordError):
            await asyncpg.connect(**where, password=password)
    connection = await asyncpg.connect(**where, password=pg.role_password(role))
    try:
        assert await connection.fetchval("SELECT current_user") == role
    finally:
        await connection.close()


async def test_it_listens_on_its_private_socket_only(pg: EmbeddedPostgres) -> None:
    connection = await asyncpg.connect(
        host=str(pg.socket_dir), user=SUPERUSER, database="postgres", password=pg.password
    )
    try:
        assert await connection.fetchval("SHOW listen_addresses") == ""
        assert await connection.fetchval("SHOW unix_socket_permissions") == "0700"
        methods = await connection.fetchval(
            "SELECT array_agg(DISTINCT auth_method) FROM pg_hba_file_rules"
        )
        assert methods == ["scram-sha-256"]
    finally:
        await connection.close()
    assert pg.socket_dir is not None
    socket_file = next(pg.socket_dir.glob(".s.PGSQL.*"))
    assert stat.S_IMODE(socket_file.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(pg.pgdata.stat().st_mode) == 0o700
    assert stat.S_IMODE((pg.data_dir / PASSWORD_FILE).stat().st_mode) == 0o600

"""Alembic, wrapped: upgrade, downgrade, current, history, and what is pending.

Migrations always run as the owner role. These functions are synchronous (Alembic drives
its async engine with `asyncio.run`), so call them outside a running event loop."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command, op
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.util import await_only

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
FROZEN_DIR = MIGRATIONS_DIR / "sql"
"""Migrations' own copies of the SQL they apply: what ran then, whatever `db/sql/` says now."""
PARTITION_NAME = re.compile(r".+_(p\d{6}|default)$")
"""Monthly and default partitions are made by SQL, not declared as models."""


def frozen(name: str) -> str:
    """The SQL a migration applies, frozen in `db/migrations/sql/<name>`."""
    return (FROZEN_DIR / name).read_text()


def apply_script(sql: str) -> None:
    """Run a script of many statements in the running migration's transaction (the
    driver's simple protocol: `op.execute` takes one statement)."""
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    await_only(driver.execute(sql))


def alembic_config(owner_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if owner_url is not None:
        config.attributes["url"] = owner_url
    return config


def head() -> str:
    """The newest revision the code knows."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def upgrade(owner_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(owner_url), revision)


def downgrade(owner_url: str, revision: str) -> None:
    command.downgrade(alembic_config(owner_url), revision)


def history() -> list[tuple[str, str]]:
    """(revision, message) pairs, newest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [(rev.revision, rev.doc or "") for rev in script.walk_revisions()]


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave partitions and the job queue's tables out of autogenerate and drift checks."""
    if type_ != "table" or name is None:
        return True
    return not (PARTITION_NAME.match(name) or name.startswith("procrastinate_"))

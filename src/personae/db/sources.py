"""The SQL PostgreSQL runs for us, kept as readable source: every function, trigger and
policy of ours is in one file of `db/sql/` (a function with its grants and triggers).

Migrations never read these files: each applies its own frozen copy (`migrate.frozen`),
so history stays as it ran. A test applies every file to a migrated database and finds
nothing changed: change a file, and add a migration with a frozen copy of it."""

from __future__ import annotations

import re
from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"
TENANT_ISOLATION = "tenant_isolation"
"""The policy every tenant-owned table has: its file names the table `{table}`."""
_DEFINES = re.compile(r"^CREATE (?:OR REPLACE )?(FUNCTION|TRIGGER|POLICY) (\w+)", re.MULTILINE)


def names() -> list[str]:
    """The files, by name (without `.sql`)."""
    return sorted(path.stem for path in SQL_DIR.glob("*.sql"))


def read(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def tenant_isolation(table: str) -> str:
    """The statements that isolate `table` by tenant."""
    return read(TENANT_ISOLATION).replace("{table}", table)


def defined() -> set[tuple[str, str]]:
    """What the files define: ("function" | "trigger" | "policy", name) pairs."""
    return {(kind.lower(), name) for file in names() for kind, name in _DEFINES.findall(read(file))}

"""Importing a module of ours changes nothing outside it: no SQLAlchemy listener on the
shared Session or Pool classes, no log handler on another library's logger. Whatever a
process needs is wired by whoever builds it (`create_app`, `db.engine.sessionmaker`)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import importlib, json, logging, pkgutil
import personae
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

names = [m.name for m in pkgutil.walk_packages(personae.__path__, "personae.")
         if ".migrations." not in m.name]
for name in names:
    importlib.import_module(name)
hooks = ("after_begin", "after_rollback", "after_commit", "after_flush", "do_orm_execute",
         "checkin", "checkout", "connect")
print(json.dumps({
    "modules": len(names),
    "listening": [f"{type(t).__name__}.{h}" for t in (Session(), StaticPool(lambda: None))
                  for h in hooks if hasattr(t.dispatch, h) and len(getattr(t.dispatch, h))],
    "handlers": {n: len(logging.getLogger(n).handlers) for n in ("procrastinate", "psycopg.pool")},
}))
"""


def test_importing_every_module_registers_nothing_global() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["modules"] > 200
    assert found["listening"] == []
    assert found["handlers"] == {"procrastinate": 0, "psycopg.pool": 0}

"""What `personae_authenticate` answered, kept per process while nothing has changed.

Entries live at most `ttl_s` and only while the process listens to `personae_access`
(see `db/sql/notify_access.sql`): a change to a tenant's sessions, members or roles drops that
tenant's entries in every process, and a lost listening connection drops them all and
bypasses the cache until it is back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, cast

from sqlalchemy import Table, event, inspect
from sqlalchemy.orm import ORMExecuteState, Session

from personae.db.tenancy import bound_tenant

CHANNEL = "personae_access"
EVERY_TENANT = "*"


@dataclass(frozen=True)
class AccessState:
    session_live: bool
    member_active: bool
    permissions: frozenset[str]


Key = tuple[uuid.UUID, uuid.UUID, uuid.UUID]
"""(tenant, sign-in session, user)."""


@dataclass
class AccessCache:
    ttl_s: float
    max_entries: int = 100_000
    clock: Callable[[], float] = time.monotonic
    enabled: bool = False
    """Off until the process listens for changes; see `listening` and `lost`."""
    _tenants: dict[str, dict[Key, tuple[float, AccessState]]] = field(default_factory=dict)
    _size: int = 0
    _generation: int = 0

    def get(self, key: Key) -> AccessState | None:
        if not self.enabled:
            return None
        entry = self._tenants.get(str(key[0]), {}).get(key)
        if entry is None or entry[0] <= self.clock():
            return None
        return entry[1]

    def generation(self) -> int:
        """Read before querying and pass to `put`, so an answer older than a change is dropped."""
        return self._generation

    def put(self, key: Key, state: AccessState, generation: int) -> None:
        if not self.enabled or self.ttl_s <= 0 or generation != self._generation:
            return
        if self._size >= self.max_entries:
            self._tenants.clear()
            self._size = 0
        entries = self._tenants.setdefault(str(key[0]), {})
        self._size += key not in entries
        entries[key] = (self.clock() + self.ttl_s, state)

    def changed(self, tenant: str) -> None:
        """A notification: `tenant` (an id, or `*` for all) changed who may do what."""
        self._generation += 1
        if tenant == EVERY_TENANT:
            self._tenants.clear()
            self._size = 0
        else:
            self._size -= len(self._tenants.pop(tenant, {}))

    def reset(self, *, listening: bool) -> None:
        """The listening connection was lost (bypass) or is back (trust notifications again)."""
        self.changed(EVERY_TENANT)
        self.enabled = listening

    def watch(self, session_class: type[Session]) -> None:
        """Have sessions of `session_class` tell this cache of the access changes they
        commit (a `db.engine.sessionmaker` watcher)."""

        def after_commit(session: Session) -> None:
            for tenant in session.info.pop(_CHANGED, ()):
                self.changed(tenant)

        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "do_orm_execute", _bulk_change)
        event.listen(session_class, "after_commit", after_commit)
        event.listen(session_class, "after_rollback", _after_rollback)


# Changes made by this process reach its own cache as they commit, not a notification later:
# the ORM events below (`AccessCache.watch`) note which tenants' access changed (the columns
# `db/sql/notify_access.sql` watches) and, after commit, tell the cache.

_CHANGED = "personae.access_changed"
WATCHED: dict[str, tuple[str, ...] | None] = {
    "auth_sessions": ("revoked_at",),
    "tenant_members": None,
    "user_roles": None,
    "role_permissions": None,
    "users": ("is_active", "deleted_at"),
}
"""Table → the columns whose change matters (None: any change, insert or delete)."""


def _note(session: Session, tenant: str) -> None:
    session.info.setdefault(_CHANGED, set()).add(tenant)


def _tenant_of(session: Session, table: str, row: object | None) -> str:
    if table == "users":
        return EVERY_TENANT
    tenant = getattr(row, "tenant_id", None) or bound_tenant(session)
    return EVERY_TENANT if tenant is None else str(tenant)


def _after_flush(session: Session, _context: Any) -> None:
    for row in chain(session.new, session.deleted, session.dirty):
        table = getattr(row, "__tablename__", "")
        if table not in WATCHED:
            continue
        columns = WATCHED[table]
        if (
            columns is None
            or row not in session.dirty
            or any(inspect(row).attrs[c].history.has_changes() for c in columns)
        ):
            _note(session, _tenant_of(session, table, row))


def _bulk_change(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    table = cast(Table, mapper.local_table).name if mapper is not None else ""
    if table in WATCHED:
        _note(state.session, _tenant_of(state.session, table, None))


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)

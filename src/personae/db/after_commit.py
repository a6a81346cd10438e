"""Work that must follow a commit and never a rollback (writing through to a cache).

Domain code registers a hook on the session; whoever commits runs the hooks after the
commit: `RequestContext.commit()` for requests, `tenant_session` for jobs and commands."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_HOOKS = "personae.after_commit"

Hook = Callable[[], Awaitable[None]]


def after_commit(session: AsyncSession, hook: Hook) -> None:
    """Run `hook` once the current transaction has committed (dropped if it rolls back)."""
    session.info.setdefault(_HOOKS, []).append(hook)


async def commit(session: AsyncSession) -> None:
    """Commit, then run the registered hooks."""
    await session.commit()
    await run_hooks(session)


async def run_hooks(session: AsyncSession) -> None:
    """Run the hooks of a transaction that has committed. A failing hook is logged: the
    transaction stands, and the hooks are for work the database does not depend on."""
    for hook in session.info.pop(_HOOKS, []):
        try:
            await hook()
        except Exception:
            log.exception("after-commit hook failed")


def _drop(session: Session, *_args: Any) -> None:
    session.info.pop(_HOOKS, None)


def watch(session_class: type[Session]) -> None:
    """Have sessions of `session_class` drop their hooks when they roll back."""
    event.listen(session_class, "after_rollback", _drop)

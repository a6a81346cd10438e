"""A streaming run's tokens passed on to the other watchers of its session.

Each becomes a `token` event (`run_id`, `text`) on the session's live streams in every
process (`sessions.feed.pass_on`). What arrives while a send is under way goes in the
next one, so a fast model costs a notification per round trip, not one per token. A send
that fails is logged and dropped: watchers miss some tokens (the logged
`message.assistant` holds the whole reply), the run goes on."""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from personae.sessions.feed import pass_on

PIECE_CHARS = 500
"""Characters per notification: well under its size limit even when every one is
escaped."""
log = logging.getLogger(__name__)


class Relay:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], session_id: uuid.UUID, run_id: uuid.UUID
    ) -> None:
        self.sessions, self.session_id, self.run_id = sessions, session_id, run_id
        self._pending: list[str] = []
        self._sending: asyncio.Task[None] | None = None

    def send(self, text: str) -> None:
        self._pending.append(text)
        if self._sending is None or self._sending.done():
            self._sending = asyncio.create_task(self._drain())

    async def close(self) -> None:
        """Once what was sent has gone out."""
        if self._sending is not None:
            await self._sending

    async def _drain(self) -> None:
        while self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            try:
                async with self.sessions.begin() as session:
                    for start in range(0, len(text), PIECE_CHARS):
                        piece = text[start : start + PIECE_CHARS]
                        data = {"run_id": str(self.run_id), "text": piece}
                        await pass_on(session, self.session_id, "token", data)
            except Exception:  # the database is away: watchers miss these tokens
                log.warning("tokens of run %s were not passed on", self.run_id, exc_info=True)

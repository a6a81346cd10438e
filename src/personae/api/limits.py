"""A request body size limit, enforced while reading (no trusting Content-Length alone)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from personae.api.problems import problem


class BodySizeLimit:
    """`max_bytes` per request body, or the limit of the first `paths` pattern matching."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, paths: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.paths = [(re.compile(pattern), limit) for pattern, limit in (paths or {}).items()]

    def _limit(self, path: str) -> int:
        return next((limit for p, limit in self.paths if p.match(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope["path"])
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(max_bytes, scope, receive, send)
            return
        seen = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    refused = True
                    await self._refuse(max_bytes, scope, receive, send)
                    return {"type": "http.disconnect"}  # the app stops reading
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:  # once refused, the 413 is the whole answer
                await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _refuse(self, max_bytes: int, scope: Scope, receive: Receive, send: Send) -> None:
        limited = f"this request's body is limited to {max_bytes} bytes"
        response = problem(413, "Payload too large", limited, path=scope["path"])
        await response(scope, receive, send)

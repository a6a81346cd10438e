"""Files sent as a request's raw body, read with their own size limit."""

from __future__ import annotations

from fastapi import Request
from starlette.requests import ClientDisconnect

from personae.errors import PayloadTooLarge

RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string"}}},
    }
}
"""`openapi_extra` of a route whose body is a file."""


async def read_file(request: Request, limit: int) -> bytes:
    """The body, streamed; 413 once it passes `limit` bytes."""
    too_large = PayloadTooLarge(f"a file is at most {limit} bytes", field="body")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
    except ClientDisconnect:  # gone, or cut off by the body size limit (which answered)
        raise too_large from None
    return b"".join(chunks)

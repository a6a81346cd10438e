"""The only way out of the sandbox: an HTTP proxy on a Unix socket, one per execution.

A tool whose policy allows the network still has no network of its own (its namespace
holds only loopback). Inside, the runner forwards a loopback port to this socket and sets
`HTTP_PROXY` / `HTTPS_PROXY`, so ordinary clients (urllib, http.client) go through here.
The proxy serves `CONNECT host:port` (https, the bytes then passed through) and
absolute-form `http://` requests, to hosts the allow-list lets through (the same rule as
`http` tools: the installation's list, narrowed by the tenant's); anything else is a
403 naming the host. The socket lives in a private directory of the sandbox's uid and
closes with the execution, dropping whatever is still open."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

HEAD_LIMIT = 16 * 1024
HEAD_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 10.0
HOP_BY_HOP = (b"proxy-connection", b"proxy-authorization", b"connection", b"keep-alive")

Refusal = Callable[[str], "str | None"]
"""A host's refusal (why it may not be reached), or None when it may."""


@contextlib.asynccontextmanager
async def egress_proxy(refusal: Refusal, *, owner: int | None) -> AsyncIterator[str]:
    """Serve the proxy while the block runs; yields the socket's path (for bubblewrap to
    bind into the sandbox). `owner`: the uid the sandbox runs as, when not ours."""
    folder = Path(tempfile.mkdtemp(prefix="personae-egress-"))
    path = folder / "egress.sock"
    tunnels: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tunnels.add(task)
        try:
            await _serve(reader, writer, refusal)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            tunnels.discard(task)
            writer.close()

    server = await asyncio.start_unix_server(serve, path=str(path))
    try:
        os.chmod(path, 0o666)  # noqa: S103 - its directory (0700, the sandbox's) guards it
        if owner is not None:
            os.chown(folder, owner, owner)
        yield str(path)
    finally:
        server.close()
        for task in list(tunnels):
            task.cancel()
        await asyncio.gather(*tunnels, return_exceptions=True)
        shutil.rmtree(folder, ignore_errors=True)


async def _serve(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, refusal: Refusal
) -> None:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
    if len(head) > HEAD_LIMIT:
        return await _answer(writer, 431, "request head too large")
    request_line, _, rest = head.partition(b"\r\n")
    method, target, version = request_line.decode("latin-1").split(" ", 2)
    if method == "CONNECT":
        host, _, port = target.rpartition(":")
        host = host.strip("[]")
        forward = b""
    else:
        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            return await _answer(writer, 400, "absolute http:// URLs or CONNECT only")
        host, port = parts.hostname, str(parts.port or 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        forward = f"{method} {path} {version}\r\n".encode("latin-1") + _headers(rest)
    why = refusal(host.lower())
    if why is not None:
        return await _answer(writer, 403, why)
    try:
        upstream_reader, upstream_writer = await asyncio.wait_for(
            asyncio.open_connection(host, int(port)), CONNECT_TIMEOUT_S
        )
    except (OSError, TimeoutError, ValueError) as error:
        return await _answer(writer, 502, f"cannot reach {host}:{port}: {error}")
    try:
        if method == "CONNECT":
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            upstream_writer.write(forward)
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
    finally:
        upstream_writer.close()


def _headers(block: bytes) -> bytes:
    """The request's headers less the proxy's and hop-by-hop ones, one request a connection."""
    kept = [
        line
        for line in block.split(b"\r\n")
        if line and line.split(b":", 1)[0].strip().lower() not in HOP_BY_HOP
    ]
    return b"\r\n".join([*kept, b"Connection: close", b"", b""])


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()
    finally:
        with contextlib.suppress(OSError):
            if sink.can_write_eof():
                sink.write_eof()


async def _answer(writer: asyncio.StreamWriter, status: int, reason: str) -> None:
    body = f"personae egress: {reason}\n".encode()
    writer.write(
        f"HTTP/1.1 {status} {_PHRASES[status]}\r\ncontent-type: text/plain\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()


_PHRASES = {400: "Bad Request", 403: "Forbidden", 431: "Too Large", 502: "Bad Gateway"}

"""Attachments: streamed uploads with a size limit, content-detected types, digests,
scanning (built-in checks and a scripted clamd), quarantine and who may fetch what."""

from __future__ import annotations

import asyncio
import hashlib
import struct
from collections.abc import AsyncIterator

import httpx
import pytest

from personae.db.engine import DatabaseUrls
from personae.settings import Settings
from personae.storage.scanning import EICAR
from tests.api.conftest import ClientFactory, bearer, join

OWNER = "owner@attachments.example.com"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"


async def new_session(client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    made = await client.post("/v1/sessions", headers=auth, json={"title": "files"})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_an_upload_is_typed_by_its_bytes_digested_and_logged(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        sid = await new_session(client, auth)
        uploaded = await client.post(
            f"/v1/sessions/{sid}/attachments",
            params={"filename": "C:\\Users\\me\\report.pdf"},
            headers={**auth, "Content-Type": "image/png"},  # the client's word is not taken
            content=PDF,
        )
        assert uploaded.status_code == 201, uploaded.text
        shown = uploaded.json()
        assert shown["filename"] == "report.pdf"
        assert shown["mime_type"] == "application/pdf"
        assert shown["sha256"] == hashlib.sha256(PDF).hexdigest()
        assert (shown["size"], shown["status"], shown["quarantine_reason"]) == (
            len(PDF),
            "clean",
            None,
        )

        listed = await client.get(f"/v1/sessions/{sid}/attachments", headers=auth)
        assert [a["id"] for a in listed.json()["items"]] == [shown["id"]]
        content = await client.get(
            f"/v1/sessions/{sid}/attachments/{shown['id']}/content", headers=auth
        )
        assert content.status_code == 200
        assert content.content == PDF
        assert content.headers["content-type"] == "application/pdf"
        assert "report.pdf" in content.headers["content-disposition"]

        events = (await client.get(f"/v1/sessions/{sid}/events", headers=auth)).json()["items"]
        assert events[-1]["event_type"] == "attachment.added"
        assert events[-1]["payload"]["attachment_id"] == shown["id"]

        chunked = await client.post(  # a streamed body without Content-Length
            f"/v1/sessions/{sid}/attachments",
            params={"filename": "notes.txt"},
            headers=auth,
            content=_chunks([b"hello ", b"world"]),
        )
        assert chunked.status_code == 201, chunked.text
        assert chunked.json()["mime_type"] == "text/plain"
        assert chunked.json()["sha256"] == hashlib.sha256(b"hello world").hexdigest()

        removed = await client.delete(f"/v1/sessions/{sid}/attachments/{shown['id']}", headers=auth)
        assert removed.status_code == 204
        gone = await client.get(
            f"/v1/sessions/{sid}/attachments/{shown['id']}/content", headers=auth
        )
        assert gone.status_code == 404


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_flagged_files_are_quarantined_and_served_to_admins_only(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    async with api_client(urls) as client:
        auth = await bearer(client, OWNER, owner_password)
        member = await join(client, auth, "member@attachments.example.com", "member")
        sid = await new_session(client, auth)
        cases = {
            "eicar.txt": (EICAR + b"\n", "EICAR test signature"),
            "invoice.pdf": (b"MZ\x90\x00" + b"\x00" * 200, "an executable"),
            "cv.docx": (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "an executable"),
        }
        for filename, (content, reason) in cases.items():
            uploaded = await client.post(
                f"/v1/sessions/{sid}/attachments",
                params={"filename": filename},
                headers=member,
                content=content,
            )
            assert uploaded.status_code == 201, uploaded.text
            shown = uploaded.json()
            assert shown["status"] == "quarantined", filename
            assert reason in shown["quarantine_reason"], filename
            path = f"/v1/sessions/{sid}/attachments/{shown['id']}/content"
            refused = await client.get(path, headers=member)
            assert refused.status_code == 403, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            allowed = await client.get(path, headers=auth)
            assert (allowed.status_code, allowed.content) == (200, content)

        honest = await client.post(  # an executable named as one is not disguised
            f"/v1/sessions/{sid}/attachments",
            params={"filename": "tool.exe"},
            headers=member,
            content=b"MZ\x90\x00" + b"\x00" * 200,
        )
        assert honest.json()["status"] == "clean"

        audit = await client.get(
            "/v1/audit", headers=auth, params={"event_type": "attachment.read_quarantined"}
        )
        assert audit.status_code == 200, audit.text
        assert len(audit.json()["items"]) == 3


async def test_bad_uploads_are_refused_clearly(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str
) -> None:
    settings = Settings(connect_timeout_s=2, max_attachment_bytes=1024)
    async with api_client(urls, settings) as client:
        auth = await bearer(client, OWNER, owner_password)
        sid = await new_session(client, auth)
        path = f"/v1/sessions/{sid}/attachments"
        too_big = await client.post(
            path, params={"filename": "a.bin"}, headers=auth, content=b"x" * 2000
        )
        assert too_big.status_code == 413
        streamed = await client.post(
            path, params={"filename": "a.bin"}, headers=auth, content=_chunks([b"x" * 600] * 3)
        )
        assert streamed.status_code == 413
        empty = await client.post(path, params={"filename": "a.bin"}, headers=auth, content=b"")
        assert (empty.status_code, empty.json()["errors"][0]["field"]) == (422, "body")
        for name in ("..", "dir/", "\x00\x01"):
            bad = await client.post(path, params={"filename": name}, headers=auth, content=b"x")
            assert bad.status_code == 422, name
        unnamed = await client.post(path, headers=auth, content=b"x")
        assert unnamed.status_code == 422
        listed = await client.get(path, headers=auth)
        assert listed.json()["items"] == []  # nothing half-stored


class ScriptedClamd:
    """A clamd speaking INSTREAM on 127.0.0.1: finds `BAD`, or hangs up when `broken`."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.broken = False
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"tcp://127.0.0.1:{port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        command = await reader.readuntil(b"\0")
        assert command == b"zINSTREAM\0"
        data = b""
        while size := struct.unpack(">I", await reader.readexactly(4))[0]:
            data += await reader.readexactly(size)
        self.received.append(data)
        if not self.broken:
            writer.write(b"stream: Win.Test.Bad FOUND\0" if b"BAD" in data else b"stream: OK\0")
            await writer.drain()
        writer.close()


@pytest.fixture
async def clamd() -> AsyncIterator[ScriptedClamd]:
    scripted = ScriptedClamd()
    yield scripted
    if scripted.server is not None:
        scripted.server.close()


async def test_clamav_scans_every_upload_and_a_failure_quarantines(
    urls: DatabaseUrls, api_client: ClientFactory, owner_password: str, clamd: ScriptedClamd
) -> None:
    settings = Settings(connect_timeout_s=2, clamav_address=await clamd.start())
    async with api_client(urls, settings) as client:
        auth = await bearer(client, OWNER, owner_password)
        sid = await new_session(client, auth)
        path = f"/v1/sessions/{sid}/attachments"
        big = b"ok " * 50_000  # several INSTREAM chunks
        clean = await client.post(path, params={"filename": "a.txt"}, headers=auth, content=big)
        assert clean.json()["status"] == "clean"
        assert clamd.received[-1] == big
        found = await client.post(
            path, params={"filename": "b.txt"}, headers=auth, content=b"a BAD file"
        )
        assert found.json()["quarantine_reason"] == "ClamAV: Win.Test.Bad"
        clamd.broken = True
        failed = await client.post(path, params={"filename": "c.txt"}, headers=auth, content=b"x")
        assert failed.json()["status"] == "quarantined"
        assert failed.json()["quarantine_reason"].startswith("not scanned: clamav")
        assert clamd.server is not None
        clamd.server.close()
        await clamd.server.wait_closed()
        gone = await client.post(path, params={"filename": "d.txt"}, headers=auth, content=b"x")
        assert gone.json()["status"] == "quarantined"

"""`personae import-history`: a conversation history from JSON Lines into a persona's
sessions, each message at the time it was said, with a progress bar.

One JSON object a line: `role` (`user` or `assistant`), `content`, and optionally
`occurred_at` (ISO 8601 with its zone), `speaker` (who said it: the memory says
"{speaker}: {content}") and `conversation` (a session per value; else one session). Every
line is checked before anything is written (the errors name their lines). Messages are
appended in batches, each with an idempotency key made of the file's digest: importing the
same file again writes nothing twice. Memory (episodes, summaries, facts) follows as for
any message; `--wait` writes it here and now."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress

from personae.cli.common import (
    DataDir,
    Sessions,
    as_app,
    one_line_errors,
    run_jobs,
    settings_for,
    tenant_named,
)
from personae.db.engine import DatabaseUrls
from personae.errors import ConfigurationError, PersonaeError

if TYPE_CHECKING:
    from personae.sessions.log import NewEvent

CHANNEL = "import"
BATCH = 500
"""Messages one append writes (one transaction)."""
ROLES = ("user", "assistant")


def read_history(path: Path) -> tuple[str, dict[str, list[NewEvent]]]:
    """The file's digest, and its messages as events by conversation, in the file's order
    (a `ConfigurationError` naming every line at fault, up to ten)."""
    from personae.errors import ValidationFailed
    from personae.sessions import event_types
    from personae.sessions.log import NewEvent

    raw = path.read_bytes()
    conversations: dict[str, list[NewEvent]] = defaultdict(list)
    faults: list[str] = []
    for number, line in enumerate(raw.decode().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or item.get("role") not in ROLES:
                raise ValidationFailed("an object whose role is user or assistant", field="role")
            payload: dict[str, Any] = {"content": item.get("content")}
            if item.get("occurred_at") is not None:
                payload["occurred_at"] = item["occurred_at"]
            if item.get("speaker"):
                payload["metadata"] = {"speaker": str(item["speaker"])}
            kind = f"message.{item['role']}"
            event_types.parse(kind, 1, payload, field="line")
            conversations[str(item.get("conversation", ""))].append(NewEvent(kind, payload))
        except json.JSONDecodeError as error:
            faults.append(f"line {number}: not JSON ({error.msg})")
        except PersonaeError as error:
            where = (getattr(error, "field", None) or "").removeprefix("line.")
            faults.append(f"line {number}: {where.removeprefix('payload.')}: {error.detail}")
    if faults:
        more = f" (and {len(faults) - 10} more)" if len(faults) > 10 else ""
        raise ConfigurationError("; ".join(faults[:10]) + more)
    if not conversations:
        raise ConfigurationError(f"{path} holds no message")
    return hashlib.sha256(raw).hexdigest()[:24], conversations


@one_line_errors
def import_history(
    path: Annotated[Path, typer.Argument(help="A JSON Lines file, one message a line.")],
    tenant: Annotated[str, typer.Option("--tenant", help="The tenant's slug or id.")],
    persona: Annotated[
        uuid.UUID | None, typer.Option("--persona", help="The persona who talked, if one did.")
    ] = None,
    wait: Annotated[
        bool, typer.Option(help="Write the memories here and now (else the server's worker does).")
    ] = True,
    data_dir: DataDir = None,
) -> None:
    """Import a conversation history (JSON Lines) into the persona's sessions, each message
    at the time it was said; its memories follow."""
    from personae.db.database import open_database
    from personae.db.tenancy import tenant_session
    from personae.kernel.principal import Principal
    from personae.sessions import log
    from personae.sessions.service import find_or_create

    if not path.is_file():
        raise ConfigurationError(f"{path} is not a file")
    digest, conversations = read_history(path)
    settings = settings_for(data_dir)

    async def run(sessions: Sessions, urls: DatabaseUrls) -> tuple[int, int]:
        tenant_id = await tenant_named(sessions, tenant)
        principal = Principal.system(tenant_id)
        written = 0
        with Progress() as progress:
            bar = progress.add_task("importing", total=sum(map(len, conversations.values())))
            for name, events in conversations.items():
                values = {
                    "persona_id": persona,
                    "channel": CHANNEL,
                    "user_channel_id": f"{digest}:{name}"[:255],
                }
                for start in range(0, len(events), BATCH):
                    async with tenant_session(sessions, tenant_id) as session:
                        found, _made = await find_or_create(session, principal, values)
                        appended = await log.append(
                            session,
                            principal,
                            uuid.UUID(str(found["id"])),
                            events[start : start + BATCH],
                            idempotency_key=f"import:{digest}:{start}",
                        )
                    written += 0 if appended.replayed else len(appended.events)
                    progress.advance(bar, len(events[start : start + BATCH]))
            if wait:
                progress.add_task("remembering (episodes, summaries, facts)", total=None)
                await run_jobs(sessions, urls, settings, until_idle=True)
        return len(conversations), written

    try:
        with open_database(settings) as urls:
            count, written = as_app(settings, urls, lambda sessions: run(sessions, urls))
    except PersonaeError as error:
        raise ConfigurationError(error.detail) from None
    later = "" if wait else "; the server's worker will remember them"
    typer.echo(f"{written} messages written into {count} session(s){later}")

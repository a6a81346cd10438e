"""The `personae` commands other than serve, run as real processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from personae import __version__
from personae.db import migrate
from personae.db.embedded import EmbeddedPostgres
from personae.db.engine import DatabaseUrls, sessionmaker
from personae.db.tenancy import tenant_session
from personae.settings import Settings
from personae.vault.crypto import encode_key, new_key, parse_master_key
from personae.vault.keyring import resolve_master_key
from personae.vault.models import Secret
from personae.vault.service import Vault
from tests.rows import RowFactory
from tests.serving import PERSONAE, clean_env, free_port, run_personae, serving, wait_healthy


def test_version() -> None:
    result = run_personae("version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"personae {__version__}"


def test_db_commands_on_the_embedded_database(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    head = migrate.head()

    result = run_personae("db", "current", *data)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"base (head {head}, migrations pending)"

    assert run_personae("db", "upgrade", *data).returncode == 0
    assert (
        run_personae("db", "current", *data).stdout.strip() == f"{head} (head {head}, up to date)"
    )

    assert run_personae("db", "downgrade", "0001", *data).returncode == 0
    assert run_personae("db", "current", *data).stdout.startswith("0001 ")

    history = run_personae("db", "history").stdout.splitlines()
    assert [line.split()[0] for line in history] == [rev for rev, _ in migrate.history()]
    assert history[0].startswith(head) and history[-1].startswith("0001")

    shell = subprocess.run(
        [*PERSONAE, "db", "shell", *data],
        input="SELECT 'shell-' || 42 AS answer;\n",
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shell.returncode == 0, shell.stderr
    assert "shell-42" in shell.stdout


def test_serve_on_an_external_url_starts_no_server_of_its_own(
    new_database: Callable[[], DatabaseUrls], tmp_path: Path
) -> None:
    external = new_database()
    data_dir = tmp_path / "unused"
    port = free_port()
    env = {"PERSONAE_DATABASE_URL": external.owner, "PERSONAE_MASTER_KEY": encode_key(new_key())}
    with serving(data_dir, port, **env) as process:
        health = wait_healthy(f"http://127.0.0.1:{port}", process, timeout_s=15)
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
    assert health["migration"] == {"current": migrate.head(), "head": migrate.head()}
    assert ready.status_code == 200
    assert not data_dir.exists(), "an embedded server was started despite PERSONAE_DATABASE_URL"


def test_external_url_without_a_master_key_is_one_line(
    new_database: Callable[[], DatabaseUrls],
) -> None:
    result = run_personae("serve", PERSONAE_DATABASE_URL=new_database().owner)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "personae: PERSONAE_MASTER_KEY is not set; make one with `personae vault keygen`, "
        "keep it in your secret store, and set it for every Personae process"
    ]


def test_vault_keygen_makes_distinct_usable_keys() -> None:
    keys = {run_personae("vault", "keygen").stdout.strip() for _ in range(2)}
    assert len(keys) == 2
    assert all(len(parse_master_key(key)) == 32 for key in keys)


def test_vault_rotate_reseals_existing_secrets(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run_personae("db", "upgrade", "--data-dir", str(data)).returncode == 0
    first = run_personae("vault", "rotate", "--data-dir", str(data))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "vault key v2: re-sealed 0 secrets in 0 tenants"

    master = resolve_master_key(Settings(data_dir=data), embedded=True)
    server = EmbeddedPostgres(data)
    server.start()
    try:
        asyncio.run(_store_secret(server.url(), master))
        second = run_personae("vault", "rotate", "--data-dir", str(data))
        assert second.returncode == 0, second.stderr
        assert second.stdout.strip() == "vault key v3: re-sealed 1 secrets in 1 tenants"
        assert asyncio.run(_reveal(server.url(), master)) == (3, "sk-rotate-me")
    finally:
        server.stop()


async def _store_secret(url: str, master: bytes) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            tenant = await RowFactory().tenant(conn, "rotating")
        sessions = sessionmaker(engine)
        async with tenant_session(sessions, tenant) as session:
            await Vault(master).put(session, tenant, key_name="k", value="sk-rotate-me")
    finally:
        await engine.dispose()


async def _reveal(url: str, master: bytes) -> tuple[int, str]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        sessions = sessionmaker(engine)
        async with sessions() as session:
            secret = (await session.execute(select(Secret))).scalar_one()
            return secret.key_version, await Vault(master).reveal(session, secret)
    finally:
        await engine.dispose()


def test_tenant_create_prints_one_time_credentials_once(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    first = run_personae("tenant", "create", "Acme", "--owner-email", "ana@example.com", *data)
    assert first.returncode == 0, first.stderr
    lines = dict(line.split(":", 1) for line in first.stdout.splitlines() if ":" in line)
    assert lines["owner"].strip() == "ana@example.com"
    assert len(lines["password"].strip()) >= 20
    assert lines["tenant"].strip().startswith("Acme (acme, ")

    again = run_personae("tenant", "create", "Acme", "--owner-email", "ana@example.com", *data)
    assert again.returncode == 0, again.stderr
    assert "password: unchanged" in again.stdout

    bad = run_personae("tenant", "create", "Acme", "--owner-email", "ana", *data)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "personae: owner_email: 'ana' is not an email address"

    linked = run_personae(
        "identity", "link", "ana@example.com", "--provider", "github", "--subject", "42", *data
    )
    assert linked.returncode == 0, linked.stderr
    assert linked.stdout.startswith("linked github:42 to ana@example.com (")
    assert run_personae("tenant", "create", "Bo", "--owner-email", "bo@example.com", *data)
    taken = run_personae(
        "identity", "link", "bo@example.com", "--provider", "github", "--subject", "42", *data
    )
    assert taken.returncode == 2
    assert taken.stderr.strip() == "personae: github:42 belongs to another user"


def test_auth_cleanup_runs_on_a_migrated_database(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert (
        run_personae(
            "tenant", "create", "Clean", "--owner-email", "c@example.com", *data
        ).returncode
        == 0
    )
    result = run_personae("auth", "cleanup", *data)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "deleted 0 expired sign-in sessions"
    rebuilt = run_personae("sessions", "rebuild", *data)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.strip() == "rebuilt 0 sessions"


def test_ingest_uploads_a_folder_and_ingests_it_reporting_what_failed(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    env = clean_env(PERSONAE_EMBEDDER="hashing")
    made = run_personae("tenant", "create", "Lib", "--owner-email", "lib@example.com", *data)
    assert made.returncode == 0, made.stderr
    docs = tmp_path / "docs"
    (docs / "deep").mkdir(parents=True)
    (docs / "a.md").write_text("# Owls\n\nOwls hunt at dusk.")
    (docs / "deep" / "b.html").write_text("<p>Herons wade in shallow water.</p>")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00junk" * 50)
    (docs / "skipped.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # not a document suffix
    result = subprocess.run(
        [*PERSONAE, "ingest", str(docs), "--tenant", "lib", *data],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr  # one document failed
    assert "3 uploaded, 0 refused, 2 ingested, 1 failed" in result.stdout
    assert "broken.pdf" in result.stdout and "PDF can't be read" in result.stdout

    missing = subprocess.run(
        [*PERSONAE, "ingest", str(docs / "a.md"), "--tenant", "nobody", *data],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert missing.returncode == 2
    assert missing.stderr.strip() == "personae: no tenant 'nobody'; give its slug or id"
    status = run_personae(
        "embeddings", "status", "--tenant", "lib", *data, PERSONAE_EMBEDDER="hashing"
    )
    assert status.returncode == 0, status.stderr
    assert "uses the default; hashing/ngrams-384: 2" in status.stdout  # a chunk per document
    wrong = run_personae("embeddings", "migrate", "--to", "word2vec", *data)
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("personae: no embedder 'word2vec' here: ")
    moved = run_personae("embeddings", "migrate", "--to", "hashing", "--tenant", "lib", *data)
    assert moved.returncode == 0, moved.stderr  # nothing to embed: it only records the choice
    assert "0 rows embedded by hashing/ngrams-384; the tenants use it now" in moved.stdout


def test_import_history_writes_each_message_at_its_time_once(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    made = run_personae("tenant", "create", "Diary", "--owner-email", "d@example.com", *data)
    assert made.returncode == 0, made.stderr
    lines = [
        ("user", "We adopted Miso", "2023-05-08T13:56:00Z", "Caroline", "a"),
        ("assistant", "Lovely name", "2023-05-08T13:57:00Z", "Mel", "a"),
        ("user", "Miso hates the vet", "2023-06-01T08:00:00Z", None, "b"),
    ]
    history = tmp_path / "history.jsonl"
    history.write_text(
        "".join(
            json.dumps({"role": r, "content": c, "occurred_at": t, "speaker": s, "conversation": n})
            + "\n"
            for r, c, t, s, n in lines
        )
    )
    command = ["import-history", str(history), "--tenant", "diary", *data]
    first = run_personae(*command, PERSONAE_EMBEDDER="hashing", timeout_s=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("3 messages written into 2 session(s)")
    again = run_personae(*command, PERSONAE_EMBEDDER="hashing", timeout_s=120)
    assert again.stdout.strip().endswith("0 messages written into 2 session(s)")  # once only

    server = EmbeddedPostgres(tmp_path / "data")
    server.start()
    try:
        stored = asyncio.run(_episodes(server.url()))
    finally:
        server.stop()
    assert stored == [
        ("Caroline: We adopted Miso", "2023-05-08T13:56:00+00:00"),
        ("Mel: Lovely name", "2023-05-08T13:57:00+00:00"),
        ("user: Miso hates the vet", "2023-06-01T08:00:00+00:00"),
    ]

    broken = tmp_path / "broken.jsonl"
    future = {"role": "user", "content": "x", "occurred_at": "3000-01-01T00:00:00Z"}
    broken.write_text(f'{{"role": "user"}}\n{{"role": "robot"}}\nnot json\n{json.dumps(future)}\n')
    refused = run_personae("import-history", str(broken), "--tenant", "diary", *data)
    assert refused.returncode == 2
    said = refused.stderr
    assert "line 1: content:" in said and "line 2: role:" in said and "line 3: not JSON" in said
    assert "line 4: occurred_at:" in said and "is in the future" in said


async def _episodes(url: str) -> list[tuple[str, str]]:
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT content, occurred_at FROM episodes ORDER BY occurred_at")
        )
        rows = [(content, at.isoformat()) for content, at in found]
    await engine.dispose()
    return rows


def test_rules_and_scenarios_import_put_an_agents_by_name_once(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    made = run_personae("tenant", "create", "Bank", "--owner-email", "b@example.com", *data)
    assert made.returncode == 0, made.stderr
    server = EmbeddedPostgres(tmp_path / "data")
    server.start()
    try:
        agent = asyncio.run(_an_agent(server.url()))
    finally:
        server.stop()
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "- name: stolen-card\n"
        "  condition_text: the customer says their card was stolen\n"
        "  examples: [my card was stolen]\n"
        "  action_config: {instructions: Freeze the card first., tools: [calculator]}\n"
        "- name: weather\n"
        "  condition_text: the customer asks about the weather\n"
    )
    command = ["rules", "import", str(rules), "--agent", agent, "--tenant", "bank", *data]
    first = run_personae(*command, PERSONAE_EMBEDDER="hashing", timeout_s=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "2 rules created, 0 updated, 0 unchanged"
    again = run_personae(*command, PERSONAE_EMBEDDER="hashing", timeout_s=120)
    assert again.stdout.strip() == "0 rules created, 0 updated, 2 unchanged"
    exported = run_personae("rules", "export", "--agent", agent, "--tenant", "bank", *data)
    assert exported.returncode == 0, exported.stderr
    rules.write_text(exported.stdout)  # what export prints, import takes back unchanged
    back = run_personae(*command, PERSONAE_EMBEDDER="hashing", timeout_s=120)
    assert back.stdout.strip() == "0 rules created, 0 updated, 2 unchanged"

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"rules": [{"name": "x", "condition_text": ""}]}))
    refused = run_personae(
        "rules", "import", str(broken), "--agent", agent, "--tenant", "bank", *data
    )
    assert refused.returncode == 2 and "rules.0.condition_text" in refused.stderr
    rules.write_text("- name: y\n  condition_text: a\n  action_config: {tools: [nothing]}\n")
    unknown = run_personae(*command, PERSONAE_EMBEDDER="hashing", timeout_s=120)
    assert unknown.returncode == 2 and "rules.0.action_config.tools.0" in unknown.stderr

    journeys = tmp_path / "scenarios.yaml"
    journeys.write_text(
        "- name: lost-card\n"
        "  entry_condition: the customer lost their card\n"
        "  steps:\n"
        "    - {name: identify, tools: [calculator], transitions: [{to: done, fallback: true}]}\n"
        "    - {name: done, terminal: true}\n"
    )
    command = ["scenarios", "import", str(journeys), "--agent", agent, "--tenant", "bank", *data]
    first = run_personae(*command, PERSONAE_EMBEDDER="hashing", timeout_s=120)
    assert first.stdout.strip() == "1 scenarios created, 0 updated, 0 unchanged", first.stderr
    exported = run_personae("scenarios", "export", "--agent", agent, "--tenant", "bank", *data)
    journeys.write_text(exported.stdout)
    back = run_personae(*command, PERSONAE_EMBEDDER="hashing", timeout_s=120)
    assert back.stdout.strip() == "0 scenarios created, 0 updated, 1 unchanged", back.stderr
    journeys.write_text(exported.stdout.replace("calculator", "nothing"))
    unknown = run_personae(*command, PERSONAE_EMBEDDER="hashing", timeout_s=120)
    assert unknown.returncode == 2 and "scenarios.0.steps.0.tools.0" in unknown.stderr


async def _an_agent(url: str) -> str:
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.begin() as conn:
        made = await conn.execute(
            text(
                "INSERT INTO agents (tenant_id, name) SELECT id, 'clerk' FROM tenants RETURNING id"
            )
        )
        agent = str(made.scalar_one())
    await engine.dispose()
    return agent

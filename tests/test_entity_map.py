"""docs/entity-map.md stays true: its tables exist, and no seed entity is left out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "docs" / "entity-map.md"
SEEDS = ROOT.parent / "shared" / "seeds"

MERMAID_ENTITY = re.compile(r"^\s+([A-Z][A-Z_]+)\s*\{\s*$")
MERMAID_RELATION = re.compile(r"^\s+([A-Z][A-Z_]+)\s+\S*--\S*\s+([A-Z][A-Z_]+)\s*:")


def map_rows() -> list[tuple[str, str, list[str]]]:
    rows = []
    for line in MAP.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"\d{3}", cells[0]):
            rows.append((cells[0], cells[1], re.findall(r"`([a-z_]+)`", cells[2])))
    return rows


def seed_entities(path: Path) -> set[str]:
    """Entities a seed declares: Mermaid ER entities, `Table:` headings, table sections."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: set[str] = set()
    in_er = False
    section = ""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("```"):
            in_er = stripped == "```mermaid" and lines[index + 1].strip() == "erDiagram"
            continue
        if in_er:
            for pattern in (MERMAID_ENTITY, MERMAID_RELATION):
                match = pattern.match(line)
                if match:
                    found.update(match.groups())
            continue
        if stripped.startswith("## "):
            section = stripped[3:]
        table = re.match(r"#### Table: `(\w+)`", stripped)
        if table:
            found.add(table.group(1))
        elif stripped.startswith("### ") and section == "Tables":
            found.add(stripped[4:])
        elif (
            stripped.startswith("#### ")
            and index + 1 < len(lines)
            and lines[index + 1].strip() == "```sql"
        ):
            found.add(stripped[5:])
    return found


def seed_files() -> list[Path]:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    return sorted(SEEDS.glob("*.md"))


def test_every_seed_entity_is_in_the_map() -> None:
    mapped = {(seed, entity) for seed, entity, _ in map_rows()}
    files = seed_files()
    assert len(files) == 5
    total = 0
    for path in files:
        seed = path.name[:3]
        entities = seed_entities(path)
        assert len(entities) >= 9, f"parser found too little in {path.name}: {entities}"
        missing = sorted(e for e in entities if (seed, e) not in mapped)
        assert not missing, f"{path.name}: entities not in docs/entity-map.md: {missing}"
        total += len(entities)
    assert total >= 115  # 20 + 18 + 54 + 9 + 17 at the time of writing


async def test_every_mapped_table_exists(owner_engine: AsyncEngine) -> None:
    rows = map_rows()
    assert rows, "docs/entity-map.md has no rows"
    async with owner_engine.connect() as conn:
        tables = set(
            (
                await conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ).scalars()
        )
    for seed, entity, names in rows:
        assert names, f"{seed} {entity} names no table"
        for name in names:
            assert name in tables, f"{seed} {entity} → {name}: no such table"

"""Finding entities' names in text: whole words in any case, the longest name first; a
name of one letter is never matched. Knowledge finds them in chunks, memory in episodes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

MIN_NAME = 2
"""Shorter names (one letter) are never matched: they would be everywhere."""


@dataclass(frozen=True)
class Named:
    entity_id: uuid.UUID
    persona_id: uuid.UUID | None
    names: tuple[str, ...]


@dataclass(frozen=True)
class Found:
    entity_id: uuid.UUID
    start: int
    end: int
    text: str


class Gazetteer:
    """Finds the names of a set of entities in texts (longest name first)."""

    def __init__(self, entities: Iterable[Named]) -> None:
        self._owners: dict[str, list[Named]] = {}
        for entity in entities:
            for name in {n.strip().casefold() for n in entity.names}:
                if len(name) >= MIN_NAME:
                    self._owners.setdefault(name, []).append(entity)
        names = sorted(self._owners, key=len, reverse=True)
        self._pattern = (
            re.compile(r"(?<!\w)(" + "|".join(map(re.escape, names)) + r")(?!\w)", re.IGNORECASE)
            if names
            else None
        )

    def __bool__(self) -> bool:
        return self._pattern is not None

    def find(self, text: str, persona_id: uuid.UUID | None = None) -> list[Found]:
        """Every mention in `text`, a text of `persona_id` (None: of no persona)."""
        if self._pattern is None:
            return []
        found = []
        for match in self._pattern.finditer(text):
            for entity in self._owners.get(match.group(1).casefold(), ()):
                if entity.persona_id is None or entity.persona_id == persona_id:
                    found.append(Found(entity.entity_id, match.start(), match.end(), match[1]))
        return found

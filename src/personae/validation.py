"""The base of every input schema: unknown fields refused, and text PostgreSQL can store.

JSON may carry NUL characters and unpaired surrogates (\\u0000, \\ud800); PostgreSQL text and
jsonb cannot hold them. Refusing them on the way in turns what would be a database error
into a 422 that says where the bad text is."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


def unstorable(value: Any, path: str = "") -> str | None:
    """The path of the first string (or key) PostgreSQL cannot store, if any."""
    if isinstance(value, str):
        return path or "value" if not storable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not storable(key):
                return path or "key"
            found = unstorable(item, where)
            if found:
                return found
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = unstorable(item, f"{path}[{index}]")
            if found:
                return found
    return None


def storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        where = unstorable(data)
        if where:
            raise ValueError(f"{where}: text may not contain NUL characters or unpaired surrogates")
        return data

"""The base of every input schema: unknown fields refused, text PostgreSQL can store, and
JSON nested no deeper than a limit.

JSON may carry NUL characters and unpaired surrogates (\\u0000, \\ud800); PostgreSQL text and
jsonb cannot hold them. Refusing them on the way in turns what would be a database error
into a 422 that says where the bad text is. Nesting is bounded (`max_json_depth`, 32 levels
from the body's top by default) so that what is stored can always be read back and
serialised again; the body's size is bounded by `max_body_bytes`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

DEFAULT_MAX_DEPTH = 32
_limits = {"depth": DEFAULT_MAX_DEPTH}


def set_max_depth(depth: int) -> None:
    """Apply the deployment's `max_json_depth` (the server does, as it starts)."""
    _limits["depth"] = depth


def unstorable(value: Any, max_depth: int | None = None) -> tuple[str, str] | None:
    """Where the first part PostgreSQL cannot store, or that lies deeper than `max_depth`
    containers, is (a dotted path, "" for the top) and what is wrong there; None if none."""
    limit = _limits["depth"] if max_depth is None else max_depth
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if not storable(item):
                return path, "text may not contain NUL characters or unpaired surrogates"
            continue
        if isinstance(item, dict):
            children = list(item.items())
        elif isinstance(item, (list, tuple)):
            children = list(enumerate(item))
        else:
            continue
        if depth >= limit:
            return path, f"nested deeper than {limit} levels"
        for key, child in reversed(children):
            if isinstance(key, str) and not storable(key):
                return path, "a key may not contain NUL characters or unpaired surrogates"
            stack.append((child, f"{path}.{key}" if path else str(key), depth + 1))
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
    def _storable_json(cls, data: Any) -> Any:
        found = unstorable(data)
        if found:
            where, what = found
            raise PydanticCustomError(
                "unstorable", "{where}: {what}", {"where": where or "body", "what": what}
            )
        return data

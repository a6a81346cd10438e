"""Input text must be storable by PostgreSQL: no NUL characters, no unpaired surrogates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from personae.settings_store.schemas import ModelConfigIn
from personae.validation import storable, unstorable


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"name": "a\x00b"}, "name"),
        ({"kwargs": {"deep": ["ok", "bad\ud800"]}}, "kwargs.deep.1"),
        ({"kwargs": {"k\x00": 1}}, "kwargs"),
        ({"fine": ["text", 1, None, {"x": "é✓"}]}, None),
        ({"a": {"b": [{"c": 1}]}}, None),  # four levels
        ({"a": {"b": [{"c": []}]}}, "a.b.0.c"),  # the fifth
    ],
)
def test_unstorable_names_where(data: dict[str, object], where: str | None) -> None:
    found = unstorable(data, max_depth=4)
    assert (found[0] if found else None) == where


@given(st.text())
def test_storable_matches_what_utf8_and_postgres_accept(text: str) -> None:
    expected = "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    assert storable(text) == expected


def test_input_models_refuse_unstorable_text() -> None:
    with pytest.raises(ValidationError, match=r"kwargs\.k: text may not contain NUL"):
        ModelConfigIn.model_validate(
            {"name": "n", "provider": "p", "model_name": "m", "kwargs": {"k": "\x00"}}
        )

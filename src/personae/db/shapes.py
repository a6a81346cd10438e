"""Pydantic shapes derived from the ORM models, so no field is written twice.

A column's Python type, its length limit and its enumeration (from `one_of`) become the
field's type and constraints; `metadata_` attributes appear as `metadata`. Input shapes
refuse NUL and unpaired surrogates (`Input`); a column that cannot be NULL refuses null."""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, create_model
from sqlalchemy import CheckConstraint, String

from personae.db.types import Vector
from personae.validation import Input

TEXT_LIMIT = 200_000
"""Characters in an unbounded text column sent through the API."""


def field_name(attribute: str) -> str:
    """The API name of an ORM attribute (`metadata_` → `metadata`)."""
    return attribute.removesuffix("_")


def attribute_name(model: type[Any], field: str) -> str:
    """The ORM attribute behind an API field name."""
    attributes = model.__mapper__.column_attrs.keys()
    return field if field in attributes else f"{field}_"


def _python_type(model: type[Any], attribute: str) -> Any:
    mapped = typing.get_type_hints(model)[attribute]
    return typing.get_args(mapped)[0]  # Mapped[X] → X


def _choices(model: type[Any]) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for constraint in model.__table__.constraints:
        if isinstance(constraint, CheckConstraint) and "one_of" in constraint.info:
            column, values = constraint.info["one_of"]
            found[column] = values
    return found


def _field(model: type[Any], attribute: str) -> tuple[Any, dict[str, Any], bool]:
    """(type, Field keywords, nullable) for one column attribute."""
    column = model.__mapper__.column_attrs[attribute].columns[0]
    kind = _python_type(model, attribute)
    others = [a for a in typing.get_args(kind) if a is not type(None)]
    nullable = len(others) < len(typing.get_args(kind))
    base = (others[0] if len(others) == 1 else typing.Union[tuple(others)]) if nullable else kind  # noqa: UP007
    choices = _choices(model).get(column.name)
    if choices:
        base = Literal[choices]
    constraints: dict[str, Any] = {}
    if base is str:
        length = column.type.length if isinstance(column.type, String) else None
        constraints["max_length"] = length or TEXT_LIMIT
    return base, constraints, nullable


def output_shape(
    model: type[Any], *, exclude: Iterable[str] = (), name: str | None = None
) -> type[BaseModel]:
    """A response shape with every column of `model` except `exclude` (ORM attribute names)
    and vectors."""
    skipped = {"tenant_id", "search_tsv", "deleted_at", *exclude}
    fields: dict[str, Any] = {}
    for prop in model.__mapper__.column_attrs:
        attribute = prop.key
        if attribute in skipped or isinstance(prop.columns[0].type, Vector):
            continue
        kind, _constraints, nullable = _field(model, attribute)
        fields[field_name(attribute)] = (
            kind | None if nullable else kind,
            Field(validation_alias=AliasChoices(attribute, field_name(attribute)))
            if attribute != field_name(attribute)
            else ...,
        )
    return create_model(
        name or f"{model.__name__}Out",
        __config__=ConfigDict(from_attributes=True),
        **fields,
    )


def input_shape(
    model: type[Any],
    fields: Iterable[str],
    *,
    required: Iterable[str] = (),
    partial: bool = False,
    name: str | None = None,
    overrides: dict[str, tuple[Any, Any]] | None = None,
) -> type[Input]:
    """A request shape over `fields` (API names) of `model`.

    `required` fields must be sent (unless `partial`, for PATCH); the others may be left
    out (the column's default applies), and may be null only where the column may be."""
    must = set() if partial else set(required)
    shape: dict[str, Any] = {}
    for name_ in fields:
        kind, constraints, nullable = _field(model, attribute_name(model, name_))
        if nullable:
            kind = kind | None
        if name_ in required and "max_length" in constraints:
            constraints["min_length"] = 1
        default = ... if name_ in must else None
        shape[name_] = (kind, Field(default, **constraints))
    shape.update(overrides or {})
    return create_model(
        name or f"{model.__name__}{'Update' if partial else 'Create'}", __base__=Input, **shape
    )

"""Tools made from plain Python functions: the name, the docstring and the signature become
the OpenAI function-calling schema, and arguments are checked against it before a call.

    def current_time(timezone: str = "UTC") -> str:
        '''The current date and time in `timezone` (an IANA name).'''

A parameter annotated `ToolContext` is not part of the schema: the caller passes what
the tool may use (the database session, the caller, the embedders)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, get_type_hints

import jsonschema
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from sqlalchemy.ext.asyncio import AsyncSession

from personae.errors import ValidationFailed
from personae.kernel.principal import Principal
from personae.providers.embeddings import Embedders
from personae.settings import Settings

NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_-]{0,63}$")
"""What OpenAI accepts as a function name."""


@dataclass(frozen=True)
class ToolContext:
    """What a built-in tool may use: the caller's transaction, who calls, the embedders
    and the settings, as the API and the runtime hold them."""

    session: AsyncSession
    principal: Principal
    embedders: Embedders
    settings: Settings


@dataclass(frozen=True)
class FunctionTool:
    name: str
    description: str
    parameters: dict[str, Any]
    """A JSON Schema (object) of the arguments."""
    function: Callable[..., Any]
    arguments: type[BaseModel] | None = None
    """Converts checked arguments to the function's types (dates, enums, models)."""
    takes_context: bool = False

    def schema(self) -> dict[str, Any]:
        """As the OpenAI `tools` parameter lists it."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    async def call(self, arguments: Mapping[str, Any], context: ToolContext | None) -> Any:
        """Call with `arguments` (checked: 422 naming the argument at fault)."""
        check_arguments(self.parameters, arguments)
        values = dict(arguments)
        if self.arguments is not None:
            try:
                converted = self.arguments.model_validate(values)
            except ValidationError as error:
                first = error.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ValidationFailed(first["msg"], field=f"arguments.{where}") from None
            values = {name: getattr(converted, name) for name in type(converted).model_fields}
        if self.takes_context:
            values["context"] = context
        result = self.function(**values)
        if inspect.isawaitable(result):
            result = await result
        return result


def function_tool(function: Callable[..., Any], *, name: str | None = None) -> FunctionTool:
    """A tool from `function`: its name, its docstring's first paragraph as the
    description, and its parameters (with their annotations and defaults) as the schema."""
    tool_name = name or function.__name__
    if not NAME.fullmatch(tool_name):
        raise ValueError(f"{tool_name!r} is not a tool name (letters, digits, _ and -)")
    doc = inspect.getdoc(function) or ""
    description = doc.split("\n\n")[0].replace("\n", " ").strip()
    if not description:
        raise ValueError(f"{tool_name} needs a docstring: it is the tool's description")
    hints = get_type_hints(function, include_extras=True)
    fields: dict[str, Any] = {}
    takes_context = False
    for parameter in inspect.signature(function).parameters.values():
        annotation = hints.get(parameter.name, Any)
        if annotation is ToolContext:
            takes_context = True
            continue
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        fields[parameter.name] = (annotation, default)
    model = create_model(f"{tool_name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
    parameters = model.model_json_schema()
    parameters.pop("title", None)
    for prop in parameters.get("properties", {}).values():
        prop.pop("title", None)
    return FunctionTool(tool_name, description, parameters, function, model, takes_context)


def check_schema(schema: Mapping[str, Any], field_name: str = "schema") -> None:
    """Refuse a parameters schema that is not a JSON Schema of an object (422)."""
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        where = ".".join(str(p) for p in error.absolute_path)
        raise ValidationFailed(
            f"not a JSON Schema: {error.message}", field=f"{field_name}.{where}".rstrip(".")
        ) from None
    if schema.get("type") != "object":
        raise ValidationFailed("a tool's parameters are an object", field=f"{field_name}.type")


def check_arguments(
    schema: Mapping[str, Any], arguments: Mapping[str, Any], field_name: str = "arguments"
) -> None:
    """Refuse arguments the schema does not allow (422, naming the first one at fault)."""
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(dict(arguments)))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path)
        raise ValidationFailed(error.message, field=f"{field_name}.{where}".rstrip("."))


def secret_arguments(schema: Mapping[str, Any]) -> frozenset[str]:
    """The arguments a tool marks secret: properties with `writeOnly: true` (as pydantic's
    `SecretStr` has). Their values are never stored nor audited, only their names."""
    properties = schema.get("properties", {})
    return frozenset(
        name
        for name, spec in properties.items()
        if isinstance(spec, Mapping) and spec.get("writeOnly") is True
    )

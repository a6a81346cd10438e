"""Tools (and capsules) that plugins add through hooks (`personae.plugins`), as the
built-ins do.

    from personae.plugins import PluginManager, hookimpl

    @hookimpl
    def register_tools(register):
        register(my_function)

    @hookimpl
    def register_capsules(register):
        register({"name": "crm", "version": "1.2.0", "tools": [...]})

A package makes itself known with an entry point in the `personae` group; the built-ins
(`personae.tools.builtins`) register through the same hook. Function tools run in the
server (the operator installed them); a capsule's tools are offered to tenants, who
install the capsule, and run in the sandbox or over HTTP like their own."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from personae.plugins import PluginManager, hookspec, manager
from personae.tools.functions import FunctionTool, function_tool

Register = Callable[[Callable[..., Any]], None]
RegisterCapsule = Callable[[Mapping[str, Any]], None]


class Specs:
    @hookspec
    def register_tools(self, register: Register) -> None:
        """Call `register(function)` for each tool the plugin brings."""

    @hookspec
    def register_capsules(self, register: RegisterCapsule) -> None:
        """Call `register(manifest)` for each capsule the plugin offers."""


@lru_cache(maxsize=1)
def plugins() -> PluginManager:
    """The built-ins and every installed plugin (entry points of the `personae` group)."""
    from personae.tools import builtins

    return manager(Specs, builtins)


def registered_tools(plugins_: PluginManager | None = None) -> dict[str, FunctionTool]:
    """Every plugin's tools by name (a name registered twice is refused)."""
    return _installed_tools() if plugins_ is None else _tools_of(plugins_)


@lru_cache(maxsize=1)
def _installed_tools() -> dict[str, FunctionTool]:
    return _tools_of(plugins())


def _tools_of(plugins_: PluginManager) -> dict[str, FunctionTool]:
    tools: dict[str, FunctionTool] = {}

    def register(function: Callable[..., Any]) -> None:
        tool = function_tool(function)
        if tool.name in tools:
            raise ValueError(f"two plugins register a tool named {tool.name!r}")
        tools[tool.name] = tool

    plugins_.hook.register_tools(register=register)
    return tools


def offered_capsules(plugins_: PluginManager | None = None) -> list[Mapping[str, Any]]:
    """The capsule manifests plugins offer (as given: checked when installed)."""
    manifests: list[Mapping[str, Any]] = []
    (plugins_ or plugins()).hook.register_capsules(register=manifests.append)
    return manifests

"""Plugins: packages that add tools through one hook, as the built-in tools do.

    from personae.tools.plugins import hookimpl

    @hookimpl
    def register_tools(register):
        register(my_function)

A package makes itself known with an entry point in the `personae` group; the built-ins
(`personae.tools.builtins`) register through the same hook."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import pluggy

from personae.tools.functions import FunctionTool, function_tool

hookspec = pluggy.HookspecMarker("personae")
hookimpl = pluggy.HookimplMarker("personae")
Register = Callable[[Callable[..., Any]], None]


class Specs:
    @hookspec
    def register_tools(self, register: Register) -> None:
        """Call `register(function)` for each tool the plugin brings."""


@lru_cache(maxsize=1)
def plugins() -> pluggy.PluginManager:
    """The built-ins and every installed plugin (entry points of the `personae` group)."""
    from personae.tools import builtins

    manager = pluggy.PluginManager("personae")
    manager.add_hookspecs(Specs)
    manager.register(builtins)
    manager.load_setuptools_entrypoints("personae")
    return manager


def registered_tools(manager: pluggy.PluginManager | None = None) -> dict[str, FunctionTool]:
    """Every plugin's tools by name (a name registered twice is refused)."""
    tools: dict[str, FunctionTool] = {}

    def register(function: Callable[..., Any]) -> None:
        tool = function_tool(function)
        if tool.name in tools:
            raise ValueError(f"two plugins register a tool named {tool.name!r}")
        tools[tool.name] = tool

    (manager or plugins()).hook.register_tools(register=register)
    return tools

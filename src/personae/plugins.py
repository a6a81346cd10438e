"""Plugins: packages that extend Personae through pluggy hooks, found by their entry point
in the `personae` group. Each extensible part declares its hooks and registers its own
built-ins through them, as any plugin would: `tools.plugins` (tools, capsules) and
`providers.plugins` (chat models, embedders).

    from personae.plugins import hookimpl

    @hookimpl
    def register_tools(register):
        register(my_function)
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

PROJECT = "personae"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
PluginManager = pluggy.PluginManager


def manager(specs: type, *builtins: object) -> pluggy.PluginManager:
    """The hooks of `specs`, implemented by `builtins` first, then by every installed plugin."""
    plugins = pluggy.PluginManager(PROJECT)
    plugins.add_hookspecs(specs)
    for builtin in builtins:
        plugins.register(builtin)
    plugins.load_setuptools_entrypoints(PROJECT)
    return plugins


def unknown(kind: str, name: str, known: Iterable[str]) -> str:
    """The message for a name no plugin registered, listing those that are."""
    return f"no {kind} named {name!r} is installed: one of {', '.join(sorted(known))}"

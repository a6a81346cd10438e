"""Which capsules may be installed or uninstalled, and in what order: the rules, apart
from storage.

Installing a set of capsules (new ones, or new versions of installed ones) must leave a
world where every capsule's dependencies are installed at versions its constraints allow,
with no cycle among them; the set installs each capsule after what it depends on. A
capsule may be uninstalled only when no other installed capsule depends on it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from personae.errors import Conflict, ValidationFailed
from personae.tools.dependencies import find_cycle, graph, plan
from personae.tools.semver import Constraint, Version


@dataclass(frozen=True)
class Package:
    """A capsule as resolution sees it: its name, version and constraints on others."""

    name: str
    version: Version
    requires: Mapping[str, Constraint] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


def install_order(installed: Mapping[str, Package], wanted: Sequence[Package]) -> list[Package]:
    """`wanted` in the order to install them, each after what it depends on; 409 naming the
    conflict when the world after installing would break a constraint or hold a cycle."""
    names = [p.name for p in wanted]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise ValidationFailed(f"{name} is given twice", field=f"manifests.{index}")
    after = {**installed, **{p.name: p for p in wanted}}
    for package in wanted:
        for needed, allowed in package.requires.items():
            there = after.get(needed)
            if there is None:
                raise Conflict(f"{package} needs {needed} {allowed}: not installed nor given")
            if not allowed.allows(there.version):
                raise Conflict(f"{package} needs {needed} {allowed}, not {there.version}")
    for other in installed.values():
        if other.name in names:
            continue
        for needed, allowed in other.requires.items():
            if needed in names and not allowed.allows(after[needed].version):
                raise Conflict(
                    f"{other} needs {needed} {allowed}: {after[needed].version} would break it"
                )
    adjacent = graph((p.name, needed) for p in after.values() for needed in p.requires)
    cycle = find_cycle(adjacent)
    if cycle is not None:
        raise Conflict("the capsules would depend on each other: " + " -> ".join(cycle))
    ordered: list[Package] = []
    for name in names:
        for step in plan(adjacent, name):
            if step in names and after[step] not in ordered:
                ordered.append(after[step])
    return ordered


def dependents(installed: Mapping[str, Package], name: str) -> list[str]:
    """The installed capsules that depend on `name` (what stops its uninstall)."""
    return sorted(p.name for p in installed.values() if name in p.requires and p.name != name)

"""Dependencies between tools (and between capsules): the graph rules, apart from storage.

An edge `a -> b` means a depends on b (requires, recommends or optional). The graph must
stay acyclic whatever the kind, so a write that would close a cycle is refused, naming it.
An execution (or install) plan lists what a node requires, transitively, dependencies
first; recommended and optional ones are not pulled in."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)
KINDS = ("requires", "recommends", "optional")


def graph(edges: Iterable[tuple[Node, Node]]) -> dict[Node, list[Node]]:
    """Adjacency lists of `edges` (each node's dependencies, in the order given)."""
    adjacent: dict[Node, list[Node]] = {}
    for source, target in edges:
        adjacent.setdefault(source, []).append(target)
        adjacent.setdefault(target, [])
    return adjacent


def find_cycle(adjacent: Mapping[Node, Sequence[Node]]) -> list[Node] | None:
    """A cycle of the graph as its nodes in order (the first again at the end), or None."""
    white, grey, black = 0, 1, 2
    colour: dict[Node, int] = dict.fromkeys(adjacent, white)
    for start in adjacent:
        if colour[start] != white:
            continue
        path: list[Node] = [start]
        pending = [iter(adjacent[start])]
        colour[start] = grey
        while pending:
            following = next(pending[-1], None)
            if following is None:
                colour[path.pop()] = black
                pending.pop()
                continue
            state = colour.get(following, white)
            if state == grey:
                return [*path[path.index(following) :], following]
            if state == white:
                colour[following] = grey
                path.append(following)
                pending.append(iter(adjacent.get(following, ())))
    return None


def plan(adjacent: Mapping[Node, Sequence[Node]], root: Node) -> list[Node]:
    """What `root` needs, transitively, each after its own dependencies; `root` last.
    Raises ValueError on a cycle."""
    ordered: list[Node] = []
    done: set[Node] = set()
    on_path = {root}
    stack = [(root, iter(adjacent.get(root, ())))]
    while stack:
        node, dependencies = stack[-1]
        dependency = next(dependencies, None)
        if dependency is None:
            stack.pop()
            on_path.discard(node)
            done.add(node)
            ordered.append(node)
        elif dependency in on_path:
            raise ValueError(f"a cycle through {dependency!r}")
        elif dependency not in done:
            on_path.add(dependency)
            stack.append((dependency, iter(adjacent.get(dependency, ()))))
    return ordered

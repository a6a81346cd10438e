"""The dependency rules, over random graphs: a cycle is always found (and is a real one),
an acyclic graph never reports one, and a plan lists each dependency before what needs
it, everything the root requires and nothing else."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from personae.tools.dependencies import find_cycle, graph, plan

NODES = st.integers(min_value=0, max_value=12)
EDGES = st.lists(st.tuples(NODES, NODES), max_size=40)


def reachable(adjacent: dict[int, list[int]], root: int) -> set[int]:
    seen, todo = {root}, [root]
    while todo:
        for following in adjacent.get(todo.pop(), []):
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen


@given(EDGES)
def test_a_cycle_is_found_exactly_when_there_is_one(edges: list[tuple[int, int]]) -> None:
    adjacent = graph(edges)
    cycle = find_cycle(adjacent)
    has_cycle = any(source in reachable(adjacent, target) for source, target in edges)
    assert (cycle is not None) == has_cycle
    if cycle is not None:
        assert cycle[0] == cycle[-1]
        assert all(b in adjacent[a] for a, b in itertools.pairwise(cycle))


@given(st.lists(st.tuples(NODES, NODES).filter(lambda e: e[0] > e[1]), max_size=40), NODES)
def test_a_plan_puts_every_dependency_first(edges: list[tuple[int, int]], root: int) -> None:
    adjacent = graph(edges)  # edges only go downwards: acyclic
    order = plan(adjacent, root)
    assert order[-1] == root and len(order) == len(set(order))
    assert set(order) == reachable(adjacent, root)
    position = {node: i for i, node in enumerate(order)}
    for source in order:
        for target in adjacent.get(source, []):
            assert position[target] < position[source]


def test_a_plan_refuses_a_cycle() -> None:
    adjacent = graph([("a", "b"), ("b", "c"), ("c", "a")])
    assert find_cycle(adjacent) == ["a", "b", "c", "a"]
    try:
        plan(adjacent, "a")
    except ValueError as refused:
        assert "cycle" in str(refused)
    else:
        raise AssertionError("a cycle was planned")

"""Capsule resolution over random sets: versions order as semver says, constraints allow
what they should, a set installs exactly when every constraint holds and nothing depends on
itself in a circle (then each capsule comes after what it needs), an upgrade that breaks an
installed capsule's constraint is refused, and uninstall sees every dependent."""

from __future__ import annotations

from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personae.errors import Conflict, ValidationFailed
from personae.tools.capsule_plan import Package, dependents, install_order
from personae.tools.semver import Version, constraint, parse

PARTS = st.integers(min_value=0, max_value=3)
VERSIONS = st.builds(Version, PARTS, PARTS, PARTS)
KINDS = st.sampled_from(["*", "^", "~", ">=", "<", "="])


def written(kind: str, version: Version) -> str:
    return "*" if kind == "*" else f"{kind}{version}"


def expected(kind: str, target: Version, version: Version) -> bool:
    """What each kind of constraint allows, said plainly."""
    if kind == "*":
        return True
    if kind == "^":
        if target.major:
            return version.major == target.major and version >= target
        if target.minor:
            return version.core[:2] == target.core[:2] and version >= target
        return version == target
    if kind == "~":
        return version.core[:2] == target.core[:2] and version >= target
    return {">=": version >= target, "<": version < target, "=": version == target}[kind]


@given(VERSIONS, VERSIONS)
def test_versions_order_by_their_numbers(a: Version, b: Version) -> None:
    assert (a < b) == (a.core < b.core)
    assert parse(str(a)) == a
    assert parse(f"{a}-rc.1") < a


@given(KINDS, VERSIONS, VERSIONS)
def test_constraints_allow_what_they_say(kind: str, target: Version, version: Version) -> None:
    assert constraint(written(kind, target)).allows(version) == expected(kind, target, version)


# npm's documented examples (docs.npmjs.com, semver ranges): an oracle owing nothing to ours
NPM_EXAMPLES = [
    ("^1.2.3", {"1.2.3": True, "1.9.9": True, "2.0.0": False, "1.2.2": False}),
    ("^0.2.3", {"0.2.3": True, "0.2.9": True, "0.3.0": False}),
    ("^0.0.3", {"0.0.3": True, "0.0.4": False}),
    ("~1.2.3", {"1.2.3": True, "1.2.9": True, "1.3.0": False}),
    ("~1.2", {"1.2.0": True, "1.2.7": True, "1.3.0": False, "1.1.9": False}),
    ("^1.2", {"1.2.0": True, "1.9.0": True, "2.0.0": False}),
    (">=1.2.7 <1.3.0", {"1.2.7": True, "1.2.8": True, "1.2.6": False, "1.3.0": False}),
    ("1.2.7 || >=1.2.9 <2.0.0", {"1.2.7": True, "1.2.9": True, "1.4.6": True, "1.2.8": False}),
    (">1.2.3-alpha.3", {"1.2.3-alpha.7": True, "3.4.5": True, "3.4.5-alpha.9": False}),
    ("*", {"0.0.1": True, "9.9.9": True}),
]


@pytest.mark.parametrize(("text", "cases"), NPM_EXAMPLES)
def test_constraints_match_npms_documented_examples(text: str, cases: dict[str, bool]) -> None:
    allowed = constraint(text)
    assert {v: allowed.allows(parse(v)) for v in cases} == cases


@pytest.mark.parametrize("text", ["^banana", "1.2.3.4", ">=", "~~1", "x" * 101])
def test_a_malformed_constraint_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed):
        constraint(text)


DEPENDENCIES = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 6), KINDS, VERSIONS), max_size=14
)


def packages(versions: list[Version], edges: list[tuple[int, int, str, Version]]) -> list[Package]:
    requires: dict[int, dict[str, str]] = {i: {} for i in range(len(versions))}
    for source, target, kind, bound in edges:
        if source < len(versions) and target < len(versions) and source != target:
            requires[source][f"c{target}"] = written(kind, bound)
    return [
        Package(f"c{i}", v, {n: constraint(c) for n, c in requires[i].items()})
        for i, v in enumerate(versions)
    ]


def circular(found: list[Package]) -> bool:
    edges = {p.name: set(p.requires) for p in found}
    while edges:
        free = [n for n, needs in edges.items() if not needs & edges.keys()]
        if not free:
            return True
        for name in free:
            del edges[name]
    return False


@given(st.lists(VERSIONS, min_size=1, max_size=7), DEPENDENCIES, st.randoms())
def test_a_set_installs_exactly_when_it_is_consistent(
    versions: list[Version], edges: list[tuple[int, int, str, Version]], random: Random
) -> None:
    found = packages(versions, edges)
    given_order = list(found)
    random.shuffle(given_order)
    by_name = {p.name: p for p in found}
    consistent = all(
        c.allows(by_name[n].version) for p in found for n, c in p.requires.items()
    ) and not circular(found)
    if not consistent:
        with pytest.raises(Conflict):
            install_order({}, given_order)
        return
    order = install_order({}, given_order)
    assert sorted(p.name for p in order) == sorted(by_name)
    position = {p.name: i for i, p in enumerate(order)}
    assert all(position[n] < position[p.name] for p in order for n in p.requires)


@given(st.lists(VERSIONS, min_size=2, max_size=6), DEPENDENCIES, VERSIONS)
def test_an_upgrade_must_keep_what_depends_on_it_satisfied(
    versions: list[Version], edges: list[tuple[int, int, str, Version]], new: Version
) -> None:
    found = packages(versions, edges)
    by_name = {p.name: p for p in found}
    if circular(found) or not all(
        c.allows(by_name[n].version) for p in found for n, c in p.requires.items()
    ):
        return  # only consistent installations are upgraded
    upgraded = Package("c0", new, by_name["c0"].requires)
    others_fine = all(
        p.requires["c0"].allows(new) for p in found if "c0" in p.requires and p.name != "c0"
    )
    own_fine = all(c.allows(by_name[n].version) for n, c in upgraded.requires.items())
    if others_fine and own_fine:
        assert install_order(by_name, [upgraded]) == [upgraded]
    else:
        with pytest.raises(Conflict):
            install_order(by_name, [upgraded])
    assert dependents(by_name, "c0") == sorted(p.name for p in found if "c0" in p.requires)


def test_conflicts_are_said_plainly() -> None:
    base = Package("base", parse("1.4.0"))
    app = Package("app", parse("2.0.0"), {"base": constraint("^1.2")})
    with pytest.raises(Conflict, match=r"app 2.0.0 needs base \^1.2: not installed nor given"):
        install_order({}, [app])
    assert install_order({}, [app, base]) == [base, app]
    with pytest.raises(Conflict, match=r"app 2.0.0 needs base \^1.2: 2.0.0 would break it"):
        install_order({"base": base, "app": app}, [Package("base", parse("2.0.0"))])
    loop = Package("base", parse("1.5.0"), {"app": constraint("*")})
    with pytest.raises(Conflict, match="depend on each other"):
        install_order({"app": app}, [loop])
    assert dependents({"base": base, "app": app}, "base") == ["app"]

"""Semantic versions (`MAJOR.MINOR.PATCH[-prerelease]`) and the constraints capsules put on
the versions of what they depend on, as npm writes them:

    *            any version
    1.2.3        exactly (also `=1.2.3`)
    >=1.2 <2     comparisons, all of which must hold (spaces or commas between)
    ^1.2.3       compatible: >=1.2.3 <2.0.0 (^0.2.3: <0.3.0; ^0.0.3: <0.0.4)
    ~1.2.3       patch-level: >=1.2.3 <1.3.0 (~1: <2.0.0)
    ^1 || ^2     either

A partial version (`1`, `1.2`) fills the rest with zeros. A prerelease sorts before its
release and is matched only by a bound that names a prerelease of the same version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

from personae.errors import ValidationFailed

_VERSION = re.compile(r"^(\d{1,9})\.(\d{1,9})\.(\d{1,9})(?:-([0-9A-Za-z.-]+))?$")
_PARTIAL = re.compile(r"^(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?(?:-([0-9A-Za-z.-]+))?$")
_TERM = re.compile(r"^(>=|<=|>|<|=|\^|~)?\s*(.+)$")
MAX_CONSTRAINT = 100


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()

    @property
    def core(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        core = f"{self.major}.{self.minor}.{self.patch}"
        return f"{core}-{'.'.join(map(str, self.prerelease))}" if self.prerelease else core

    def _key(self) -> tuple[object, ...]:
        # a release sorts after its prereleases; numeric identifiers before alphanumeric
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, not self.prerelease, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()


def _identifiers(text: str | None) -> tuple[int | str, ...]:
    if not text:
        return ()
    return tuple(int(p) if p.isdigit() else p for p in text.split("."))


def parse(text: str, field: str = "version") -> Version:
    """A full version (`1.2.3`, `1.2.3-beta.1`); 422 naming `field` otherwise."""
    found = _VERSION.fullmatch(text.strip())
    if found is None:
        raise ValidationFailed(f"{text!r} is not a semantic version (1.2.3)", field=field)
    major, minor, patch, pre = found.groups()
    return Version(int(major), int(minor), int(patch), _identifiers(pre))


@dataclass(frozen=True)
class _Bound:
    operator: str
    version: Version

    def holds(self, version: Version) -> bool:
        v, b = version, self.version
        return {
            ">=": v >= b,
            ">": v > b,
            "<=": v <= b,
            "<": v < b,
            "=": v == b,
        }[self.operator]


@dataclass(frozen=True)
class Constraint:
    text: str
    alternatives: tuple[tuple[_Bound, ...], ...]
    """Any one alternative whose bounds all hold."""

    def allows(self, version: Version) -> bool:
        return any(self._within(bounds, version) for bounds in self.alternatives)

    @staticmethod
    def _within(bounds: tuple[_Bound, ...], version: Version) -> bool:
        if version.prerelease and not any(
            b.version.prerelease and b.version.core == version.core for b in bounds
        ):
            return False
        return all(b.holds(version) for b in bounds)

    def __str__(self) -> str:
        return self.text


def constraint(text: str, field: str = "constraint") -> Constraint:
    """The constraint `text` (see the module's notes); 422 naming `field` if malformed."""
    if len(text) > MAX_CONSTRAINT:
        raise ValidationFailed(f"at most {MAX_CONSTRAINT} characters", field=field)
    alternatives = []
    for alternative in text.split("||"):
        terms = alternative.replace(",", " ").split()
        bounds: list[_Bound] = []
        for term in _joined(terms):
            try:
                bounds.extend(_bounds(term))
            except ValueError:
                raise ValidationFailed(
                    f"{term!r} is not a version constraint (^1.2, ~1.2.3, >=1 <2, *)", field=field
                ) from None
        alternatives.append(tuple(bounds))
    return Constraint(text.strip() or "*", tuple(alternatives))


def _joined(terms: list[str]) -> list[str]:
    """`>= 1.2` written with a space is one term."""
    joined: list[str] = []
    for term in terms:
        if joined and joined[-1] in (">=", "<=", ">", "<", "=", "^", "~"):
            joined[-1] += term
        else:
            joined.append(term)
    return joined


def _bounds(term: str) -> list[_Bound]:
    if term in ("*", "x", "X"):
        return []
    match = _TERM.fullmatch(term)
    partial = _PARTIAL.fullmatch(match.group(2)) if match else None
    if match is None or partial is None:
        raise ValueError(term)
    operator = match.group(1) or "="
    major, minor, patch, pre = partial.groups()
    given = 1 + (minor is not None) + (patch is not None)
    low = Version(int(major), int(minor or 0), int(patch or 0), _identifiers(pre))
    if operator in ("^", "~") or (operator == "=" and given < 3):
        high = _ceiling(low, operator, given)
        return [_Bound(">=", low), _Bound("<", high)]
    return [_Bound(operator, low)]


def _ceiling(low: Version, operator: str, given: int) -> Version:
    """The first version past what `^`, `~` or a partial `=` allows."""
    if operator == "^":
        if low.major or given == 1:
            return Version(low.major + 1, 0, 0)
        if low.minor or given == 2:
            return Version(0, low.minor + 1, 0)
        return Version(0, 0, low.patch + 1)
    if (operator == "~" and given >= 2) or (operator == "=" and given == 2):
        return Version(low.major, low.minor + 1, 0)
    return Version(low.major + 1, 0, 0)

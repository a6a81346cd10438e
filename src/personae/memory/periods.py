"""The period a query names: "on 13 October 2023", "in October 2023", "in 2023", "in
October" (any year). Memory search counts the episodes of that period more; an episode is
often said a little after what it tells (`SAID_AFTER`), and dated a little loosely
(`SAID_BEFORE`). English dates only; a query naming none is searched as it is."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SAID_BEFORE = timedelta(days=3)
SAID_AFTER = timedelta(days=14)

_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_MONTHS = {name.lower()[:3]: number for number, name in enumerate(calendar.month_name) if name}
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(1[89]\d\d|2\d\d\d)"
_PATTERNS = (
    ("day month year", re.compile(rf"\b{_DAY} (?:of )?{_MONTH},? {_YEAR}\b")),
    ("month day year", re.compile(rf"\b{_MONTH} {_DAY},? {_YEAR}\b")),
    ("month year", re.compile(rf"\b{_MONTH},? {_YEAR}\b")),
    ("year", re.compile(rf"\b(?:in|during|of) {_YEAR}\b")),
    ("month", re.compile(rf"\b(?:in|during|of|last|this) {_MONTH}\b")),
)


@dataclass(frozen=True)
class Period:
    """From `start` to `end` (UTC), or, with neither, the month `month` of any year."""

    start: datetime | None = None
    end: datetime | None = None
    month: int | None = None


def named_period(query: str) -> Period | None:
    """The first period `query` names, the most precise form first; None if it names none
    (or an impossible date)."""
    text = " ".join(query.lower().split())
    for form, pattern in _PATTERNS:
        found = pattern.search(text)
        if found is None:
            continue
        parts = found.groups()
        try:
            return _period(form, parts)
        except ValueError:  # 31 February
            return None
    return None


def _period(form: str, parts: tuple[str, ...]) -> Period:
    if form == "month":
        return Period(month=_MONTHS[parts[0][:3]])
    if form == "year":
        year = int(parts[0])
        return Period(datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC))
    if form == "month year":
        month, year = _MONTHS[parts[0][:3]], int(parts[1])
        start = datetime(year, month, 1, tzinfo=UTC)
        return Period(start, datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC))
    day, named, in_year = parts[0], parts[1], parts[2]
    if form == "month day year":
        day, named = named, day
    start = datetime(int(in_year), _MONTHS[named[:3]], int(day), tzinfo=UTC)
    return Period(start, start + timedelta(days=1))

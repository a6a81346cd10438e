"""The period a query names, as memory search reads it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from personae.memory.periods import Period, named_period


def day(year: int, month: int, on: int) -> datetime:
    return datetime(year, month, on, tzinfo=UTC)


@pytest.mark.parametrize(
    ("query", "period"),
    [
        ("What did Gina find on 1 February, 2023?", Period(day(2023, 2, 1), day(2023, 2, 2))),
        ("the 3rd of March 2024", Period(day(2024, 3, 3), day(2024, 3, 4))),
        ("Which painting on October 13, 2023?", Period(day(2023, 10, 13), day(2023, 10, 14))),
        ("What setback came in October 2023?", Period(day(2023, 10, 1), day(2023, 11, 1))),
        ("plans for Dec 2024", Period(day(2024, 12, 1), day(2025, 1, 1))),
        ("How often to the beach in 2023?", Period(day(2023, 1, 1), day(2024, 1, 1))),
        ("When did they go camping in June?", Period(month=6)),
        ("anything last May", Period(month=5)),
        ("May I ask what you did?", None),  # a verb, not a month
        ("the 2023 season", None),  # a year as a name, not a period
        ("on 31 February 2023", None),  # no such day
        ("nothing about time", None),
    ],
)
def test_a_query_names_the_period_it_asks_about(query: str, period: Period | None) -> None:
    assert named_period(query) == period

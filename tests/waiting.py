"""Waiting in tests for something to happen, never for a guessed length of time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T]], *, within_s: float = 10.0, every_s: float = 0.02
) -> T:
    """The first truthy answer of `check`, asked again every `every_s`; fails the test,
    with the last answer, when none came within `within_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not (answer := await check()):
        assert loop.time() < deadline, f"not within {within_s} s (last answer: {answer!r})"
        await asyncio.sleep(every_s)
    return answer


async def soon(check: Callable[[], object], *, within_s: float = 10.0) -> None:
    """Like `eventually`, for a check that needs no awaiting (another task's state)."""

    async def asked() -> object:
        return check()

    await eventually(asked, within_s=within_s)

"""Every background task, for the queues that run them: `Queue(..., tasks=TASKS)`."""

from __future__ import annotations

from personae.identity import jobs as identity
from personae.jobs import Task
from personae.knowledge import jobs as knowledge
from personae.memory import jobs as memory
from personae.runtime import jobs as runtime

TASKS: tuple[Task, ...] = (*identity.TASKS, *knowledge.TASKS, *memory.TASKS, *runtime.TASKS)

"""Every background task, for the queues that run them (`Queue(..., tasks=TASKS)`), and
the services a worker hands them."""

from __future__ import annotations

from dataclasses import dataclass

from personae.identity import jobs as identity
from personae.jobs import Task
from personae.knowledge import jobs as knowledge
from personae.memory import jobs as memory
from personae.providers.embeddings import Embedders
from personae.runtime import jobs as runtime
from personae.vault.service import Vault

TASKS: tuple[Task, ...] = (*identity.TASKS, *knowledge.TASKS, *memory.TASKS, *runtime.TASKS)


@dataclass(frozen=True)
class WorkerServices:
    """What the tasks use besides sessions and settings (`JobDeps.services`): it answers
    every area's protocol (`memory.jobs.Services`)."""

    embedders: Embedders
    vault: Vault | None = None

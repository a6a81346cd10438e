"""Background work on procrastinate, a job queue in the same PostgreSQL.

Domain packages declare tasks with `@task(...)` in a `jobs.py` module listed in
`TASK_MODULES`; `personae serve` runs a worker in-process, `personae worker` runs one on
its own. Task arguments are stored in plain rows: ids, never secrets or contents."""

from personae.jobs.queue import TASK_MODULES, JobDeps, Queue, defer_in, task

__all__ = ["TASK_MODULES", "JobDeps", "Queue", "defer_in", "task"]

"""Background work on procrastinate, a job queue in the same PostgreSQL.

Areas name their work as `Job`s and list how to run it as `Task`s in a `jobs.py` module;
`personae.tasks` gathers them for the queues. `personae serve` runs a worker in-process,
`personae worker` runs one on its own. Task arguments are stored in plain rows: ids,
never secrets or contents."""

from personae.jobs.queue import Job, JobDeps, Queue, Task, defer_in

__all__ = ["Job", "JobDeps", "Queue", "Task", "defer_in"]

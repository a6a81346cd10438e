"""What calls left behind: their executions (read-only: the record of what ran) and the
dead letters of calls whose tries all failed (for admins, who hold `tools:approve`: list,
inspect and purge them; replaying one is `ToolRunner.replay`)."""

from __future__ import annotations

from personae.kernel.resources import Resource
from personae.tools.models import DeadLetter, ToolExecution

EXECUTIONS = Resource(ToolExecution, "tool_execution", "tools")
DEAD_LETTERS = Resource(
    DeadLetter, "dead_letter", "tools", actions={"read": "approve", "delete": "approve"}
)

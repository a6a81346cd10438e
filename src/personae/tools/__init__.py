"""Tools: registry and discovery, capsules (plugins), permissions, executions, dead letters."""

"""The `personae` command line."""

"""Email a persona sends and receives."""

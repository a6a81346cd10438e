"""Conversations as event logs: sessions, events, derived messages, runs and turn records."""

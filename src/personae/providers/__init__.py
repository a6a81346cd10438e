"""Adapters to the outside: embedding models (and, later, LLMs and scanners).

Each adapter is the one place its outside library or protocol is touched."""

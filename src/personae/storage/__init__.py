"""Buckets and objects in PostgreSQL, with file metadata and access controls."""

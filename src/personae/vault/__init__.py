"""Secrets, encrypted with AES-256-GCM under a master key that never enters the database."""

"""Tenants, people, teams, roles and permissions, invitations, sign-in sessions, API tokens."""

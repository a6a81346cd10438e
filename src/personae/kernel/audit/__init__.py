"""The audit trail: one append-only `audit_events` log per tenant."""

"""What every area stands on: who is asking (`principal`), what may be asked for
(`permissions`), the audit trail every change writes (`audit`), and the generic tenant
resource (`resources`). The kernel imports no area."""

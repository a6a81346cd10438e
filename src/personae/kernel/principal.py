"""Who is asking: a user or an API token, in one tenant, with a set of permissions."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from personae.errors import Forbidden, ValidationFailed
from personae.kernel.permissions import CATALOGUE


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "token", "system"]
    tenant_id: uuid.UUID
    permissions: frozenset[str] = field(default_factory=frozenset)
    user_id: uuid.UUID | None = None
    token_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    ip_address: str | None = None
    trace_id: str | None = None
    scopes: frozenset[str] | None = None
    """A token's own scopes (None for users): they bound what a share of a resource allows
    too, not only what the creator's tenant role allows."""

    @property
    def actor_id(self) -> uuid.UUID | None:
        return self.token_id if self.kind == "token" else self.user_id

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def scoped_for(self, permission: str) -> bool:
        """Whether a right held otherwise than by role (a share) may be used for `permission`:
        always for users, for tokens only within their scopes."""
        return self.scopes is None or permission in self.scopes

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden(f"this needs the permission {permission}")

    def check_grantable(self, requested: Iterable[str], *, field: str) -> None:
        """Refuse permissions that do not exist, or that this principal does not hold."""
        wanted = set(requested)
        unknown = sorted(wanted - set(CATALOGUE))
        if unknown:
            raise ValidationFailed(f"unknown permissions: {', '.join(unknown)}", field=field)
        beyond = sorted(wanted - self.permissions)
        if beyond:
            raise ValidationFailed(
                f"you cannot grant permissions you do not hold: {', '.join(beyond)}", field=field
            )

    @classmethod
    def system(cls, tenant_id: uuid.UUID) -> Principal:
        """The installation itself acting in a tenant (CLI, jobs): every permission."""
        return cls(kind="system", tenant_id=tenant_id, permissions=frozenset(CATALOGUE))

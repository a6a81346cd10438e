"""The whole data model in one place: importing this registers every table on `Base.metadata`.

Used by migrations (autogenerate, drift checks) and by tests that walk all tables."""

from __future__ import annotations

from sqlalchemy import MetaData

from personae.behavior import models as behavior_models
from personae.db.base import GLOBAL_TABLES, Base
from personae.identity import models as identity_models
from personae.kernel.audit import models as audit_models
from personae.knowledge import models as knowledge_models
from personae.mail import models as mail_models
from personae.memory import models as memory_models
from personae.personas import models as personas_models
from personae.profiles import models as profiles_models
from personae.retrieval import models as retrieval_models
from personae.sessions import models as sessions_models
from personae.settings_store import models as settings_models
from personae.storage import models as storage_models
from personae.telemetry import models as telemetry_models
from personae.tools import models as tools_models
from personae.vault import models as vault_models

AREAS = (
    identity_models,
    audit_models,
    vault_models,
    settings_models,
    personas_models,
    behavior_models,
    sessions_models,
    tools_models,
    knowledge_models,
    memory_models,
    profiles_models,
    retrieval_models,
    mail_models,
    storage_models,
    telemetry_models,
)

metadata: MetaData = Base.metadata


def tenant_owned_tables() -> list[str]:
    """Names of every tenant-owned table (all but the few global ones), sorted."""
    return sorted(name for name in metadata.tables if name not in GLOBAL_TABLES)


__all__ = ["AREAS", "metadata", "tenant_owned_tables"]

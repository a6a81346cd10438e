"""the unified schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Every table of the entity map (docs/entity-map.md), with row-level security on each
tenant-owned table, the application role and its grants, and monthly partitions.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "personae_app"

TENANT_TABLES = (
    "access_controls",
    "agent_components",
    "agent_metrics",
    "agent_skins",
    "agent_templates",
    "agents",
    "alerts",
    "anomalies",
    "api_tokens",
    "attachments",
    "audit_events",
    "auth_sessions",
    "business_metrics",
    "capsule_dependencies",
    "capsules",
    "channel_identities",
    "chunks",
    "collection_items",
    "collections",
    "component_connections",
    "component_templates",
    "customer_profiles",
    "dead_letters",
    "document_categories",
    "document_category_associations",
    "document_tag_associations",
    "document_tags",
    "document_teams",
    "document_versions",
    "documents",
    "emails",
    "embeddings",
    "entities",
    "entity_document_associations",
    "entity_mentions",
    "entity_types",
    "episodes",
    "events",
    "feature_flags",
    "file_metadata",
    "forecast_models",
    "forecasts",
    "messages",
    "migration_plans",
    "model_configs",
    "organization_invitations",
    "persona_health_metrics",
    "persona_members",
    "persona_tools",
    "personas",
    "profile_assets",
    "profile_fields",
    "prompt_templates",
    "relationship_types",
    "relationships",
    "role_permissions",
    "roles",
    "rules",
    "run_steps",
    "runs",
    "scenario_archives",
    "scenarios",
    "search_queries",
    "search_results",
    "secrets",
    "session_events",
    "sessions",
    "settings",
    "skin_ratings",
    "storage_buckets",
    "storage_objects",
    "team_members",
    "teams",
    "telemetry_events",
    "telemetry_sessions",
    "templates",
    "tenant_members",
    "tool_activations",
    "tool_dependencies",
    "tool_executions",
    "tools",
    "turn_records",
    "user_activity",
    "user_roles",
    "variables",
)
"""Tenant-owned tables at this revision: RLS enabled and forced, one isolation policy."""

PARTITIONED_TABLES = (
    "system_metrics",
    "business_metrics",
    "agent_metrics",
    "user_activity",
    "events",
    "alerts",
    "anomalies",
    "forecasts",
)
"""Time series partitioned by month on `time`."""

APPEND_ONLY_TABLES = ("audit_events",)
"""The application role may read and insert these, never update or delete."""

FUNCTIONS = (
    """
CREATE OR REPLACE FUNCTION personae_uuidv7() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;
""",
    """
CREATE OR REPLACE FUNCTION personae_current_tenant() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT NULLIF(current_setting('personae.tenant_id', true), '')::uuid
$$;
""",
    """
CREATE OR REPLACE FUNCTION personae_ensure_partitions(
    parent regclass, months_back integer DEFAULT 1, months_ahead integer DEFAULT 3
) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  first_month date := date_trunc('month', now() - make_interval(months => months_back))::date;
  month date;
  part text;
  tenant_owned boolean;
  created integer := 0;
BEGIN
  SELECT EXISTS (
    SELECT 1 FROM pg_attribute WHERE attrelid = parent AND attname = 'tenant_id' AND NOT attisdropped
  ) INTO tenant_owned;
  FOR i IN 0 .. months_back + months_ahead LOOP
    month := (first_month + make_interval(months => i))::date;
    part := format('%s_p%s', parent::text, to_char(month, 'YYYYMM'));
    IF to_regclass(part) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                     part, parent, month, (month + interval '1 month')::date);
      IF tenant_owned THEN
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', part);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', part);
        EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = personae_current_tenant()) '
                       'WITH CHECK (tenant_id = personae_current_tenant())', part);
      END IF;
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END;
$$;
""",
)


def _create_app_role() -> None:
    op.execute(
        f"""
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
          END IF;
        END
        $$;
        """
    )


def _isolate(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        "USING (tenant_id = personae_current_tenant()) "
        "WITH CHECK (tenant_id = personae_current_tenant())"
    )


def _partition(table: str) -> None:
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    if table in TENANT_TABLES:
        _isolate(f"{table}_default")
    op.execute(f"SELECT personae_ensure_partitions('{table}'::regclass)")


def _grant() -> None:
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {APP_ROLE}")
    op.execute(f"GRANT SELECT ON alembic_version TO {APP_ROLE}")
    for table in APPEND_ONLY_TABLES:
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {APP_ROLE}")
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}"
    )


def _revoke() -> None:
    op.execute(
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}"
    )
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}"
    )
    op.execute(f"REVOKE ALL ON alembic_version FROM {APP_ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {APP_ROLE}")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    for function in FUNCTIONS:
        op.execute(function)
    _create_app_role()
    op.create_table(
        "embedding_models",
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("dimensions", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=50), server_default="1", nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "configuration",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("is_lexical", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_default", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("dimensions > 0", name=op.f("ck_embedding_models_dimensions_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embedding_models")),
        sa.UniqueConstraint(
            "provider", "name", "version", name=op.f("uq_embedding_models_provider_name_version")
        ),
    )
    op.create_table(
        "permissions",
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("resource", sa.String(length=50), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permissions")),
        sa.UniqueConstraint("name", name=op.f("uq_permissions_name")),
    )
    op.create_table(
        "system_metrics",
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column(
            "time", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("metric_name", sa.String(length=255), nullable=False),
        sa.Column("metric_value", sa.Double(), nullable=False),
        sa.Column(
            "tags",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", "time", name=op.f("pk_system_metrics")),
        postgresql_partition_by="RANGE (time)",
    )
    op.create_index(
        "ix_system_metrics_name_time", "system_metrics", ["metric_name", "time"], unique=False
    )
    op.create_table(
        "system_settings",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_system_settings")),
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column(
            "config",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "feature_profile", sa.String(length=20), server_default="standard", nullable=False
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "feature_profile IN ('minimal', 'standard', 'enhanced', 'max')",
            name=op.f("ck_tenants_feature_profile_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    op.create_index(
        "uq_tenants_slug",
        "tenants",
        ["slug"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("locale", sa.String(length=35), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=50), server_default="user", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("is_super_admin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "app_metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "user_metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'user')", name=op.f("ck_users_role_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(
        "idx_users_email",
        "users",
        [sa.literal_column("lower(email)")],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index("idx_users_role", "users", ["role"], unique=False)
    op.create_table(
        "agent_metrics",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column(
            "time", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("agent_id", sa.UUID(), nullable=True),
        sa.Column("execution_id", sa.UUID(), nullable=True),
        sa.Column("metric_name", sa.String(length=255), nullable=False),
        sa.Column("metric_value", sa.Double(), nullable=False),
        sa.Column(
            "tags",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_agent_metrics_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", "time", name=op.f("pk_agent_metrics")),
        postgresql_partition_by="RANGE (time)",
    )
    op.create_index(
        "ix_agent_metrics_agent_time",
        "agent_metrics",
        ["tenant_id", "agent_id", "metric_name", "time"],
        unique=False,
    )
    op.create_table(
        "agent_skins",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.String(length=50), server_default="1.0.0", nullable=False),
        sa.Column("author", sa.String(length=255), nullable=True),
        sa.Column("license", sa.String(length=100), nullable=True),
        sa.Column(
            "tags", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column(
            "variables",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("preview_url", sa.Text(), nullable=True),
        sa.Column("downloads", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "rating", sa.Numeric(precision=3, scale=2), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("downloads >= 0", name=op.f("ck_agent_skins_downloads_nonnegative")),
        sa.CheckConstraint("rating >= 0 AND rating <= 5", name=op.f("ck_agent_skins_rating_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_agent_skins_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_skins")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_agent_skins_tenant_id_name")),
    )
    op.create_index(
        "ix_agent_skins_tags", "agent_skins", ["tags"], unique=False, postgresql_using="gin"
    )
    op.create_table(
        "agent_templates",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "components",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "connections",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_agent_templates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_templates")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_agent_templates_tenant_id_name")),
    )
    op.create_table(
        "alerts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column(
            "time", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("alert_type", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("severity", sa.String(length=20), server_default="warning", nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("assigned_to", sa.UUID(), nullable=True),
        sa.CheckConstraint(
            "severity IN ('debug', 'info', 'warning', 'error', 'critical')",
            name=op.f("ck_alerts_severity_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'resolved', 'suppressed')",
            name=op.f("ck_alerts_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["assigned_to"],
            ["users.id"],
            name=op.f("fk_alerts_assigned_to_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_alerts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", "time", name=op.f("pk_alerts")),
        postgresql_partition_by="RANGE (time)",
    )
    op.create_index(
        "ix_alerts_status_time", "alerts", ["tenant_id", "status", "time"], unique=False
    )
    op.create_table(
        "anomalies",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column(
            "time", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("metric_name", sa.String(length=255), nullable=False),
        sa.Column("entity_type", sa.String(length=100), nullable=True),
        sa.Column("entity_id", sa.UUID(), nullable=True),
        sa.Column("expected_value", sa.Double(), nullable=True),
        sa.Column("actual_value", sa.Double(), nullable=False),
        sa.Column("deviation_percent", sa.Double(), nullable=True),
        sa.Column("severity", sa.String(length=20), server_default="warning", nullable=False),
        sa.CheckConstraint(
            "severity IN ('debug', 'info', 'warning', 'error', 'critical')",
            name=op.f("ck_anomalies_severity_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_anomalies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", "time", name=op.f("pk_anomalies")),
        postgresql_partition_by="RANGE (time)",
    )
    op.create_index(
        "ix_anomalies_metric_time", "anomalies", ["tenant_id", "metric_name", "time"], unique=False
    )
    op.create_table(
        "api_tokens",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column(
            "scopes", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_api_tokens_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint(
            "tenant_id", "token_hash", name=op.f("uq_api_tokens_tenant_id_token_hash")
        ),
    )
    op.create_index("ix_api_tokens_token_hash", "api_tokens", ["token_hash"], unique=False)
    op.create_table(
        "audit_events",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("event_category", sa.String(length=50), server_default="action", nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("actor_type", sa.String(length=20), server_default="system", nullable=False),
        sa.Column("actor_id", sa.UUID(), nullable=True),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("resource_type", sa.String(length=100), nullable=True),
        sa.Column("resource_id", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("result", sa.String(length=50), nullable=True),
        sa.Column(
            "event_data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("persona_id", sa.UUID(), nullable=True),
        sa.Column("session_id", sa.UUID(), nullable=True),
        sa.Column("run_id", sa.UUID(), nullable=True),
        sa.Column("turn_id", sa.UUID(), nullable=True),
        sa.Column("execution_id", sa.UUID(), nullable=True),
        sa.Column("trace_id", sa.String(length=255), nullable=True),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "actor_type IN ('user', 'token', 'system', 'agent')",
            name=op.f("ck_audit_events_actor_type_valid"),
        ),
        sa.CheckConstraint(
            "event_category IN ('action', 'access', 'error', 'system')",
            name=op.f("ck_audit_events_event_category_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_audit_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_audit_events")),
    )
    op.create_index(
        "idx_audit_events_created",
        "audit_events",
        ["tenant_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index(
        "idx_audit_events_persona_id",
        "audit_events",
        ["tenant_id", "persona_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "idx_audit_events_run_id", "audit_events", ["tenant_id", "run_id"], unique=False
    )
    op.create_index(
        "idx_audit_events_session",
        "audit_events",
        ["tenant_id", "session_id"],
        unique=False,
        postgresql_where=sa.text("session_id IS NOT NULL"),
    )
    op.create_index("idx_audit_events_trace_id", "audit_events", ["trace_id"], unique=False)
    op.create_index(
        "idx_audit_events_type", "audit_events", ["tenant_id", "event_type"], unique=False
    )
    op.create_index(
        "idx_audit_events_user_id", "audit_events", ["tenant_id", "user_id"], unique=False
    )
    op.create_index(
        "ix_audit_events_resource",
        "audit_events",
        ["tenant_id", "resource_type", "resource_id"],
        unique=False,
    )
    op.create_table(
        "auth_sessions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("family_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("aal", sa.String(length=10), server_default="aal1", nullable=False),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=50), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("aal IN ('aal1', 'aal2')", name=op.f("ck_auth_sessions_aal_valid")),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_auth_sessions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_auth_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_auth_sessions")),
        sa.UniqueConstraint(
            "tenant_id", "token_hash", name=op.f("uq_auth_sessions_tenant_id_token_hash")
        ),
    )
    op.create_index("idx_sessions_expires_at", "auth_sessions", ["expires_at"], unique=False)
    op.create_index("idx_sessions_token_hash", "auth_sessions", ["token_hash"], unique=False)
    op.create_index(
        "ix_auth_sessions_family", "auth_sessions", ["tenant_id", "family_id"], unique=False
    )
    op.create_index("ix_auth_sessions_user_id", "auth_sessions", ["user_id"], unique=False)
    op.create_table(
        "business_metrics",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column(
            "time", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("metric_name", sa.String(length=255), nullable=False),
        sa.Column("metric_value", sa.Double(), nullable=False),
        sa.Column(
            "dimensions",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_business_metrics_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", "time", name=op.f("pk_business_metrics")),
        postgresql_partition_by="RANGE (time)",
    )
    op.create_index(
        "ix_business_metrics_name_time",
        "business_metrics",
        ["tenant_id", "metric_name", "time"],
        unique=False,
    )
    op.create_table(
        "capsules",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column(
            "manifest",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("installed", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("downloads", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rating", sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 0 AND rating <= 5)", name=op.f("ck_capsules_rating_range")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_capsules_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_capsules")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_capsules_tenant_id_name")),
    )
    op.create_table(
        "collections",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("model_id", sa.UUID(), nullable=True),
        sa.Column(
            "metadata_schema",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["embedding_models.id"],
            name=op.f("fk_collections_model_id_embedding_models"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_collections_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_collections")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_collections_tenant_id_name")),
    )
    op.create_table(
        "component_templates",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("component_type", sa.String(length=100), nullable=False),
        sa.Column(
            "configuration_schema",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "default_configuration",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_component_templates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_component_templates")),
        sa.UniqueConstraint(
            "tenant_id", "name", name=op.f("uq_component_templates_tenant_id_name")
        ),
    )
    op.create_table(
        "customer_profiles",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("merged_into_id", sa.UUID(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "merged_into_id IS NULL OR merged_into_id <> id",
            name=op.f("ck_customer_profiles_not_merged_into_self"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "merged_into_id"],
            ["customer_profiles.tenant_id", "customer_profiles.id"],
            name=op.f("fk_customer_profiles_tenant_id_merged_into_id_customer_profiles"),
            ondelete="SET NULL (merged_into_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_customer_profiles_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_customer_profiles")),
    )
    op.create_index(
        "uq_profiles_external",
        "customer_profiles",
        ["tenant_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "document_categories",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("parent_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id",
            name=op.f("ck_document_categories_not_own_parent"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["document_categories.tenant_id", "document_categories.id"],
            name=op.f("fk_document_categories_tenant_id_parent_id_document_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_document_categories_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_document_categories")),
    )
    op.create_index(
        "uq_document_categories_name",
        "document_categories",
        ["tenant_id", "parent_id", "name"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "document_tags",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_document_tags_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_document_tags")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_document_tags_tenant_id_name")),
    )
    op.create_table(
        "embeddings",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("embedding", Vector(384), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("entity_type", sa.String(length=100), nullable=True),
        sa.Column("entity_id", sa.UUID(), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("model_id", sa.UUID(), nullable=True),
        sa.Column("dimensions", sa.Integer(), server_default=sa.text("384"), nullable=False),
        sa.Column(
            "content_tsv",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english'::regconfig, coalesce(content, ''))", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["embedding_models.id"],
            name=op.f("fk_embeddings_model_id_embedding_models"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_embeddings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_embeddings")),
    )
    op.create_index(
        "ix_embeddings_content_tsv_gin",
        "embeddings",
        ["content_tsv"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_embeddings_embedding_hnsw",
        "embeddings",
        ["embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_index(
        "ix_embeddings_entity",
        "embeddings",
        ["tenant_id", "entity_type", "entity_id"],
        unique=False,
    )
    op.create_table(
        "entity_types",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "attributes_schema",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_entity_types_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_entity_types")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_entity_types_tenant_id_name")),
    )
    op.create_table(
        "events",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column(
            "time", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("entity_type", sa.String(length=100), nullable=True),
        sa.Column("entity_id", sa.UUID(), nullable=True),
        sa.Column("severity", sa.String(length=20), server_default="info", nullable=False),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "severity IN ('debug', 'info', 'warning', 'error', 'critical')",
            name=op.f("ck_events_severity_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", "time", name=op.f("pk_events")),
        postgresql_partition_by="RANGE (time)",
    )
    op.create_index(
        "ix_events_entity", "events", ["tenant_id", "entity_type", "entity_id"], unique=False
    )
    op.create_index(
        "ix_events_type_time", "events", ["tenant_id", "event_type", "time"], unique=False
    )
    op.create_table(
        "feature_flags",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("flag_key", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("profile", sa.String(length=20), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "profile IN ('minimal', 'standard', 'enhanced', 'max')",
            name=op.f("ck_feature_flags_profile_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_feature_flags_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_feature_flags")),
        sa.UniqueConstraint(
            "tenant_id", "flag_key", name=op.f("uq_feature_flags_tenant_id_flag_key")
        ),
    )
    op.create_table(
        "forecast_models",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("target_metric", sa.String(length=255), nullable=False),
        sa.Column("model_type", sa.String(length=100), nullable=False),
        sa.Column(
            "parameters",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "accuracy_metrics",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_forecast_models_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_forecast_models")),
    )
    op.create_index(
        "uq_forecast_models_name", "forecast_models", ["tenant_id", "name"], unique=True
    )
    op.create_table(
        "identities",
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column(
            "identity_data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_identities_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
        sa.UniqueConstraint("provider", "subject", name=op.f("uq_identities_provider_subject")),
    )
    op.create_index(op.f("ix_identities_user_id"), "identities", ["user_id"], unique=False)
    op.create_table(
        "personas",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("system_prompt", sa.Text(), server_default="", nullable=False),
        sa.Column("owner_id", sa.UUID(), nullable=True),
        sa.Column(
            "default_provider", sa.String(length=50), server_default="openai", nullable=False
        ),
        sa.Column(
            "fallback_providers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "neuromodulators",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text(
                '\'{"dopamine": 0.5, "serotonin": 0.5, "noradrenaline": 0.5, "acetylcholine": 0.5}\'::jsonb'
            ),
            nullable=False,
        ),
        sa.Column(
            "adaptation_state",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("container_id", sa.String(length=255), nullable=True),
        sa.Column(
            "search_tsv",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector('english'::regconfig, coalesce(name, '') || ' ' || coalesce(description, ''))",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_personas_name_not_empty")),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_personas_owner_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_personas_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_personas")),
    )
    op.create_index("idx_personas_name", "personas", ["tenant_id", "name"], unique=False)
    op.create_index("idx_personas_owner_id", "personas", ["tenant_id", "owner_id"], unique=False)
    op.create_index(
        "ix_personas_search_tsv_gin",
        "personas",
        ["search_tsv"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "relationship_types",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("inverse_name", sa.String(length=100), nullable=True),
        sa.Column("is_exclusive", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_relationship_types_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_relationship_types")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_relationship_types_tenant_id_name")),
    )
    op.create_table(
        "roles",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_builtin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_roles_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_roles")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_roles_tenant_id_name")),
    )
    op.create_table(
        "search_queries",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("query_text", sa.Text(), nullable=False),
        sa.Column("query_embedding", Vector(384), nullable=True),
        sa.Column("model_id", sa.UUID(), nullable=True),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("mode", sa.String(length=10), server_default="hybrid", nullable=False),
        sa.Column(
            "filters",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("top_k", sa.Integer(), server_default=sa.text("10"), nullable=False),
        sa.Column("similarity_threshold", sa.Double(), nullable=True),
        sa.Column("latency_ms", sa.Double(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "mode IN ('vector', 'text', 'hybrid')", name=op.f("ck_search_queries_mode_valid")
        ),
        sa.CheckConstraint("top_k > 0", name=op.f("ck_search_queries_top_k_positive")),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["embedding_models.id"],
            name=op.f("fk_search_queries_model_id_embedding_models"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_search_queries_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_search_queries_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_search_queries")),
    )
    op.create_index(
        "ix_search_queries_created", "search_queries", ["tenant_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_search_queries_query_embedding_hnsw",
        "search_queries",
        ["query_embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"query_embedding": "vector_cosine_ops"},
    )
    op.create_table(
        "secrets",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("scope", sa.String(length=20), server_default="tenant", nullable=False),
        sa.Column("scope_id", sa.UUID(), nullable=True),
        sa.Column("secret_type", sa.String(length=50), nullable=False),
        sa.Column("key_name", sa.String(length=255), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("key_version", sa.SmallInteger(), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("last_revealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "scope IN ('tenant', 'persona', 'agent', 'user')", name=op.f("ck_secrets_scope_valid")
        ),
        sa.CheckConstraint(
            "secret_type IN ('llm_provider_key', 'email_imap', 'email_smtp', 'agent_setting', 'other')",
            name=op.f("ck_secrets_secret_type_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_secrets_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_secrets_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_secrets")),
    )
    op.create_index("idx_secrets_persona_id", "secrets", ["tenant_id", "scope_id"], unique=False)
    op.create_index("ix_secrets_key_version", "secrets", ["key_version"], unique=False)
    op.create_index(
        "uq_secrets_scope_type_key",
        "secrets",
        ["tenant_id", "scope", "scope_id", "secret_type", "key_name"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "storage_buckets",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.UUID(), nullable=True),
        sa.Column("public", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("file_size_limit", sa.BigInteger(), nullable=True),
        sa.Column("allowed_mime_types", sa.ARRAY(sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "file_size_limit IS NULL OR file_size_limit > 0",
            name=op.f("ck_storage_buckets_limit_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["owner"],
            ["users.id"],
            name=op.f("fk_storage_buckets_owner_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_storage_buckets_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_storage_buckets")),
    )
    op.create_index(
        "uq_storage_buckets_name", "storage_buckets", ["tenant_id", "name"], unique=True
    )
    op.create_table(
        "teams",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_teams_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_teams")),
    )
    op.create_index(
        "uq_teams_tenant_name",
        "teams",
        ["tenant_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "tenant_members",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('active', 'suspended')", name=op.f("ck_tenant_members_status_valid")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_members_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_tenant_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_tenant_members")),
        sa.UniqueConstraint(
            "tenant_id", "user_id", name=op.f("uq_tenant_members_tenant_id_user_id")
        ),
    )
    op.create_index("ix_tenant_members_user_id", "tenant_members", ["user_id"], unique=False)
    op.create_table(
        "user_activity",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column(
            "time", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("activity_type", sa.String(length=100), nullable=False),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("ip_address", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_user_activity_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", "time", name=op.f("pk_user_activity")),
        postgresql_partition_by="RANGE (time)",
    )
    op.create_index(
        "ix_user_activity_user_time",
        "user_activity",
        ["tenant_id", "user_id", "time"],
        unique=False,
    )
    op.create_table(
        "agents",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("persona_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("system_prompt_override", sa.Text(), nullable=True),
        sa.Column("preferred_provider", sa.String(length=50), nullable=True),
        sa.Column("default_model", sa.String(length=100), nullable=True),
        sa.Column(
            "fallback_models",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("tool_permissions", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "configuration",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_agents_tenant_id_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_agents_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agents")),
    )
    op.create_index("idx_agents_persona_id", "agents", ["tenant_id", "persona_id"], unique=False)
    op.create_index(
        "idx_agents_tenant",
        "agents",
        ["tenant_id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "uq_agents_tenant_name",
        "agents",
        ["tenant_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "capsule_dependencies",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("capsule_id", sa.UUID(), nullable=False),
        sa.Column("depends_on_name", sa.String(length=255), nullable=False),
        sa.Column("depends_on_id", sa.UUID(), nullable=True),
        sa.Column("version_constraint", sa.String(length=100), server_default="*", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "capsule_id"],
            ["capsules.tenant_id", "capsules.id"],
            name=op.f("fk_capsule_dependencies_tenant_id_capsule_id_capsules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "depends_on_id"],
            ["capsules.tenant_id", "capsules.id"],
            name=op.f("fk_capsule_dependencies_tenant_id_depends_on_id_capsules"),
            ondelete="SET NULL (depends_on_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_capsule_dependencies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_capsule_dependencies")),
        sa.UniqueConstraint(
            "tenant_id",
            "capsule_id",
            "depends_on_name",
            name=op.f("uq_capsule_dependencies_tenant_id_capsule_id_depends_on_name"),
        ),
    )
    op.create_index(
        "ix_capsule_dependencies_depends_on",
        "capsule_dependencies",
        ["tenant_id", "depends_on_id"],
        unique=False,
    )
    op.create_table(
        "channel_identities",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("profile_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.String(length=50), nullable=False),
        sa.Column("channel_user_id", sa.String(length=255), nullable=False),
        sa.Column("verified", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "profile_id"],
            ["customer_profiles.tenant_id", "customer_profiles.id"],
            name=op.f("fk_channel_identities_tenant_id_profile_id_customer_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_channel_identities_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_channel_identities")),
        sa.UniqueConstraint("tenant_id", "channel", "channel_user_id", name="uq_channel_identity"),
    )
    op.create_index(
        "idx_channel_identities_profile",
        "channel_identities",
        ["tenant_id", "profile_id"],
        unique=False,
    )
    op.create_table(
        "documents",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("persona_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("mime_type", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=50), server_default="processing", nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("current_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("uploaded_by", sa.UUID(), nullable=True),
        sa.Column(
            "name_tsv",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english'::regconfig, coalesce(name, ''))", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('processing', 'completed', 'failed')",
            name=op.f("ck_documents_status_valid"),
        ),
        sa.CheckConstraint(
            "file_size IS NULL OR file_size >= 0", name=op.f("ck_documents_file_size_nonnegative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_documents_tenant_id_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_documents_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
            name=op.f("fk_documents_uploaded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_documents")),
    )
    op.create_index(
        "idx_documents_created_at", "documents", ["tenant_id", "created_at"], unique=False
    )
    op.create_index(
        "idx_documents_persona_id", "documents", ["tenant_id", "persona_id"], unique=False
    )
    op.create_index("idx_documents_status", "documents", ["tenant_id", "status"], unique=False)
    op.create_index(
        "ix_documents_name_tsv_gin", "documents", ["name_tsv"], unique=False, postgresql_using="gin"
    )
    op.create_table(
        "forecasts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column(
            "time", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("model_id", sa.UUID(), nullable=False),
        sa.Column("metric_name", sa.String(length=255), nullable=False),
        sa.Column("entity_type", sa.String(length=100), nullable=True),
        sa.Column("entity_id", sa.UUID(), nullable=True),
        sa.Column("forecast_value", sa.Double(), nullable=False),
        sa.Column("confidence_lower", sa.Double(), nullable=True),
        sa.Column("confidence_upper", sa.Double(), nullable=True),
        sa.CheckConstraint(
            "confidence_lower IS NULL OR confidence_upper IS NULL OR confidence_lower <= confidence_upper",
            name=op.f("ck_forecasts_interval_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "model_id"],
            ["forecast_models.tenant_id", "forecast_models.id"],
            name=op.f("fk_forecasts_tenant_id_model_id_forecast_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_forecasts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", "time", name=op.f("pk_forecasts")),
        postgresql_partition_by="RANGE (time)",
    )
    op.create_index(
        "ix_forecasts_model_time", "forecasts", ["tenant_id", "model_id", "time"], unique=False
    )
    op.create_table(
        "model_configs",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("model_type", sa.String(length=20), server_default="chat", nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("model_name", sa.String(length=255), nullable=False),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("api_key_secret_id", sa.UUID(), nullable=True),
        sa.Column("context_length", sa.Integer(), nullable=True),
        sa.Column("rpm", sa.Integer(), nullable=True),
        sa.Column("tpm", sa.Integer(), nullable=True),
        sa.Column(
            "kwargs",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("vision", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "model_type IN ('chat', 'utility', 'embedding', 'browser', 'vision')",
            name=op.f("ck_model_configs_model_type_valid"),
        ),
        sa.CheckConstraint(
            "context_length IS NULL OR context_length > 0",
            name=op.f("ck_model_configs_context_positive"),
        ),
        sa.CheckConstraint("rpm IS NULL OR rpm > 0", name=op.f("ck_model_configs_rpm_positive")),
        sa.CheckConstraint("tpm IS NULL OR tpm > 0", name=op.f("ck_model_configs_tpm_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "api_key_secret_id"],
            ["secrets.tenant_id", "secrets.id"],
            name=op.f("fk_model_configs_tenant_id_api_key_secret_id_secrets"),
            ondelete="SET NULL (api_key_secret_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_model_configs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_model_configs")),
    )
    op.create_index(
        "uq_model_configs_tenant_name",
        "model_configs",
        ["tenant_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "organization_invitations",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("role_id", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.UUID(), nullable=True),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("invited_by", sa.UUID(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["users.id"],
            name=op.f("fk_organization_invitations_invited_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["roles.tenant_id", "roles.id"],
            name=op.f("fk_organization_invitations_tenant_id_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "team_id"],
            ["teams.tenant_id", "teams.id"],
            name=op.f("fk_organization_invitations_tenant_id_team_id_teams"),
            ondelete="SET NULL (team_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_organization_invitations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_organization_invitations")),
        sa.UniqueConstraint(
            "tenant_id", "token_hash", name=op.f("uq_organization_invitations_tenant_id_token_hash")
        ),
    )
    op.create_index(
        "ix_organization_invitations_email",
        "organization_invitations",
        ["tenant_id", sa.literal_column("lower(email)")],
        unique=False,
    )
    op.create_table(
        "persona_health_metrics",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("persona_id", sa.UUID(), nullable=False),
        sa.Column("cpu_percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("memory_mb", sa.Integer(), nullable=True),
        sa.Column("memory_percent", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("disk_usage_gb", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("llm_calls_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("estimated_cost", sa.Numeric(precision=10, scale=4), nullable=True),
        sa.Column("active_runs_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "measured_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "cpu_percent BETWEEN 0 AND 100",
            name=op.f("ck_persona_health_metrics_cpu_percent_range"),
        ),
        sa.CheckConstraint(
            "memory_percent BETWEEN 0 AND 100",
            name=op.f("ck_persona_health_metrics_memory_percent_range"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_persona_health_metrics_tenant_id_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_persona_health_metrics_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_persona_health_metrics")),
    )
    op.create_index(
        "idx_persona_health_measured_at", "persona_health_metrics", ["measured_at"], unique=False
    )
    op.create_index(
        "idx_persona_health_persona_time",
        "persona_health_metrics",
        ["tenant_id", "persona_id", "measured_at"],
        unique=False,
    )
    op.create_table(
        "persona_members",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("persona_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.String(length=50), server_default="editor", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('editor', 'viewer')", name=op.f("ck_persona_members_role_valid")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_persona_members_tenant_id_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_persona_members_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_persona_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_persona_members")),
        sa.UniqueConstraint(
            "tenant_id",
            "persona_id",
            "user_id",
            name=op.f("uq_persona_members_tenant_id_persona_id_user_id"),
        ),
    )
    op.create_index("idx_persona_members_user_id", "persona_members", ["user_id"], unique=False)
    op.create_table(
        "profile_assets",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("profile_id", sa.UUID(), nullable=False),
        sa.Column("asset_type", sa.String(length=50), nullable=False),
        sa.Column("asset_reference", sa.String(length=500), nullable=False),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "profile_id"],
            ["customer_profiles.tenant_id", "customer_profiles.id"],
            name=op.f("fk_profile_assets_tenant_id_profile_id_customer_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_profile_assets_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_profile_assets")),
    )
    op.create_index(
        "idx_profile_assets_type",
        "profile_assets",
        ["tenant_id", "profile_id", "asset_type"],
        unique=False,
    )
    op.create_table(
        "profile_fields",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("profile_id", sa.UUID(), nullable=False),
        sa.Column("field_name", sa.String(length=255), nullable=False),
        sa.Column("field_value", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("confidence", sa.Double(), server_default=sa.text("1.0"), nullable=False),
        sa.Column("verified", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "valid_from",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "source IN ('USER_PROVIDED', 'EXTRACTED', 'INFERRED', 'SYSTEM')",
            name=op.f("ck_profile_fields_source_valid"),
        ),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name=op.f("ck_profile_fields_confidence_range")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from",
            name=op.f("ck_profile_fields_validity_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "profile_id"],
            ["customer_profiles.tenant_id", "customer_profiles.id"],
            name=op.f("fk_profile_fields_tenant_id_profile_id_customer_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_profile_fields_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_profile_fields")),
    )
    op.create_index(
        "idx_profile_fields_name",
        "profile_fields",
        ["tenant_id", "profile_id", "field_name"],
        unique=False,
    )
    op.create_table(
        "prompt_templates",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("capsule_id", sa.UUID(), nullable=True),
        sa.Column("template_name", sa.String(length=255), nullable=False),
        sa.Column("template_content", sa.Text(), nullable=False),
        sa.Column(
            "variables",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "capsule_id"],
            ["capsules.tenant_id", "capsules.id"],
            name=op.f("fk_prompt_templates_tenant_id_capsule_id_capsules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_prompt_templates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_prompt_templates")),
    )
    op.create_index(
        "uq_prompt_templates_name",
        "prompt_templates",
        ["tenant_id", "capsule_id", "template_name"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "role_permissions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("role_id", sa.UUID(), nullable=False),
        sa.Column("permission_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["permission_id"],
            ["permissions.id"],
            name=op.f("fk_role_permissions_permission_id_permissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["roles.tenant_id", "roles.id"],
            name=op.f("fk_role_permissions_tenant_id_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_role_permissions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "role_id", "permission_id", name=op.f("pk_role_permissions")
        ),
    )
    op.create_table(
        "settings",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("scope_id", sa.UUID(), nullable=True),
        sa.Column("namespace", sa.String(length=20), server_default="general", nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("storage_type", sa.String(length=10), server_default="plain", nullable=False),
        sa.Column("secret_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(scope = 'tenant') = (scope_id IS NULL)",
            name=op.f("ck_settings_scope_id_matches_scope"),
        ),
        sa.CheckConstraint(
            "namespace IN ('general', 'ui', 'agent')", name=op.f("ck_settings_namespace_valid")
        ),
        sa.CheckConstraint(
            "scope IN ('tenant', 'user', 'persona')", name=op.f("ck_settings_scope_valid")
        ),
        sa.CheckConstraint(
            "storage_type <> 'vault' OR (secret_id IS NOT NULL AND value IS NULL)",
            name=op.f("ck_settings_vault_values_in_vault"),
        ),
        sa.CheckConstraint(
            "storage_type IN ('plain', 'vault')", name=op.f("ck_settings_storage_type_valid")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "secret_id"],
            ["secrets.tenant_id", "secrets.id"],
            name=op.f("fk_settings_tenant_id_secret_id_secrets"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_settings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_settings")),
    )
    op.create_index(
        "uq_settings_scope_key",
        "settings",
        ["tenant_id", "scope", "scope_id", "namespace", "key"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "skin_ratings",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("skin_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("review", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_skin_ratings_rating_range")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "skin_id"],
            ["agent_skins.tenant_id", "agent_skins.id"],
            name=op.f("fk_skin_ratings_tenant_id_skin_id_agent_skins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_skin_ratings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_skin_ratings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_skin_ratings")),
        sa.UniqueConstraint(
            "tenant_id",
            "skin_id",
            "user_id",
            name=op.f("uq_skin_ratings_tenant_id_skin_id_user_id"),
        ),
    )
    op.create_table(
        "storage_objects",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("bucket_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("owner", sa.UUID(), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "path_tokens",
            sa.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("mime_type", sa.String(length=255), nullable=True),
        sa.Column("size", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("size >= 0", name=op.f("ck_storage_objects_size_nonnegative")),
        sa.ForeignKeyConstraint(
            ["owner"],
            ["users.id"],
            name=op.f("fk_storage_objects_owner_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "bucket_id"],
            ["storage_buckets.tenant_id", "storage_buckets.id"],
            name=op.f("fk_storage_objects_tenant_id_bucket_id_storage_buckets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_storage_objects_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_storage_objects")),
    )
    op.create_index(
        "ix_storage_objects_sha256", "storage_objects", ["tenant_id", "sha256"], unique=False
    )
    op.create_index(
        "uq_storage_objects_name",
        "storage_objects",
        ["tenant_id", "bucket_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "team_members",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("team_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.String(length=20), server_default="member", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("role IN ('lead', 'member')", name=op.f("ck_team_members_role_valid")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "team_id"],
            ["teams.tenant_id", "teams.id"],
            name=op.f("fk_team_members_tenant_id_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_team_members_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_team_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_team_members")),
        sa.UniqueConstraint(
            "tenant_id",
            "team_id",
            "user_id",
            name=op.f("uq_team_members_tenant_id_team_id_user_id"),
        ),
    )
    op.create_index(
        "ix_team_members_user_id", "team_members", ["tenant_id", "user_id"], unique=False
    )
    op.create_table(
        "tools",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("schema", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("code_type", sa.String(length=50), server_default="python", nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=True),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("class_name", sa.String(length=255), nullable=True),
        sa.Column("capsule_id", sa.UUID(), nullable=True),
        sa.Column("is_builtin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "requires_approval", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "settings",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("description_embedding", Vector(384), nullable=True),
        sa.Column("embedding_model", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "description_tsv",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector('english'::regconfig, coalesce(name, '') || ' ' || coalesce(description, ''))",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "code_type IN ('builtin', 'python', 'http', 'javascript')",
            name=op.f("ck_tools_code_type_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_tools_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "capsule_id"],
            ["capsules.tenant_id", "capsules.id"],
            name=op.f("fk_tools_tenant_id_capsule_id_capsules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tools_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_tools")),
    )
    op.create_index("idx_tools_category", "tools", ["tenant_id", "category"], unique=False)
    op.create_index(
        "idx_tools_name",
        "tools",
        ["tenant_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_tools_description_embedding_hnsw",
        "tools",
        ["description_embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"description_embedding": "vector_cosine_ops"},
    )
    op.create_index(
        "ix_tools_description_tsv_gin",
        "tools",
        ["description_tsv"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "user_roles",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("role_id", sa.UUID(), nullable=False),
        sa.Column("granted_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["granted_by"],
            ["users.id"],
            name=op.f("fk_user_roles_granted_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "role_id"],
            ["roles.tenant_id", "roles.id"],
            name=op.f("fk_user_roles_tenant_id_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_user_roles_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_roles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "user_id", "role_id", name=op.f("pk_user_roles")),
    )
    op.create_index("ix_user_roles_role_id", "user_roles", ["tenant_id", "role_id"], unique=False)
    op.create_table(
        "access_controls",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("object_id", sa.UUID(), nullable=True),
        sa.Column("bucket_id", sa.UUID(), nullable=True),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("permission", sa.String(length=10), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "entity_type IN ('user', 'team', 'role', 'persona', 'token')",
            name=op.f("ck_access_controls_entity_type_valid"),
        ),
        sa.CheckConstraint(
            "permission IN ('read', 'write', 'admin')",
            name=op.f("ck_access_controls_permission_valid"),
        ),
        sa.CheckConstraint(
            "num_nonnulls(object_id, bucket_id) >= 1",
            name=op.f("ck_access_controls_targets_something"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "bucket_id"],
            ["storage_buckets.tenant_id", "storage_buckets.id"],
            name=op.f("fk_access_controls_tenant_id_bucket_id_storage_buckets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "object_id"],
            ["storage_objects.tenant_id", "storage_objects.id"],
            name=op.f("fk_access_controls_tenant_id_object_id_storage_objects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_access_controls_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_access_controls")),
    )
    op.create_index(
        "ix_access_controls_bucket", "access_controls", ["tenant_id", "bucket_id"], unique=False
    )
    op.create_index(
        "ix_access_controls_grantee",
        "access_controls",
        ["tenant_id", "entity_type", "entity_id"],
        unique=False,
    )
    op.create_index(
        "ix_access_controls_object", "access_controls", ["tenant_id", "object_id"], unique=False
    )
    op.create_table(
        "agent_components",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("agent_id", sa.UUID(), nullable=False),
        sa.Column("template_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("component_type", sa.String(length=100), nullable=False),
        sa.Column(
            "configuration",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_agent_components_tenant_id_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "template_id"],
            ["component_templates.tenant_id", "component_templates.id"],
            name=op.f("fk_agent_components_tenant_id_template_id_component_templates"),
            ondelete="SET NULL (template_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_agent_components_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_agent_components")),
    )
    op.create_index(
        "ix_agent_components_agent_id", "agent_components", ["tenant_id", "agent_id"], unique=False
    )
    op.create_table(
        "chunks",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("document_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("persona_id", sa.UUID(), nullable=True),
        sa.Column("chunk_index", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=True),
        sa.Column("embedding", Vector(384), nullable=False),
        sa.Column("embedding_model", sa.String(length=100), nullable=True),
        sa.Column("is_curated", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("source_chunk_ids", sa.ARRAY(sa.UUID()), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "text_tsv",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english'::regconfig, coalesce(text, ''))", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "is_curated OR source_chunk_ids IS NULL",
            name=op.f("ck_chunks_sources_only_when_curated"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["documents.tenant_id", "documents.id"],
            name=op.f("fk_chunks_tenant_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_chunks_tenant_id_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_chunks_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_chunks")),
    )
    op.create_index(
        "idx_chunks_document_id",
        "chunks",
        ["tenant_id", "document_id", "chunk_index"],
        unique=False,
    )
    op.create_index("idx_chunks_persona_id", "chunks", ["tenant_id", "persona_id"], unique=False)
    op.create_index(
        "ix_chunks_embedding_hnsw",
        "chunks",
        ["embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_index(
        "ix_chunks_text_tsv_gin", "chunks", ["text_tsv"], unique=False, postgresql_using="gin"
    )
    op.create_table(
        "collection_items",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("collection_id", sa.UUID(), nullable=False),
        sa.Column("embedding_id", sa.UUID(), nullable=True),
        sa.Column("document_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "num_nonnulls(embedding_id, document_id) = 1",
            name=op.f("ck_collection_items_one_member"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "collection_id"],
            ["collections.tenant_id", "collections.id"],
            name=op.f("fk_collection_items_tenant_id_collection_id_collections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["documents.tenant_id", "documents.id"],
            name=op.f("fk_collection_items_tenant_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "embedding_id"],
            ["embeddings.tenant_id", "embeddings.id"],
            name=op.f("fk_collection_items_tenant_id_embedding_id_embeddings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_collection_items_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_collection_items")),
    )
    op.create_index(
        "uq_collection_items_member",
        "collection_items",
        ["tenant_id", "collection_id", "embedding_id", "document_id"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_table(
        "document_category_associations",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("category_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "category_id"],
            ["document_categories.tenant_id", "document_categories.id"],
            name=op.f(
                "fk_document_category_associations_tenant_id_category_id_document_categories"
            ),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["documents.tenant_id", "documents.id"],
            name=op.f("fk_document_category_associations_tenant_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_document_category_associations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "document_id",
            "category_id",
            name=op.f("pk_document_category_associations"),
        ),
    )
    op.create_index(
        "ix_document_category_associations_category",
        "document_category_associations",
        ["tenant_id", "category_id"],
        unique=False,
    )
    op.create_table(
        "document_tag_associations",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("tag_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["documents.tenant_id", "documents.id"],
            name=op.f("fk_document_tag_associations_tenant_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tag_id"],
            ["document_tags.tenant_id", "document_tags.id"],
            name=op.f("fk_document_tag_associations_tenant_id_tag_id_document_tags"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_document_tag_associations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "document_id", "tag_id", name=op.f("pk_document_tag_associations")
        ),
    )
    op.create_index(
        "ix_document_tag_associations_tag",
        "document_tag_associations",
        ["tenant_id", "tag_id"],
        unique=False,
    )
    op.create_table(
        "document_teams",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.UUID(), nullable=False),
        sa.Column("permission", sa.String(length=10), server_default="read", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "permission IN ('read', 'write')", name=op.f("ck_document_teams_permission_valid")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["documents.tenant_id", "documents.id"],
            name=op.f("fk_document_teams_tenant_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "team_id"],
            ["teams.tenant_id", "teams.id"],
            name=op.f("fk_document_teams_tenant_id_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_document_teams_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "document_id", "team_id", name=op.f("pk_document_teams")
        ),
    )
    op.create_index(
        "ix_document_teams_team", "document_teams", ["tenant_id", "team_id"], unique=False
    )
    op.create_table(
        "document_versions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("mime_type", sa.String(length=100), nullable=True),
        sa.Column("storage_object_id", sa.UUID(), nullable=True),
        sa.Column("change_note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_document_versions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["documents.tenant_id", "documents.id"],
            name=op.f("fk_document_versions_tenant_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "storage_object_id"],
            ["storage_objects.tenant_id", "storage_objects.id"],
            name=op.f("fk_document_versions_tenant_id_storage_object_id_storage_objects"),
            ondelete="SET NULL (storage_object_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_document_versions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_document_versions")),
        sa.UniqueConstraint(
            "tenant_id",
            "document_id",
            "version",
            name=op.f("uq_document_versions_tenant_id_document_id_version"),
        ),
    )
    op.create_table(
        "entities",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("persona_id", sa.UUID(), nullable=True),
        sa.Column("agent_id", sa.UUID(), nullable=True),
        sa.Column("customer_profile_id", sa.UUID(), nullable=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("entity_type", sa.String(length=100), nullable=False),
        sa.Column("entity_type_id", sa.UUID(), nullable=True),
        sa.Column("canonical_name", sa.String(length=500), nullable=True),
        sa.Column(
            "aliases", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column(
            "attributes",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("name_embedding", Vector(384), nullable=True),
        sa.Column("embedding_model", sa.String(length=100), nullable=True),
        sa.Column(
            "valid_from",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "name_tsv",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector('english'::regconfig, coalesce(name, '') || ' ' || coalesce(canonical_name, ''))",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "expired_at IS NULL OR expired_at >= recorded_at",
            name=op.f("ck_entities_knowledge_ordered"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_entities_validity_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_entities_tenant_id_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_profile_id"],
            ["customer_profiles.tenant_id", "customer_profiles.id"],
            name=op.f("fk_entities_tenant_id_customer_profile_id_customer_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "entity_type_id"],
            ["entity_types.tenant_id", "entity_types.id"],
            name=op.f("fk_entities_tenant_id_entity_type_id_entity_types"),
            ondelete="SET NULL (entity_type_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_entities_tenant_id_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_entities_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_entities")),
    )
    op.create_index("idx_entities_name", "entities", ["tenant_id", "name"], unique=False)
    op.create_index(
        "idx_entities_tenant_agent", "entities", ["tenant_id", "agent_id"], unique=False
    )
    op.create_index("idx_entities_type", "entities", ["tenant_id", "entity_type"], unique=False)
    op.create_index(
        "ix_entities_aliases", "entities", ["aliases"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_entities_name_embedding_hnsw",
        "entities",
        ["name_embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"name_embedding": "vector_cosine_ops"},
    )
    op.create_index(
        "ix_entities_name_tsv_gin", "entities", ["name_tsv"], unique=False, postgresql_using="gin"
    )
    op.create_table(
        "file_metadata",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("object_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column(
            "tags", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column("entity_type", sa.String(length=100), nullable=True),
        sa.Column("entity_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "object_id"],
            ["storage_objects.tenant_id", "storage_objects.id"],
            name=op.f("fk_file_metadata_tenant_id_object_id_storage_objects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_file_metadata_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_file_metadata")),
    )
    op.create_index(
        "ix_file_metadata_entity",
        "file_metadata",
        ["tenant_id", "entity_type", "entity_id"],
        unique=False,
    )
    op.create_index(
        "ix_file_metadata_object", "file_metadata", ["tenant_id", "object_id"], unique=False
    )
    op.create_table(
        "persona_tools",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("persona_id", sa.UUID(), nullable=False),
        sa.Column("tool_id", sa.UUID(), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("config", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_persona_tools_tenant_id_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tool_id"],
            ["tools.tenant_id", "tools.id"],
            name=op.f("fk_persona_tools_tenant_id_tool_id_tools"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_persona_tools_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_persona_tools")),
        sa.UniqueConstraint(
            "tenant_id",
            "persona_id",
            "tool_id",
            name=op.f("uq_persona_tools_tenant_id_persona_id_tool_id"),
        ),
    )
    op.create_index(
        "idx_persona_tools_tool_id", "persona_tools", ["tenant_id", "tool_id"], unique=False
    )
    op.create_table(
        "rules",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("agent_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("condition_text", sa.Text(), nullable=False),
        sa.Column("condition_embedding", Vector(384), nullable=True),
        sa.Column("embedding_model", sa.String(length=100), nullable=True),
        sa.Column("action_type", sa.String(length=50), nullable=False),
        sa.Column(
            "action_config",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("scope", sa.String(length=20), server_default="GLOBAL", nullable=False),
        sa.Column("scope_id", sa.UUID(), nullable=True),
        sa.Column("priority", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "condition_tsv",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector('english'::regconfig, coalesce(name, '') || ' ' || coalesce(condition_text, ''))",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(scope = 'GLOBAL') = (scope_id IS NULL)", name=op.f("ck_rules_scope_id_matches_scope")
        ),
        sa.CheckConstraint(
            "scope IN ('GLOBAL', 'SCENARIO', 'STEP')", name=op.f("ck_rules_scope_valid")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_rules_tenant_id_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_rules_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_rules")),
    )
    op.create_index(
        "idx_rules_scope",
        "rules",
        ["tenant_id", "agent_id", "scope", "scope_id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "idx_rules_tenant_agent",
        "rules",
        ["tenant_id", "agent_id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_rules_condition_embedding_hnsw",
        "rules",
        ["condition_embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"condition_embedding": "vector_cosine_ops"},
    )
    op.create_index(
        "ix_rules_condition_tsv_gin",
        "rules",
        ["condition_tsv"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "scenarios",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("agent_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("entry_condition", sa.Text(), nullable=True),
        sa.Column("entry_embedding", Vector(384), nullable=True),
        sa.Column("embedding_model", sa.String(length=100), nullable=True),
        sa.Column(
            "steps",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("version >= 1", name=op.f("ck_scenarios_version_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_scenarios_tenant_id_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scenarios_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_scenarios")),
    )
    op.create_index(
        "idx_scenarios_tenant_agent",
        "scenarios",
        ["tenant_id", "agent_id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "ix_scenarios_entry_embedding_hnsw",
        "scenarios",
        ["entry_embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"entry_embedding": "vector_cosine_ops"},
    )
    op.create_table(
        "sessions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("persona_id", sa.UUID(), nullable=True),
        sa.Column("agent_id", sa.UUID(), nullable=True),
        sa.Column("customer_profile_id", sa.UUID(), nullable=True),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("channel", sa.String(length=50), server_default="API", nullable=False),
        sa.Column("user_channel_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="ACTIVE", nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column(
            "variables",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("active_scenario_id", sa.UUID(), nullable=True),
        sa.Column("active_scenario_version", sa.Integer(), nullable=True),
        sa.Column("current_step_id", sa.String(length=255), nullable=True),
        sa.Column(
            "step_history",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("pending_migration", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("last_seq", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "last_activity_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('ACTIVE', 'IDLE', 'CLOSED', 'ARCHIVED')",
            name=op.f("ck_sessions_status_valid"),
        ),
        sa.CheckConstraint("last_seq >= 0", name=op.f("ck_sessions_last_seq_nonnegative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_sessions_tenant_id_agent_id_agents"),
            ondelete="SET NULL (agent_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_profile_id"],
            ["customer_profiles.tenant_id", "customer_profiles.id"],
            name=op.f("fk_sessions_tenant_id_customer_profile_id_customer_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_sessions_tenant_id_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_sessions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_sessions")),
    )
    op.create_index(
        "ix_sessions_activity",
        "sessions",
        ["tenant_id", sa.literal_column("last_activity_at DESC")],
        unique=False,
    )
    op.create_index("ix_sessions_agent", "sessions", ["tenant_id", "agent_id"], unique=False)
    op.create_index(
        "ix_sessions_channel", "sessions", ["tenant_id", "channel", "user_channel_id"], unique=False
    )
    op.create_index(
        "ix_sessions_customer", "sessions", ["tenant_id", "customer_profile_id"], unique=False
    )
    op.create_index("ix_sessions_persona", "sessions", ["tenant_id", "persona_id"], unique=False)
    op.create_table(
        "templates",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("agent_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=20), server_default="SUGGEST", nullable=False),
        sa.Column("scope", sa.String(length=20), server_default="GLOBAL", nullable=False),
        sa.Column("scope_id", sa.UUID(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(scope = 'GLOBAL') = (scope_id IS NULL)",
            name=op.f("ck_templates_scope_id_matches_scope"),
        ),
        sa.CheckConstraint(
            "mode IN ('SUGGEST', 'EXCLUSIVE', 'FALLBACK')", name=op.f("ck_templates_mode_valid")
        ),
        sa.CheckConstraint(
            "scope IN ('GLOBAL', 'SCENARIO', 'STEP')", name=op.f("ck_templates_scope_valid")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_templates_tenant_id_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_templates_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_templates")),
    )
    op.create_index(
        "idx_templates_tenant_agent",
        "templates",
        ["tenant_id", "agent_id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "tool_activations",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("agent_id", sa.UUID(), nullable=False),
        sa.Column("tool_id", sa.String(length=255), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "policy_overrides",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_tool_activations_tenant_id_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tool_activations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_tool_activations")),
        sa.UniqueConstraint("tenant_id", "agent_id", "tool_id", name="uq_tool_activations"),
    )
    op.create_index(
        "idx_tool_activations_tenant_agent",
        "tool_activations",
        ["tenant_id", "agent_id"],
        unique=False,
    )
    op.create_table(
        "tool_dependencies",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("tool_id", sa.UUID(), nullable=False),
        sa.Column("depends_on_tool_id", sa.UUID(), nullable=False),
        sa.Column(
            "dependency_type", sa.String(length=50), server_default="requires", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "dependency_type IN ('requires', 'recommends', 'optional')",
            name=op.f("ck_tool_dependencies_dependency_type_valid"),
        ),
        sa.CheckConstraint(
            "tool_id <> depends_on_tool_id", name=op.f("ck_tool_dependencies_no_self_dependency")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "depends_on_tool_id"],
            ["tools.tenant_id", "tools.id"],
            name=op.f("fk_tool_dependencies_tenant_id_depends_on_tool_id_tools"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tool_id"],
            ["tools.tenant_id", "tools.id"],
            name=op.f("fk_tool_dependencies_tenant_id_tool_id_tools"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tool_dependencies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_tool_dependencies")),
        sa.UniqueConstraint(
            "tenant_id",
            "tool_id",
            "depends_on_tool_id",
            name=op.f("uq_tool_dependencies_tenant_id_tool_id_depends_on_tool_id"),
        ),
    )
    op.create_index(
        "idx_tool_dependencies_depends_on",
        "tool_dependencies",
        ["tenant_id", "depends_on_tool_id"],
        unique=False,
    )
    op.create_table(
        "variables",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("agent_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("default_value", sa.Text(), nullable=True),
        sa.Column("update_policy", sa.String(length=30), server_default="REPLACE", nullable=False),
        sa.Column("resolver_tool_id", sa.String(length=255), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "update_policy IN ('REPLACE', 'APPEND', 'MERGE')",
            name=op.f("ck_variables_update_policy_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_variables_tenant_id_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_variables_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_variables")),
    )
    op.create_index(
        "idx_variables_tenant_agent",
        "variables",
        ["tenant_id", "agent_id"],
        unique=False,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_index(
        "uq_variables_tenant_agent_name",
        "variables",
        ["tenant_id", "agent_id", "name"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "component_connections",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("source_component_id", sa.UUID(), nullable=False),
        sa.Column("target_component_id", sa.UUID(), nullable=False),
        sa.Column(
            "connection_type", sa.String(length=100), server_default="default", nullable=False
        ),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "source_component_id <> target_component_id",
            name=op.f("ck_component_connections_no_self_loop"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "source_component_id"],
            ["agent_components.tenant_id", "agent_components.id"],
            name=op.f("fk_component_connections_tenant_id_source_component_id_agent_components"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "target_component_id"],
            ["agent_components.tenant_id", "agent_components.id"],
            name=op.f("fk_component_connections_tenant_id_target_component_id_agent_components"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_component_connections_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_component_connections")),
        sa.UniqueConstraint(
            "tenant_id",
            "source_component_id",
            "target_component_id",
            "connection_type",
            name=op.f(
                "uq_component_connections_tenant_id_source_component_id_target_component_id_connection_type"
            ),
        ),
    )
    op.create_index(
        "ix_component_connections_target",
        "component_connections",
        ["tenant_id", "target_component_id"],
        unique=False,
    )
    op.create_table(
        "entity_document_associations",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("document_id", sa.UUID(), nullable=False),
        sa.Column("relevance", sa.Double(), server_default=sa.text("1.0"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["documents.tenant_id", "documents.id"],
            name=op.f("fk_entity_document_associations_tenant_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "entity_id"],
            ["entities.tenant_id", "entities.id"],
            name=op.f("fk_entity_document_associations_tenant_id_entity_id_entities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_entity_document_associations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "entity_id", "document_id", name=op.f("pk_entity_document_associations")
        ),
    )
    op.create_index(
        "ix_entity_document_associations_document",
        "entity_document_associations",
        ["tenant_id", "document_id"],
        unique=False,
    )
    op.create_table(
        "episodes",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("persona_id", sa.UUID(), nullable=True),
        sa.Column("agent_id", sa.UUID(), nullable=True),
        sa.Column("customer_profile_id", sa.UUID(), nullable=True),
        sa.Column("session_id", sa.UUID(), nullable=True),
        sa.Column("group_id", sa.UUID(), nullable=True),
        sa.Column("episode_type", sa.String(length=50), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("embedding", Vector(384), nullable=True),
        sa.Column("embedding_model", sa.String(length=100), nullable=True),
        sa.Column(
            "embedding_status", sa.String(length=20), server_default="pending", nullable=False
        ),
        sa.Column("importance", sa.Double(), server_default=sa.text("0.5"), nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "valid_from",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "source_event_ids",
            sa.ARRAY(sa.BigInteger()),
            server_default=sa.text("'{}'::bigint[]"),
            nullable=False,
        ),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "content_tsv",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english'::regconfig, coalesce(content, ''))", persisted=True),
            nullable=False,
        ),
        sa.CheckConstraint(
            "embedding_status IN ('pending', 'embedded', 'failed')",
            name=op.f("ck_episodes_embedding_status_valid"),
        ),
        sa.CheckConstraint(
            "episode_type IN ('TURN', 'SUMMARY', 'FACT', 'EVENT', 'NOTE')",
            name=op.f("ck_episodes_episode_type_valid"),
        ),
        sa.CheckConstraint(
            "importance >= 0 AND importance <= 1", name=op.f("ck_episodes_importance_range")
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from", name=op.f("ck_episodes_validity_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_episodes_tenant_id_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "customer_profile_id"],
            ["customer_profiles.tenant_id", "customer_profiles.id"],
            name=op.f("fk_episodes_tenant_id_customer_profile_id_customer_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_episodes_tenant_id_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["sessions.tenant_id", "sessions.id"],
            name=op.f("fk_episodes_tenant_id_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_episodes_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_episodes")),
    )
    op.create_index(
        "idx_episodes_customer",
        "episodes",
        ["tenant_id", "customer_profile_id"],
        unique=False,
        postgresql_where=sa.text("customer_profile_id IS NOT NULL"),
    )
    op.create_index(
        "idx_episodes_group",
        "episodes",
        ["tenant_id", "group_id"],
        unique=False,
        postgresql_where=sa.text("group_id IS NOT NULL"),
    )
    op.create_index(
        "idx_episodes_session",
        "episodes",
        ["tenant_id", "session_id"],
        unique=False,
        postgresql_where=sa.text("session_id IS NOT NULL"),
    )
    op.create_index(
        "idx_episodes_tenant_agent", "episodes", ["tenant_id", "agent_id"], unique=False
    )
    op.create_index(
        "idx_episodes_valid", "episodes", ["tenant_id", "valid_from", "valid_to"], unique=False
    )
    op.create_index(
        "ix_episodes_content_tsv_gin",
        "episodes",
        ["content_tsv"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_episodes_embedding_hnsw",
        "episodes",
        ["embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_index(
        "ix_episodes_persona", "episodes", ["tenant_id", "persona_id", "occurred_at"], unique=False
    )
    op.create_index(
        "ix_episodes_unembedded",
        "episodes",
        ["tenant_id", "id"],
        unique=False,
        postgresql_where=sa.text("embedding_status <> 'embedded'"),
    )
    op.create_table(
        "migration_plans",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("scenario_id", sa.UUID(), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=False),
        sa.Column("to_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="DRAFT", nullable=False),
        sa.Column("transformation_map", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "anchor_policies",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("scope_filter", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("approved_by", sa.UUID(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('DRAFT', 'APPROVED', 'DEPLOYED', 'REJECTED')",
            name=op.f("ck_migration_plans_status_valid"),
        ),
        sa.CheckConstraint(
            "to_version > from_version", name=op.f("ck_migration_plans_versions_ascend")
        ),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["users.id"],
            name=op.f("fk_migration_plans_approved_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "scenario_id"],
            ["scenarios.tenant_id", "scenarios.id"],
            name=op.f("fk_migration_plans_tenant_id_scenario_id_scenarios"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_migration_plans_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_migration_plans")),
    )
    op.create_index(
        "idx_migration_plans_scenario",
        "migration_plans",
        ["tenant_id", "scenario_id", "from_version", "to_version"],
        unique=False,
    )
    op.create_table(
        "relationships",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("source_entity_id", sa.UUID(), nullable=False),
        sa.Column("target_entity_id", sa.UUID(), nullable=False),
        sa.Column("relationship_type", sa.String(length=100), nullable=False),
        sa.Column("relationship_type_id", sa.UUID(), nullable=True),
        sa.Column("fact", sa.Text(), nullable=True),
        sa.Column("fact_embedding", Vector(384), nullable=True),
        sa.Column("embedding_model", sa.String(length=100), nullable=True),
        sa.Column("confidence", sa.Double(), server_default=sa.text("1.0"), nullable=False),
        sa.Column(
            "valid_from",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "source_episode_ids",
            sa.ARRAY(sa.UUID()),
            server_default=sa.text("'{}'::uuid[]"),
            nullable=False,
        ),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "fact_tsv",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector('english'::regconfig, coalesce(relationship_type, '') || ' ' || coalesce(fact, ''))",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.CheckConstraint(
            "confidence >= 0 AND confidence <= 1", name=op.f("ck_relationships_confidence_range")
        ),
        sa.CheckConstraint(
            "expired_at IS NULL OR expired_at >= recorded_at",
            name=op.f("ck_relationships_knowledge_ordered"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from",
            name=op.f("ck_relationships_validity_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "relationship_type_id"],
            ["relationship_types.tenant_id", "relationship_types.id"],
            name=op.f("fk_relationships_tenant_id_relationship_type_id_relationship_types"),
            ondelete="SET NULL (relationship_type_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "source_entity_id"],
            ["entities.tenant_id", "entities.id"],
            name=op.f("fk_relationships_tenant_id_source_entity_id_entities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "target_entity_id"],
            ["entities.tenant_id", "entities.id"],
            name=op.f("fk_relationships_tenant_id_target_entity_id_entities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_relationships_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_relationships")),
        sa.UniqueConstraint(
            "tenant_id",
            "source_entity_id",
            "target_entity_id",
            "relationship_type",
            "valid_from",
            "recorded_at",
            name="uq_relationships",
        ),
    )
    op.create_index(
        "idx_relationships_source", "relationships", ["tenant_id", "source_entity_id"], unique=False
    )
    op.create_index(
        "idx_relationships_target", "relationships", ["tenant_id", "target_entity_id"], unique=False
    )
    op.create_index(
        "idx_relationships_type", "relationships", ["tenant_id", "relationship_type"], unique=False
    )
    op.create_index(
        "ix_relationships_current",
        "relationships",
        ["tenant_id", "source_entity_id", "relationship_type"],
        unique=False,
        postgresql_where=sa.text("expired_at IS NULL AND valid_to IS NULL"),
    )
    op.create_index(
        "ix_relationships_fact_embedding_hnsw",
        "relationships",
        ["fact_embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"fact_embedding": "vector_cosine_ops"},
    )
    op.create_index(
        "ix_relationships_fact_tsv_gin",
        "relationships",
        ["fact_tsv"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "runs",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("agent_id", sa.UUID(), nullable=True),
        sa.Column("persona_id", sa.UUID(), nullable=True),
        sa.Column("session_id", sa.UUID(), nullable=True),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("trace_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=50), server_default="pending", nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column(
            "token_usage",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'running', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_runs_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "agent_id"],
            ["agents.tenant_id", "agents.id"],
            name=op.f("fk_runs_tenant_id_agent_id_agents"),
            ondelete="SET NULL (agent_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_runs_tenant_id_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["sessions.tenant_id", "sessions.id"],
            name=op.f("fk_runs_tenant_id_session_id_sessions"),
            ondelete="SET NULL (session_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_runs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_runs_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_runs")),
        sa.UniqueConstraint("tenant_id", "trace_id", name=op.f("uq_runs_tenant_id_trace_id")),
    )
    op.create_index("idx_runs_created_at", "runs", ["tenant_id", "created_at"], unique=False)
    op.create_index("idx_runs_persona_id", "runs", ["tenant_id", "persona_id"], unique=False)
    op.create_index("idx_runs_status", "runs", ["tenant_id", "status"], unique=False)
    op.create_index("idx_runs_user_id", "runs", ["user_id"], unique=False)
    op.create_index("ix_runs_session", "runs", ["tenant_id", "session_id"], unique=False)
    op.create_table(
        "scenario_archives",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("scenario_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("scenario_data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "archived_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "scenario_id"],
            ["scenarios.tenant_id", "scenarios.id"],
            name=op.f("fk_scenario_archives_tenant_id_scenario_id_scenarios"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_scenario_archives_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "scenario_id", "version", name=op.f("pk_scenario_archives")
        ),
    )
    op.create_table(
        "search_results",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("query_id", sa.UUID(), nullable=False),
        sa.Column("embedding_id", sa.UUID(), nullable=True),
        sa.Column("chunk_id", sa.UUID(), nullable=True),
        sa.Column("similarity_score", sa.Double(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.CheckConstraint("rank > 0", name=op.f("ck_search_results_rank_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "chunk_id"],
            ["chunks.tenant_id", "chunks.id"],
            name=op.f("fk_search_results_tenant_id_chunk_id_chunks"),
            ondelete="SET NULL (chunk_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "embedding_id"],
            ["embeddings.tenant_id", "embeddings.id"],
            name=op.f("fk_search_results_tenant_id_embedding_id_embeddings"),
            ondelete="SET NULL (embedding_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "query_id"],
            ["search_queries.tenant_id", "search_queries.id"],
            name=op.f("fk_search_results_tenant_id_query_id_search_queries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_search_results_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_search_results")),
        sa.UniqueConstraint(
            "tenant_id", "query_id", "rank", name=op.f("uq_search_results_tenant_id_query_id_rank")
        ),
    )
    op.create_table(
        "session_events",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("schema_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("trace_id", sa.String(length=255), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "event_type ~ '^[a-z][a-z_]*(\\.[a-z][a-z_]*)*$'",
            name=op.f("ck_session_events_event_type_form"),
        ),
        sa.CheckConstraint("seq > 0", name=op.f("ck_session_events_seq_positive")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["sessions.tenant_id", "sessions.id"],
            name=op.f("fk_session_events_tenant_id_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_session_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_session_events")),
        sa.UniqueConstraint(
            "tenant_id",
            "session_id",
            "seq",
            name=op.f("uq_session_events_tenant_id_session_id_seq"),
        ),
    )
    op.create_index(
        "uq_session_events_idempotency",
        "session_events",
        ["tenant_id", "session_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_table(
        "telemetry_sessions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("session_id", sa.String(length=255), nullable=False),
        sa.Column("conversation_id", sa.UUID(), nullable=True),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "conversation_id"],
            ["sessions.tenant_id", "sessions.id"],
            name=op.f("fk_telemetry_sessions_tenant_id_conversation_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_telemetry_sessions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_telemetry_sessions")),
    )
    op.create_index(
        "ix_telemetry_sessions_conversation",
        "telemetry_sessions",
        ["tenant_id", "conversation_id"],
        unique=False,
    )
    op.create_index(
        "ix_telemetry_sessions_session_key",
        "telemetry_sessions",
        ["tenant_id", "session_id"],
        unique=False,
    )
    op.create_table(
        "emails",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("persona_id", sa.UUID(), nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=True),
        sa.Column("direction", sa.String(length=50), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("thread_id", sa.String(length=255), nullable=True),
        sa.Column("from_email", sa.String(length=255), nullable=False),
        sa.Column("to_email", sa.String(length=255), nullable=False),
        sa.Column("cc", sa.Text(), nullable=True),
        sa.Column("bcc", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "body_tsv",
            postgresql.TSVECTOR(),
            sa.Computed(
                "to_tsvector('english'::regconfig, coalesce(subject, '') || ' ' || coalesce(body_text, ''))",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "direction IN ('inbound', 'outbound')", name=op.f("ck_emails_direction_valid")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_emails_tenant_id_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_id"],
            ["runs.tenant_id", "runs.id"],
            name=op.f("fk_emails_tenant_id_run_id_runs"),
            ondelete="SET NULL (run_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_emails_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_emails")),
    )
    op.create_index("idx_emails_created_at", "emails", ["tenant_id", "created_at"], unique=False)
    op.create_index("idx_emails_persona_id", "emails", ["tenant_id", "persona_id"], unique=False)
    op.create_index("idx_emails_run_id", "emails", ["tenant_id", "run_id"], unique=False)
    op.create_index("idx_emails_thread_id", "emails", ["tenant_id", "thread_id"], unique=False)
    op.create_index(
        "ix_emails_body_tsv_gin", "emails", ["body_tsv"], unique=False, postgresql_using="gin"
    )
    op.create_index("ix_emails_message_id", "emails", ["tenant_id", "message_id"], unique=False)
    op.create_table(
        "entity_mentions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("entity_id", sa.UUID(), nullable=False),
        sa.Column("episode_id", sa.UUID(), nullable=True),
        sa.Column("chunk_id", sa.UUID(), nullable=True),
        sa.Column("document_id", sa.UUID(), nullable=True),
        sa.Column("mention_text", sa.Text(), nullable=True),
        sa.Column("start_offset", sa.Integer(), nullable=True),
        sa.Column("end_offset", sa.Integer(), nullable=True),
        sa.Column("confidence", sa.Double(), server_default=sa.text("1.0"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "num_nonnulls(episode_id, chunk_id, document_id) >= 1",
            name=op.f("ck_entity_mentions_mentions_something"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "chunk_id"],
            ["chunks.tenant_id", "chunks.id"],
            name=op.f("fk_entity_mentions_tenant_id_chunk_id_chunks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "document_id"],
            ["documents.tenant_id", "documents.id"],
            name=op.f("fk_entity_mentions_tenant_id_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "entity_id"],
            ["entities.tenant_id", "entities.id"],
            name=op.f("fk_entity_mentions_tenant_id_entity_id_entities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "episode_id"],
            ["episodes.tenant_id", "episodes.id"],
            name=op.f("fk_entity_mentions_tenant_id_episode_id_episodes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_entity_mentions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_entity_mentions")),
    )
    op.create_index(
        "ix_entity_mentions_chunk", "entity_mentions", ["tenant_id", "chunk_id"], unique=False
    )
    op.create_index(
        "ix_entity_mentions_document", "entity_mentions", ["tenant_id", "document_id"], unique=False
    )
    op.create_index(
        "ix_entity_mentions_entity", "entity_mentions", ["tenant_id", "entity_id"], unique=False
    )
    op.create_index(
        "ix_entity_mentions_episode", "entity_mentions", ["tenant_id", "episode_id"], unique=False
    )
    op.create_table(
        "messages",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("content", sa.Text(), server_default="", nullable=False),
        sa.Column("tool_calls", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("tool_call_id", sa.String(length=255), nullable=True),
        sa.Column(
            "metadata",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "content_tsv",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english'::regconfig, coalesce(content, ''))", persisted=True),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('system', 'user', 'assistant', 'tool')", name=op.f("ck_messages_role_valid")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "event_id"],
            ["session_events.tenant_id", "session_events.id"],
            name=op.f("fk_messages_tenant_id_event_id_session_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["sessions.tenant_id", "sessions.id"],
            name=op.f("fk_messages_tenant_id_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_messages_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "tenant_id", "session_id", "seq", name=op.f("uq_messages_tenant_id_session_id_seq")
        ),
    )
    op.create_index(
        "ix_messages_content_tsv_gin",
        "messages",
        ["content_tsv"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "run_steps",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=False),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.Column("step_type", sa.String(length=50), nullable=False),
        sa.Column("tool_id", sa.UUID(), nullable=True),
        sa.Column("input", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("output", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "step_type IN ('llm_call', 'tool_call', 'rag_retrieval', 'memory_retrieval', 'rule_match', 'prompt_assembly', 'message', 'error')",
            name=op.f("ck_run_steps_step_type_valid"),
        ),
        sa.CheckConstraint(
            "duration_ms IS NULL OR duration_ms >= 0",
            name=op.f("ck_run_steps_duration_nonnegative"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_id"],
            ["runs.tenant_id", "runs.id"],
            name=op.f("fk_run_steps_tenant_id_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tool_id"],
            ["tools.tenant_id", "tools.id"],
            name=op.f("fk_run_steps_tenant_id_tool_id_tools"),
            ondelete="SET NULL (tool_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_run_steps_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_run_steps")),
        sa.UniqueConstraint("tenant_id", "run_id", "step_number", name="idx_run_steps_step_number"),
    )
    op.create_table(
        "telemetry_events",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column(
            "event_data",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["telemetry_sessions.tenant_id", "telemetry_sessions.id"],
            name=op.f("fk_telemetry_events_tenant_id_session_id_telemetry_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_telemetry_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_telemetry_events")),
    )
    op.create_index(
        "ix_telemetry_events_session",
        "telemetry_events",
        ["tenant_id", "session_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_telemetry_events_type", "telemetry_events", ["tenant_id", "event_type"], unique=False
    )
    op.create_table(
        "turn_records",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=True),
        sa.Column("turn_number", sa.Integer(), nullable=False),
        sa.Column("user_message", sa.Text(), nullable=False),
        sa.Column("assistant_response", sa.Text(), nullable=True),
        sa.Column("context_extracted", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "rules_matched",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("scenario_state", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "tools_executed",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("token_usage", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_id"],
            ["runs.tenant_id", "runs.id"],
            name=op.f("fk_turn_records_tenant_id_run_id_runs"),
            ondelete="SET NULL (run_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["sessions.tenant_id", "sessions.id"],
            name=op.f("fk_turn_records_tenant_id_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_turn_records_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_turn_records")),
        sa.UniqueConstraint(
            "tenant_id",
            "session_id",
            "turn_number",
            name=op.f("uq_turn_records_tenant_id_session_id_turn_number"),
        ),
    )
    op.create_index(
        "idx_turn_records_created",
        "turn_records",
        ["tenant_id", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_table(
        "attachments",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=True),
        sa.Column("persona_id", sa.UUID(), nullable=True),
        sa.Column("email_id", sa.UUID(), nullable=True),
        sa.Column("run_id", sa.UUID(), nullable=True),
        sa.Column("storage_object_id", sa.UUID(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("quarantine_reason", sa.Text(), nullable=True),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status <> 'quarantined' OR quarantine_reason IS NOT NULL",
            name=op.f("ck_attachments_quarantine_has_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'clean', 'quarantined')",
            name=op.f("ck_attachments_status_valid"),
        ),
        sa.CheckConstraint("size >= 0", name=op.f("ck_attachments_size_nonnegative")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "email_id"],
            ["emails.tenant_id", "emails.id"],
            name=op.f("fk_attachments_tenant_id_email_id_emails"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_attachments_tenant_id_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_id"],
            ["runs.tenant_id", "runs.id"],
            name=op.f("fk_attachments_tenant_id_run_id_runs"),
            ondelete="SET NULL (run_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["sessions.tenant_id", "sessions.id"],
            name=op.f("fk_attachments_tenant_id_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "storage_object_id"],
            ["storage_objects.tenant_id", "storage_objects.id"],
            name=op.f("fk_attachments_tenant_id_storage_object_id_storage_objects"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_attachments_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_attachments")),
    )
    op.create_index(
        "idx_attachments_email_id", "attachments", ["tenant_id", "email_id"], unique=False
    )
    op.create_index("idx_attachments_run_id", "attachments", ["tenant_id", "run_id"], unique=False)
    op.create_index(
        "ix_attachments_session", "attachments", ["tenant_id", "session_id"], unique=False
    )
    op.create_index("ix_attachments_sha256", "attachments", ["tenant_id", "sha256"], unique=False)
    op.create_table(
        "tool_executions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("tool_id", sa.UUID(), nullable=True),
        sa.Column("tool_name", sa.String(length=255), nullable=False),
        sa.Column("run_id", sa.UUID(), nullable=True),
        sa.Column("run_step_id", sa.UUID(), nullable=True),
        sa.Column("session_id", sa.UUID(), nullable=True),
        sa.Column("persona_id", sa.UUID(), nullable=True),
        sa.Column("trace_id", sa.String(length=255), nullable=True),
        sa.Column(
            "arguments",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=30), server_default="pending", nullable=False),
        sa.Column("attempt", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.UUID(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'awaiting_approval', 'running', 'succeeded', 'failed', 'denied', 'cancelled', 'timed_out')",
            name=op.f("ck_tool_executions_status_valid"),
        ),
        sa.CheckConstraint(
            "duration_ms IS NULL OR duration_ms >= 0",
            name=op.f("ck_tool_executions_duration_nonnegative"),
        ),
        sa.ForeignKeyConstraint(
            ["approved_by"],
            ["users.id"],
            name=op.f("fk_tool_executions_approved_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "persona_id"],
            ["personas.tenant_id", "personas.id"],
            name=op.f("fk_tool_executions_tenant_id_persona_id_personas"),
            ondelete="SET NULL (persona_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_id"],
            ["runs.tenant_id", "runs.id"],
            name=op.f("fk_tool_executions_tenant_id_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "run_step_id"],
            ["run_steps.tenant_id", "run_steps.id"],
            name=op.f("fk_tool_executions_tenant_id_run_step_id_run_steps"),
            ondelete="SET NULL (run_step_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["sessions.tenant_id", "sessions.id"],
            name=op.f("fk_tool_executions_tenant_id_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tool_id"],
            ["tools.tenant_id", "tools.id"],
            name=op.f("fk_tool_executions_tenant_id_tool_id_tools"),
            ondelete="SET NULL (tool_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tool_executions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_tool_executions")),
    )
    op.create_index(
        "idx_tool_runs_created_at", "tool_executions", ["tenant_id", "created_at"], unique=False
    )
    op.create_index(
        "idx_tool_runs_run_id", "tool_executions", ["tenant_id", "run_id"], unique=False
    )
    op.create_index(
        "idx_tool_runs_tool_id", "tool_executions", ["tenant_id", "tool_id"], unique=False
    )
    op.create_index(
        "ix_tool_executions_status", "tool_executions", ["tenant_id", "status"], unique=False
    )
    op.create_index("ix_tool_executions_trace_id", "tool_executions", ["trace_id"], unique=False)
    op.create_table(
        "dead_letters",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("personae_uuidv7()"), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("retry_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("execution_id", sa.UUID(), nullable=True),
        sa.Column("last_retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "retry_count >= 0", name=op.f("ck_dead_letters_retry_count_nonnegative")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "execution_id"],
            ["tool_executions.tenant_id", "tool_executions.id"],
            name=op.f("fk_dead_letters_tenant_id_execution_id_tool_executions"),
            ondelete="SET NULL (execution_id)",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_dead_letters_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_dead_letters")),
    )
    op.create_index(
        "ix_dead_letters_open",
        "dead_letters",
        ["tenant_id", "topic", "created_at"],
        unique=False,
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    for table in TENANT_TABLES:
        _isolate(table)
    for table in PARTITIONED_TABLES:
        _partition(table)
    _grant()


def downgrade() -> None:
    _revoke()
    op.drop_index(
        "ix_dead_letters_open",
        table_name="dead_letters",
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.drop_table("dead_letters")
    op.drop_index("ix_tool_executions_trace_id", table_name="tool_executions")
    op.drop_index("ix_tool_executions_status", table_name="tool_executions")
    op.drop_index("idx_tool_runs_tool_id", table_name="tool_executions")
    op.drop_index("idx_tool_runs_run_id", table_name="tool_executions")
    op.drop_index("idx_tool_runs_created_at", table_name="tool_executions")
    op.drop_table("tool_executions")
    op.drop_index("ix_attachments_sha256", table_name="attachments")
    op.drop_index("ix_attachments_session", table_name="attachments")
    op.drop_index("idx_attachments_run_id", table_name="attachments")
    op.drop_index("idx_attachments_email_id", table_name="attachments")
    op.drop_table("attachments")
    op.drop_index("idx_turn_records_created", table_name="turn_records")
    op.drop_table("turn_records")
    op.drop_index("ix_telemetry_events_type", table_name="telemetry_events")
    op.drop_index("ix_telemetry_events_session", table_name="telemetry_events")
    op.drop_table("telemetry_events")
    op.drop_table("run_steps")
    op.drop_index("ix_messages_content_tsv_gin", table_name="messages", postgresql_using="gin")
    op.drop_table("messages")
    op.drop_index("ix_entity_mentions_episode", table_name="entity_mentions")
    op.drop_index("ix_entity_mentions_entity", table_name="entity_mentions")
    op.drop_index("ix_entity_mentions_document", table_name="entity_mentions")
    op.drop_index("ix_entity_mentions_chunk", table_name="entity_mentions")
    op.drop_table("entity_mentions")
    op.drop_index("ix_emails_message_id", table_name="emails")
    op.drop_index("ix_emails_body_tsv_gin", table_name="emails", postgresql_using="gin")
    op.drop_index("idx_emails_thread_id", table_name="emails")
    op.drop_index("idx_emails_run_id", table_name="emails")
    op.drop_index("idx_emails_persona_id", table_name="emails")
    op.drop_index("idx_emails_created_at", table_name="emails")
    op.drop_table("emails")
    op.drop_index("ix_telemetry_sessions_session_key", table_name="telemetry_sessions")
    op.drop_index("ix_telemetry_sessions_conversation", table_name="telemetry_sessions")
    op.drop_table("telemetry_sessions")
    op.drop_index(
        "uq_session_events_idempotency",
        table_name="session_events",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_table("session_events")
    op.drop_table("search_results")
    op.drop_table("scenario_archives")
    op.drop_index("ix_runs_session", table_name="runs")
    op.drop_index("idx_runs_user_id", table_name="runs")
    op.drop_index("idx_runs_status", table_name="runs")
    op.drop_index("idx_runs_persona_id", table_name="runs")
    op.drop_index("idx_runs_created_at", table_name="runs")
    op.drop_table("runs")
    op.drop_index(
        "ix_relationships_fact_tsv_gin", table_name="relationships", postgresql_using="gin"
    )
    op.drop_index(
        "ix_relationships_fact_embedding_hnsw",
        table_name="relationships",
        postgresql_using="hnsw",
        postgresql_ops={"fact_embedding": "vector_cosine_ops"},
    )
    op.drop_index(
        "ix_relationships_current",
        table_name="relationships",
        postgresql_where=sa.text("expired_at IS NULL AND valid_to IS NULL"),
    )
    op.drop_index("idx_relationships_type", table_name="relationships")
    op.drop_index("idx_relationships_target", table_name="relationships")
    op.drop_index("idx_relationships_source", table_name="relationships")
    op.drop_table("relationships")
    op.drop_index("idx_migration_plans_scenario", table_name="migration_plans")
    op.drop_table("migration_plans")
    op.drop_index(
        "ix_episodes_unembedded",
        table_name="episodes",
        postgresql_where=sa.text("embedding_status <> 'embedded'"),
    )
    op.drop_index("ix_episodes_persona", table_name="episodes")
    op.drop_index(
        "ix_episodes_embedding_hnsw",
        table_name="episodes",
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.drop_index("ix_episodes_content_tsv_gin", table_name="episodes", postgresql_using="gin")
    op.drop_index("idx_episodes_valid", table_name="episodes")
    op.drop_index("idx_episodes_tenant_agent", table_name="episodes")
    op.drop_index(
        "idx_episodes_session",
        table_name="episodes",
        postgresql_where=sa.text("session_id IS NOT NULL"),
    )
    op.drop_index(
        "idx_episodes_group",
        table_name="episodes",
        postgresql_where=sa.text("group_id IS NOT NULL"),
    )
    op.drop_index(
        "idx_episodes_customer",
        table_name="episodes",
        postgresql_where=sa.text("customer_profile_id IS NOT NULL"),
    )
    op.drop_table("episodes")
    op.drop_index(
        "ix_entity_document_associations_document", table_name="entity_document_associations"
    )
    op.drop_table("entity_document_associations")
    op.drop_index("ix_component_connections_target", table_name="component_connections")
    op.drop_table("component_connections")
    op.drop_index(
        "uq_variables_tenant_agent_name",
        table_name="variables",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index(
        "idx_variables_tenant_agent",
        table_name="variables",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("variables")
    op.drop_index("idx_tool_dependencies_depends_on", table_name="tool_dependencies")
    op.drop_table("tool_dependencies")
    op.drop_index("idx_tool_activations_tenant_agent", table_name="tool_activations")
    op.drop_table("tool_activations")
    op.drop_index(
        "idx_templates_tenant_agent",
        table_name="templates",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("templates")
    op.drop_index("ix_sessions_persona", table_name="sessions")
    op.drop_index("ix_sessions_customer", table_name="sessions")
    op.drop_index("ix_sessions_channel", table_name="sessions")
    op.drop_index("ix_sessions_agent", table_name="sessions")
    op.drop_index("ix_sessions_activity", table_name="sessions")
    op.drop_table("sessions")
    op.drop_index(
        "ix_scenarios_entry_embedding_hnsw",
        table_name="scenarios",
        postgresql_using="hnsw",
        postgresql_ops={"entry_embedding": "vector_cosine_ops"},
    )
    op.drop_index(
        "idx_scenarios_tenant_agent",
        table_name="scenarios",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("scenarios")
    op.drop_index("ix_rules_condition_tsv_gin", table_name="rules", postgresql_using="gin")
    op.drop_index(
        "ix_rules_condition_embedding_hnsw",
        table_name="rules",
        postgresql_using="hnsw",
        postgresql_ops={"condition_embedding": "vector_cosine_ops"},
    )
    op.drop_index(
        "idx_rules_tenant_agent", table_name="rules", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_index(
        "idx_rules_scope", table_name="rules", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_table("rules")
    op.drop_index("idx_persona_tools_tool_id", table_name="persona_tools")
    op.drop_table("persona_tools")
    op.drop_index("ix_file_metadata_object", table_name="file_metadata")
    op.drop_index("ix_file_metadata_entity", table_name="file_metadata")
    op.drop_table("file_metadata")
    op.drop_index("ix_entities_name_tsv_gin", table_name="entities", postgresql_using="gin")
    op.drop_index(
        "ix_entities_name_embedding_hnsw",
        table_name="entities",
        postgresql_using="hnsw",
        postgresql_ops={"name_embedding": "vector_cosine_ops"},
    )
    op.drop_index("ix_entities_aliases", table_name="entities", postgresql_using="gin")
    op.drop_index("idx_entities_type", table_name="entities")
    op.drop_index("idx_entities_tenant_agent", table_name="entities")
    op.drop_index("idx_entities_name", table_name="entities")
    op.drop_table("entities")
    op.drop_table("document_versions")
    op.drop_index("ix_document_teams_team", table_name="document_teams")
    op.drop_table("document_teams")
    op.drop_index("ix_document_tag_associations_tag", table_name="document_tag_associations")
    op.drop_table("document_tag_associations")
    op.drop_index(
        "ix_document_category_associations_category", table_name="document_category_associations"
    )
    op.drop_table("document_category_associations")
    op.drop_index(
        "uq_collection_items_member",
        table_name="collection_items",
        postgresql_nulls_not_distinct=True,
    )
    op.drop_table("collection_items")
    op.drop_index("ix_chunks_text_tsv_gin", table_name="chunks", postgresql_using="gin")
    op.drop_index(
        "ix_chunks_embedding_hnsw",
        table_name="chunks",
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.drop_index("idx_chunks_persona_id", table_name="chunks")
    op.drop_index("idx_chunks_document_id", table_name="chunks")
    op.drop_table("chunks")
    op.drop_index("ix_agent_components_agent_id", table_name="agent_components")
    op.drop_table("agent_components")
    op.drop_index("ix_access_controls_object", table_name="access_controls")
    op.drop_index("ix_access_controls_grantee", table_name="access_controls")
    op.drop_index("ix_access_controls_bucket", table_name="access_controls")
    op.drop_table("access_controls")
    op.drop_index("ix_user_roles_role_id", table_name="user_roles")
    op.drop_table("user_roles")
    op.drop_index("ix_tools_description_tsv_gin", table_name="tools", postgresql_using="gin")
    op.drop_index(
        "ix_tools_description_embedding_hnsw",
        table_name="tools",
        postgresql_using="hnsw",
        postgresql_ops={"description_embedding": "vector_cosine_ops"},
    )
    op.drop_index(
        "idx_tools_name", table_name="tools", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_index("idx_tools_category", table_name="tools")
    op.drop_table("tools")
    op.drop_index("ix_team_members_user_id", table_name="team_members")
    op.drop_table("team_members")
    op.drop_index(
        "uq_storage_objects_name",
        table_name="storage_objects",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_index("ix_storage_objects_sha256", table_name="storage_objects")
    op.drop_table("storage_objects")
    op.drop_table("skin_ratings")
    op.drop_index(
        "uq_settings_scope_key", table_name="settings", postgresql_nulls_not_distinct=True
    )
    op.drop_table("settings")
    op.drop_table("role_permissions")
    op.drop_index(
        "uq_prompt_templates_name",
        table_name="prompt_templates",
        postgresql_nulls_not_distinct=True,
    )
    op.drop_table("prompt_templates")
    op.drop_index("idx_profile_fields_name", table_name="profile_fields")
    op.drop_table("profile_fields")
    op.drop_index("idx_profile_assets_type", table_name="profile_assets")
    op.drop_table("profile_assets")
    op.drop_index("idx_persona_members_user_id", table_name="persona_members")
    op.drop_table("persona_members")
    op.drop_index("idx_persona_health_persona_time", table_name="persona_health_metrics")
    op.drop_index("idx_persona_health_measured_at", table_name="persona_health_metrics")
    op.drop_table("persona_health_metrics")
    op.drop_index("ix_organization_invitations_email", table_name="organization_invitations")
    op.drop_table("organization_invitations")
    op.drop_index(
        "uq_model_configs_tenant_name",
        table_name="model_configs",
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.drop_table("model_configs")
    op.drop_index("ix_forecasts_model_time", table_name="forecasts")
    op.drop_table("forecasts")
    op.drop_index("ix_documents_name_tsv_gin", table_name="documents", postgresql_using="gin")
    op.drop_index("idx_documents_status", table_name="documents")
    op.drop_index("idx_documents_persona_id", table_name="documents")
    op.drop_index("idx_documents_created_at", table_name="documents")
    op.drop_table("documents")
    op.drop_index("idx_channel_identities_profile", table_name="channel_identities")
    op.drop_table("channel_identities")
    op.drop_index("ix_capsule_dependencies_depends_on", table_name="capsule_dependencies")
    op.drop_table("capsule_dependencies")
    op.drop_index(
        "uq_agents_tenant_name", table_name="agents", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_index(
        "idx_agents_tenant", table_name="agents", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_index("idx_agents_persona_id", table_name="agents")
    op.drop_table("agents")
    op.drop_index("ix_user_activity_user_time", table_name="user_activity")
    op.drop_table("user_activity")
    op.drop_index("ix_tenant_members_user_id", table_name="tenant_members")
    op.drop_table("tenant_members")
    op.drop_index(
        "uq_teams_tenant_name", table_name="teams", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_table("teams")
    op.drop_index("uq_storage_buckets_name", table_name="storage_buckets")
    op.drop_table("storage_buckets")
    op.drop_index(
        "uq_secrets_scope_type_key", table_name="secrets", postgresql_nulls_not_distinct=True
    )
    op.drop_index("ix_secrets_key_version", table_name="secrets")
    op.drop_index("idx_secrets_persona_id", table_name="secrets")
    op.drop_table("secrets")
    op.drop_index(
        "ix_search_queries_query_embedding_hnsw",
        table_name="search_queries",
        postgresql_using="hnsw",
        postgresql_ops={"query_embedding": "vector_cosine_ops"},
    )
    op.drop_index("ix_search_queries_created", table_name="search_queries")
    op.drop_table("search_queries")
    op.drop_table("roles")
    op.drop_table("relationship_types")
    op.drop_index("ix_personas_search_tsv_gin", table_name="personas", postgresql_using="gin")
    op.drop_index("idx_personas_owner_id", table_name="personas")
    op.drop_index("idx_personas_name", table_name="personas")
    op.drop_table("personas")
    op.drop_index(op.f("ix_identities_user_id"), table_name="identities")
    op.drop_table("identities")
    op.drop_index("uq_forecast_models_name", table_name="forecast_models")
    op.drop_table("forecast_models")
    op.drop_table("feature_flags")
    op.drop_index("ix_events_type_time", table_name="events")
    op.drop_index("ix_events_entity", table_name="events")
    op.drop_table("events")
    op.drop_table("entity_types")
    op.drop_index("ix_embeddings_entity", table_name="embeddings")
    op.drop_index(
        "ix_embeddings_embedding_hnsw",
        table_name="embeddings",
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.drop_index("ix_embeddings_content_tsv_gin", table_name="embeddings", postgresql_using="gin")
    op.drop_table("embeddings")
    op.drop_table("document_tags")
    op.drop_index(
        "uq_document_categories_name",
        table_name="document_categories",
        postgresql_nulls_not_distinct=True,
    )
    op.drop_table("document_categories")
    op.drop_index(
        "uq_profiles_external",
        table_name="customer_profiles",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_table("customer_profiles")
    op.drop_table("component_templates")
    op.drop_table("collections")
    op.drop_table("capsules")
    op.drop_index("ix_business_metrics_name_time", table_name="business_metrics")
    op.drop_table("business_metrics")
    op.drop_index("ix_auth_sessions_user_id", table_name="auth_sessions")
    op.drop_index("ix_auth_sessions_family", table_name="auth_sessions")
    op.drop_index("idx_sessions_token_hash", table_name="auth_sessions")
    op.drop_index("idx_sessions_expires_at", table_name="auth_sessions")
    op.drop_table("auth_sessions")
    op.drop_index("ix_audit_events_resource", table_name="audit_events")
    op.drop_index("idx_audit_events_user_id", table_name="audit_events")
    op.drop_index("idx_audit_events_type", table_name="audit_events")
    op.drop_index("idx_audit_events_trace_id", table_name="audit_events")
    op.drop_index(
        "idx_audit_events_session",
        table_name="audit_events",
        postgresql_where=sa.text("session_id IS NOT NULL"),
    )
    op.drop_index("idx_audit_events_run_id", table_name="audit_events")
    op.drop_index("idx_audit_events_persona_id", table_name="audit_events")
    op.drop_index("idx_audit_events_created", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_api_tokens_token_hash", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index("ix_anomalies_metric_time", table_name="anomalies")
    op.drop_table("anomalies")
    op.drop_index("ix_alerts_status_time", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("agent_templates")
    op.drop_index("ix_agent_skins_tags", table_name="agent_skins", postgresql_using="gin")
    op.drop_table("agent_skins")
    op.drop_index("ix_agent_metrics_agent_time", table_name="agent_metrics")
    op.drop_table("agent_metrics")
    op.drop_index("idx_users_role", table_name="users")
    op.drop_index(
        "idx_users_email", table_name="users", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_table("users")
    op.drop_index(
        "uq_tenants_slug", table_name="tenants", postgresql_where=sa.text("deleted_at IS NULL")
    )
    op.drop_table("tenants")
    op.drop_table("system_settings")
    op.drop_index("ix_system_metrics_name_time", table_name="system_metrics")
    op.drop_table("system_metrics")
    op.drop_table("permissions")
    op.drop_table("embedding_models")
    op.execute("DROP FUNCTION personae_ensure_partitions(regclass, integer, integer)")
    op.execute("DROP FUNCTION personae_current_tenant()")
    op.execute("DROP FUNCTION personae_uuidv7()")

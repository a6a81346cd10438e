"""rules, scenarios, scenario_archives, templates, variables, tool_activations,
migration_plans (004)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from personae.db.base import (
    Base,
    Created,
    SoftDelete,
    TenantKey,
    TenantOwned,
    Timestamps,
    gin,
    hnsw,
    json_array,
    json_object,
    live,
    one_of,
    searchable,
    tenant_fk,
)
from personae.db.types import EMBEDDING_DIMS, Vector

SCOPES = ("GLOBAL", "SCENARIO", "STEP")
TEMPLATE_MODES = ("SUGGEST", "EXCLUSIVE", "FALLBACK")
UPDATE_POLICIES = ("REPLACE", "APPEND", "MERGE")
REFRESHES = ("SESSION_START", "TURN", "RULE_FIRE")
MIGRATION_STATUSES = ("DRAFT", "APPROVED", "DEPLOYED", "REJECTED")
SCOPE_ID_RULE = "(scope = 'GLOBAL') = (scope_id IS NULL)"
SCOPE_STEP_RULE = "(scope = 'STEP') = (scope_step IS NOT NULL)"
PHRASINGS = ("CONDITION", "EXAMPLE")
SCENARIO_PHRASINGS = ("ENTRY", "TRANSITION")


class Rule(TenantOwned, Timestamps, SoftDelete, Base):
    __tablename__ = "rules"
    __table_args__ = (
        tenant_fk("agent_id", "agents"),
        one_of("scope", SCOPES),
        CheckConstraint(SCOPE_ID_RULE, name="scope_id_matches_scope"),
        CheckConstraint(SCOPE_STEP_RULE, name="scope_step_matches_scope"),
        live("idx_rules_tenant_agent", "tenant_id", "agent_id"),
        live("idx_rules_scope", "tenant_id", "agent_id", "scope", "scope_id"),
        hnsw("rules", "condition_embedding"),
        gin("rules", "condition_tsv"),
    )

    agent_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    condition_text: Mapped[str]
    condition_embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIMS))
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    action_type: Mapped[str] = mapped_column(String(50))
    action_config: Mapped[dict[str, Any]] = json_object()
    scope: Mapped[str] = mapped_column(String(20), server_default="GLOBAL")
    scope_id: Mapped[uuid.UUID | None]
    priority: Mapped[int] = mapped_column(server_default=text("0"))
    enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    condition_tsv: Mapped[Any] = searchable("name", "condition_text")
    examples: Mapped[list[str]] = mapped_column(server_default=text("'{}'::text[]"))
    """Messages the rule applies to, as customers phrase them (matched like the condition)."""
    scope_step: Mapped[str | None] = mapped_column(String(255))
    """For a STEP rule: the step of the scenario `scope_id` it applies in."""
    cooldown_turns: Mapped[int] = mapped_column(server_default=text("0"))
    """Turns of a session after a fire in which the rule does not fire again."""
    max_fires_per_session: Mapped[int | None]
    tags: Mapped[list[str]] = mapped_column(server_default=text("'{}'::text[]"))
    filter_expression: Mapped[str | None]
    """An expression over the session's variables and the customer's profile that must
    hold for the rule to apply (`behavior.expressions`)."""


class RulePhrasing(TenantOwned, Created, Base):
    """A rule's condition or one of its examples, embedded: what a message is matched to."""

    __tablename__ = "rule_phrasings"
    __table_args__ = (
        tenant_fk("rule_id", "rules"),
        one_of("kind", PHRASINGS),
        Index("idx_rule_phrasings_agent", "tenant_id", "agent_id"),
        Index("idx_rule_phrasings_rule", "tenant_id", "rule_id"),
        hnsw("rule_phrasings", "embedding"),
        gin("rule_phrasings", "text_tsv"),
    )

    rule_id: Mapped[uuid.UUID]
    agent_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str]
    embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIMS))
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    text_tsv: Mapped[Any] = searchable("text")


class RuleFire(TenantOwned, Created, Base):
    """A rule applied in a turn of a session (for cooldowns and the most fires a session)."""

    __tablename__ = "rule_fires"
    __table_args__ = (
        tenant_fk("rule_id", "rules"),
        tenant_fk("session_id", "sessions"),
        Index("idx_rule_fires_session", "tenant_id", "session_id", "rule_id"),
    )

    rule_id: Mapped[uuid.UUID]
    session_id: Mapped[uuid.UUID]
    turn_number: Mapped[int]
    run_id: Mapped[uuid.UUID | None]


class Scenario(TenantOwned, Timestamps, SoftDelete, Base):
    """A versioned conversation flow; each new version archives the previous one."""

    __tablename__ = "scenarios"
    __table_args__ = (
        tenant_fk("agent_id", "agents"),
        CheckConstraint("version >= 1", name="version_positive"),
        live("idx_scenarios_tenant_agent", "tenant_id", "agent_id"),
        hnsw("scenarios", "entry_embedding"),
    )

    agent_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    version: Mapped[int] = mapped_column(server_default=text("1"))
    entry_condition: Mapped[str | None]
    entry_embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIMS))
    embedding_model: Mapped[str | None] = mapped_column(String(100))
    steps: Mapped[list[Any]] = json_array()
    enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    entry_expression: Mapped[str | None]
    """An expression over the session's variables that enters the scenario when it holds
    (`behavior.expressions`), beside or instead of the plain-language `entry_condition`."""


class ScenarioPhrasing(TenantOwned, Created, Base):
    """A version of a scenario's entry condition, or one of its transitions' conditions,
    embedded: what a turn's message is matched to."""

    __tablename__ = "scenario_phrasings"
    __table_args__ = (
        tenant_fk("scenario_id", "scenarios"),
        one_of("kind", SCENARIO_PHRASINGS),
        Index("idx_scenario_phrasings_agent", "tenant_id", "agent_id"),
        Index("idx_scenario_phrasings_version", "tenant_id", "scenario_id", "version"),
        hnsw("scenario_phrasings", "embedding"),
    )

    scenario_id: Mapped[uuid.UUID]
    agent_id: Mapped[uuid.UUID]
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    step: Mapped[str | None] = mapped_column(String(255))
    """For a TRANSITION: the step it leaves."""
    transition: Mapped[int | None]
    """For a TRANSITION: its place among the step's transitions."""
    text: Mapped[str]
    embedding: Mapped[Any | None] = mapped_column(Vector(EMBEDDING_DIMS))
    embedding_model: Mapped[str | None] = mapped_column(String(100))


class ScenarioArchive(TenantKey, Base):
    __tablename__ = "scenario_archives"
    __table_args__ = (tenant_fk("scenario_id", "scenarios"),)

    scenario_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    scenario_data: Mapped[dict[str, Any]]
    archived_at: Mapped[datetime] = mapped_column(server_default=text("now()"))


class Template(TenantOwned, Timestamps, SoftDelete, Base):
    """A response template: suggested, exclusive or a fallback, by scope."""

    __tablename__ = "templates"
    __table_args__ = (
        tenant_fk("agent_id", "agents"),
        one_of("mode", TEMPLATE_MODES),
        one_of("scope", SCOPES),
        CheckConstraint(SCOPE_ID_RULE, name="scope_id_matches_scope"),
        CheckConstraint(SCOPE_STEP_RULE, name="scope_step_matches_scope"),
        live("idx_templates_tenant_agent", "tenant_id", "agent_id"),
    )

    agent_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(255))
    content: Mapped[str]
    mode: Mapped[str] = mapped_column(String(20), server_default="SUGGEST")
    scope: Mapped[str] = mapped_column(String(20), server_default="GLOBAL")
    scope_id: Mapped[uuid.UUID | None]
    scope_step: Mapped[str | None] = mapped_column(String(255))


class Variable(TenantOwned, Timestamps, SoftDelete, Base):
    __tablename__ = "variables"
    __table_args__ = (
        tenant_fk("agent_id", "agents"),
        one_of("update_policy", UPDATE_POLICIES),
        one_of("refresh", REFRESHES),
        CheckConstraint("ttl_seconds > 0", name="ttl_positive"),
        live("uq_variables_tenant_agent_name", "tenant_id", "agent_id", "name", unique=True),
        live("idx_variables_tenant_agent", "tenant_id", "agent_id"),
    )

    agent_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None]
    default_value: Mapped[str | None]
    update_policy: Mapped[str] = mapped_column(String(30), server_default="REPLACE")
    resolver_tool_id: Mapped[str | None] = mapped_column(String(255))
    """The tool that computes the value (by name), called with the session's variables."""
    refresh: Mapped[str] = mapped_column(String(20), server_default="SESSION_START")
    """When the resolver computes the value again: as a session starts, every turn, or
    when a rule setting it fires."""
    ttl_seconds: Mapped[int | None]
    """How long a computed value holds (none: until the next refresh)."""


class ToolActivation(TenantOwned, Timestamps, Base):
    """Which tools an agent may use, with policy overrides (names a tool by id or name)."""

    __tablename__ = "tool_activations"
    __table_args__ = (
        tenant_fk("agent_id", "agents"),
        UniqueConstraint("tenant_id", "agent_id", "tool_id", name="uq_tool_activations"),
        Index("idx_tool_activations_tenant_agent", "tenant_id", "agent_id"),
    )

    agent_id: Mapped[uuid.UUID]
    tool_id: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    policy_overrides: Mapped[dict[str, Any]] = json_object()


class MigrationPlan(TenantOwned, Created, Base):
    """How sessions in a scenario's old version move to its new version."""

    __tablename__ = "migration_plans"
    __table_args__ = (
        tenant_fk("scenario_id", "scenarios"),
        one_of("status", MIGRATION_STATUSES),
        CheckConstraint("to_version > from_version", name="versions_ascend"),
        Index(
            "idx_migration_plans_scenario",
            "tenant_id",
            "scenario_id",
            "from_version",
            "to_version",
        ),
    )

    scenario_id: Mapped[uuid.UUID]
    from_version: Mapped[int]
    to_version: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), server_default="DRAFT")
    transformation_map: Mapped[dict[str, Any]]
    anchor_policies: Mapped[dict[str, Any]] = json_object()
    scope_filter: Mapped[dict[str, Any] | None]
    approved_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime | None]
    deployed_at: Mapped[datetime | None]

"""Request and response shapes of rules, templates, variables and scenarios, from the models."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field, JsonValue

from personae.behavior.journeys import MAX_STEPS
from personae.behavior.models import MigrationPlan, Rule, Scenario, Template, Variable
from personae.behavior.rules import EXPORTED
from personae.db.shapes import input_shape, output_shape
from personae.validation import Input

MAX_EXAMPLES = 50
MAX_RULES_A_REQUEST = 1000

Example = Annotated[str, Field(min_length=1, max_length=2000)]
EXAMPLES = (list[Example], Field(None, max_length=MAX_EXAMPLES))
RULE_FIELDS = list(EXPORTED)
OVERRIDES: dict[str, tuple[Any, Any]] = {
    "condition_text": (str, Field(min_length=1, max_length=4000)),
    "examples": EXAMPLES,
    "action_type": (str, Field("INSTRUCT", min_length=1, max_length=50)),
    "cooldown_turns": (int, Field(None, ge=0, le=10_000)),
    "max_fires_per_session": (int | None, Field(None, ge=1, le=10_000)),
    "filter_expression": (str | None, Field(None, max_length=2000)),
}

if TYPE_CHECKING:  # shapes made at run time are, to a type checker, their base
    RuleOut = BaseModel
    RuleCreate = Input
    RuleUpdate = Input
else:
    RuleOut = output_shape(Rule, exclude=["condition_tsv"])
    RuleCreate = input_shape(
        Rule, RULE_FIELDS, required=["name", "condition_text"], overrides=OVERRIDES
    )
    RuleUpdate = input_shape(
        Rule,
        RULE_FIELDS,
        partial=True,
        overrides={
            **OVERRIDES,
            "condition_text": (str, Field(None, min_length=1, max_length=4000)),
        },
    )


class RulesImport(Input):
    """Rules put by name: new names created, known ones updated where they differ."""

    rules: list[RuleCreate] = Field(max_length=MAX_RULES_A_REQUEST)


class Imported(BaseModel):
    """What an import did: how many it created, updated and left as they were."""

    created: int
    updated: int
    unchanged: int


TEMPLATE_FIELDS = ["name", "content", "mode", "scope", "scope_id", "scope_step"]
TEMPLATE_OVERRIDES: dict[str, tuple[Any, Any]] = {
    "content": (str, Field(None, min_length=1, max_length=20_000)),
}
TemplateOut = output_shape(Template)
TemplateCreate = input_shape(
    Template,
    TEMPLATE_FIELDS,
    required=["name", "content"],
    overrides={**TEMPLATE_OVERRIDES, "content": (str, Field(min_length=1, max_length=20_000))},
)
TemplateUpdate = input_shape(Template, TEMPLATE_FIELDS, partial=True, overrides=TEMPLATE_OVERRIDES)

VARIABLE_FIELDS = [
    "name",
    "description",
    "default_value",
    "update_policy",
    "resolver_tool_id",
    "refresh",
    "ttl_seconds",
]
VARIABLE_OVERRIDES: dict[str, tuple[Any, Any]] = {
    "ttl_seconds": (int | None, Field(None, ge=1, le=30 * 86_400)),
}
VariableOut = output_shape(Variable)
VariableCreate = input_shape(
    Variable, VARIABLE_FIELDS, required=["name"], overrides=VARIABLE_OVERRIDES
)
VariableUpdate = input_shape(Variable, VARIABLE_FIELDS, partial=True, overrides=VARIABLE_OVERRIDES)

SCENARIO_FIELDS = ["name", "description", "entry_condition", "entry_expression", "steps", "enabled"]
MAX_SCENARIOS_A_REQUEST = 100
SCENARIO_OVERRIDES: dict[str, tuple[Any, Any]] = {
    "entry_condition": (str | None, Field(None, max_length=4000)),
    "entry_expression": (str | None, Field(None, max_length=2000)),
    "steps": (list[dict[str, JsonValue]], Field(None, max_length=MAX_STEPS)),
}
if TYPE_CHECKING:  # shapes made at run time are, to a type checker, their base
    ScenarioOut = BaseModel
    ScenarioCreate = Input
    ScenarioUpdate = Input
else:
    ScenarioOut = output_shape(Scenario)
    ScenarioCreate = input_shape(
        Scenario,
        SCENARIO_FIELDS,
        required=["name", "steps"],
        overrides={
            **SCENARIO_OVERRIDES,
            "steps": (list[dict[str, JsonValue]], Field(min_length=1, max_length=MAX_STEPS)),
        },
    )
    ScenarioUpdate = input_shape(
        Scenario, SCENARIO_FIELDS, partial=True, overrides=SCENARIO_OVERRIDES
    )


class ScenariosImport(Input):
    """Scenarios put by name: new names created, known ones updated (a new version)."""

    scenarios: list[ScenarioCreate] = Field(max_length=MAX_SCENARIOS_A_REQUEST)


class ScenarioVersion(BaseModel):
    """A version of a scenario: the current one or one archived when it was changed."""

    version: int
    current: bool
    archived_at: datetime | None
    name: str
    description: str | None
    entry_condition: str | None
    entry_expression: str | None
    steps: list[dict[str, JsonValue]]
    enabled: bool


class MigrationPlanCreate(Input):
    """A plan from one version of a scenario to the next (by default: from the version
    before the current one to the current one)."""

    from_version: int | None = Field(None, ge=1)
    to_version: int | None = Field(None, ge=1)
    anchor_policies: dict[str, dict[str, JsonValue]] | None = Field(None, max_length=MAX_STEPS)
    """Per step of the version migrated from: `{"policy": ..., "to": step}`."""
    scope_filter: dict[str, list[JsonValue]] | None = Field(None, max_length=4)
    """Only the sessions with these ids, steps, customer profiles or channels."""


if TYPE_CHECKING:
    MigrationPlanOut = BaseModel
else:
    MigrationPlanOut = output_shape(MigrationPlan)

"""The two small languages a tenant writes in: guard and filter expressions, and response
templates. What they compute, and what they refuse: anything that would reach out of the
values they are given, or take the process's memory or time."""

from __future__ import annotations

import pytest

from personae.behavior import expressions, templates, variables
from personae.errors import ValidationFailed


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("not contains(lower(answer), 'guarantee')", {"answer": "We GUARANTEE it"}, False),
        ("len(answer) < 20 and words(answer) <= 3", {"answer": "Fine, thanks."}, True),
        ("profile['tier'] in ['gold', 'platinum']", {"profile": {"tier": "gold"}}, True),
        ("number(limit) * 2 if tier == 'gold' else 0", {"limit": "21", "tier": "gold"}, 42.0),
        ("contains_any(message, ['stolen', 'lost'])", {"message": "card lost"}, True),
    ],
)
def test_an_expression_computes_over_its_values(
    source: str, values: dict[str, object], expected: object
) -> None:
    assert expressions.parse(source, "f").evaluate(values) == expected


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('id')",
        "answer.upper()",
        "().__class__.__bases__",
        "[x for x in answer]",
        "lambda: 0",
        "2 ** 100",
        "open('/etc/passwd')",
        "f'{answer}'",
        "len(answer) <",
        "",
    ],
)
def test_an_expression_outside_the_grammar_is_refused_naming_its_field(source: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        expressions.parse(source, "configuration.guards.checks.0.expression")
    assert refused.value.field == "configuration.guards.checks.0.expression"


@pytest.mark.parametrize(
    "source",
    ["'x' * 1000000", "text([[[0] * 1000] * 1000] * 1000)", "missing == 1", "1 / 0"],
)
def test_an_expression_cannot_build_without_bound_or_read_what_it_lacks(source: str) -> None:
    with pytest.raises(expressions.EvaluationFailed):
        expressions.parse(source, "f").evaluate({})


def test_a_template_renders_strictly_with_the_values_it_reads() -> None:
    content = "Dear {{ profile.name | default('customer') }}, your {{ plan | upper }} plan."
    assert templates.names_read(content) == {"profile", "plan"}
    assert templates.render(content, {"profile": {}, "plan": "gold"}) == (
        "Dear customer, your GOLD plan."
    )
    with pytest.raises(templates.RenderFailed, match="plan"):
        templates.render(content, {"profile": {}})


@pytest.mark.parametrize(
    "content",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ 'x'.ljust(999999999) }}",
        "{{ '%999999999d' % 1 }}",
        "{{ 'x' * 999999999 }}",
        "{{ 2 ** 99999999 }}",
        "{% for i in range(1000) %}{{ message }}{% endfor %}",
        "{{ message | replace('', message) }}",
    ],
)
def test_a_template_cannot_reach_out_or_grow_without_bound(content: str) -> None:
    with pytest.raises(templates.RenderFailed):
        templates.render(content, {"message": "m" * 1000})


@pytest.mark.parametrize(
    "content",
    [
        "{{ x ",
        "{% for a in b %}{% for c in d %}{% endfor %}{% endfor %}",
        "{% macro m() %}{% endmacro %}",
        "{% include 'other' %}",
        "{{ x | center(99) }}",
    ],
)
def test_a_template_that_does_not_compile_is_refused_naming_content(content: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        templates.compile_content(content)
    assert refused.value.field == "content"


def test_variables_update_by_their_policy() -> None:
    assert variables.updated("REPLACE", "a", "b") == "b"
    assert variables.updated("APPEND", "a", "b") == ["a", "b"]
    assert variables.updated("APPEND", None, ["a", "b"]) == ["a", "b"]
    assert variables.updated("MERGE", {"a": 1}, {"b": 2}) == {"a": 1, "b": 2}
    assert len(variables.updated("APPEND", list(range(100)), 100)) == variables.MAX_APPENDED
    with pytest.raises(ValidationFailed):
        variables.updated("MERGE", {"a": 1}, "b")

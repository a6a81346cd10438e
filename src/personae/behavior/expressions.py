"""Expressions a tenant writes (output guards, rule filters), evaluated without `eval`.

The grammar is a small part of Python's: literals, names, `and` / `or` / `not`,
comparisons (with `in`), arithmetic, `x if c else y`, indexing (`profile["tier"]`) and
calls of the functions in `FUNCTIONS`. No attributes, no lambdas, no comprehensions: an
expression reads the values it is given and computes, nothing else. Its size is bounded
(`MAX_CHARS`, `MAX_NODES`) and so is every string or list it builds (`MAX_VALUE`), so a
tenant's expression cannot take the process's memory or time.

`parse` refuses what is not in the grammar when the expression is written (422 naming
the field); `Expression.evaluate` fails with `EvaluationFailed` naming what went wrong
(an unknown name, a missing key, a type that does not fit)."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from personae.errors import PersonaeError, ValidationFailed

MAX_CHARS = 2000
MAX_NODES = 300
MAX_VALUE = 100_000
"""The longest string or list an expression may build (characters or items)."""


class EvaluationFailed(PersonaeError):
    """An expression could not be evaluated over the values it was given."""


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise EvaluationFailed(f"expected text, got {type(value).__name__}")
    return value


def _scalar_text(value: Any) -> str:
    if not isinstance(value, str | int | float | bool | None):
        raise EvaluationFailed(
            f"text() takes text, a number or a boolean, not {type(value).__name__}"
        )
    return str(value)


def _contains_any(text: Any, needles: Any) -> bool:
    if not isinstance(needles, list | tuple):
        raise EvaluationFailed("contains_any takes a list of texts")
    return any(_text(n) in _text(text) for n in needles)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "lower": lambda s: _text(s).lower(),
    "upper": lambda s: _text(s).upper(),
    "strip": lambda s: _text(s).strip(),
    "contains": lambda s, part: _text(part) in _text(s),
    "contains_any": _contains_any,
    "startswith": lambda s, part: _text(s).startswith(_text(part)),
    "endswith": lambda s, part: _text(s).endswith(_text(part)),
    "count": lambda s, part: _text(s).count(_text(part)),
    "words": lambda s: len(_text(s).split()),
    "number": float,
    "text": _scalar_text,
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
}
"""What an expression may call, by name."""

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_ALLOWED = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Compare,
    ast.IfExp,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.List,
    ast.Tuple,
    ast.Subscript,
    ast.Call,
    *_BINARY,
    *_COMPARE,
)


@dataclass(frozen=True)
class Expression:
    """A parsed expression; `evaluate` it over named values."""

    source: str
    tree: ast.Expression

    def names(self) -> set[str]:
        """The names it reads (functions aside)."""
        called = {id(n.func) for n in ast.walk(self.tree) if isinstance(n, ast.Call)}
        return {
            n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name) and id(n) not in called
        }

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        """Its value over `values` (EvaluationFailed saying why it has none)."""
        try:
            return _Evaluator(values).visit(self.tree.body)
        except EvaluationFailed:
            raise
        except (TypeError, ValueError, ZeroDivisionError, IndexError, OverflowError) as wrong:
            raise EvaluationFailed(f"{type(wrong).__name__}: {wrong}") from None


@lru_cache(maxsize=512)
def parsed(source: str) -> Expression:
    """`parse`, remembered (a rule's filter is evaluated on every turn it is a candidate)."""
    return parse(source, "expression")


def parse(source: str, field: str) -> Expression:
    """The expression `source`, or 422 naming `field` if it is not one we evaluate."""
    if not source.strip():
        raise ValidationFailed("an expression may not be empty", field=field)
    if len(source) > MAX_CHARS:
        raise ValidationFailed(f"at most {MAX_CHARS} characters", field=field)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as wrong:
        raise ValidationFailed(f"does not parse: {wrong.msg}", field=field) from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ValidationFailed(f"too long: at most {MAX_NODES} parts", field=field)
    for node in nodes:
        if not isinstance(node, _ALLOWED):
            raise ValidationFailed(f"{type(node).__name__} is not allowed here", field=field)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                known = ", ".join(sorted(FUNCTIONS))
                raise ValidationFailed(f"calls only {known}", field=field)
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise ValidationFailed("a call takes plain arguments", field=field)
        if isinstance(node, ast.Constant) and not isinstance(
            node.value, str | int | float | bool | type(None)
        ):
            raise ValidationFailed("only text, numbers, booleans and None", field=field)
    return Expression(source, tree)


class _Evaluator:
    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values

    def visit(self, node: ast.AST) -> Any:
        match node:
            case ast.Constant(value=value):
                return value
            case ast.Name(id=name):
                if name not in self.values:
                    raise EvaluationFailed(f"no value named {name}")
                return self.values[name]
            case ast.BoolOp(op=ast.And(), values=parts):
                result: Any = True
                for part in parts:
                    result = self.visit(part)
                    if not result:
                        return result
                return result
            case ast.BoolOp(values=parts):  # or
                result = False
                for part in parts:
                    result = self.visit(part)
                    if result:
                        return result
                return result
            case ast.UnaryOp(op=ast.Not(), operand=operand):
                return not self.visit(operand)
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return -_number(self.visit(operand))
            case ast.UnaryOp(operand=operand):
                return +_number(self.visit(operand))
            case ast.BinOp(left=left, op=binary, right=right):
                a, b = self.visit(left), self.visit(right)
                if isinstance(binary, ast.Mult) and (_sized(a) or _sized(b)):
                    times = b if _sized(a) else a
                    size = len(a) if _sized(a) else len(b)
                    if not isinstance(times, int) or times * size > MAX_VALUE:
                        raise EvaluationFailed(f"a value longer than {MAX_VALUE}")
                return _bounded(_BINARY[type(binary)](a, b))
            case ast.Compare(left=left, ops=ops, comparators=rights):
                a = self.visit(left)
                for op, right in zip(ops, rights, strict=True):
                    b = self.visit(right)
                    if not _COMPARE[type(op)](a, b):
                        return False
                    a = b
                return True
            case ast.IfExp(test=test, body=body, orelse=orelse):
                return self.visit(body) if self.visit(test) else self.visit(orelse)
            case ast.List(elts=items) | ast.Tuple(elts=items):
                return [self.visit(item) for item in items]
            case ast.Subscript(value=value, slice=key):
                container, index = self.visit(value), self.visit(key)
                if isinstance(container, Mapping):
                    if index not in container:
                        raise EvaluationFailed(f"no key {index!r}")
                    return container[index]
                if isinstance(container, list | tuple | str) and isinstance(index, int):
                    return container[index]
                raise EvaluationFailed(f"cannot index {type(container).__name__}")
            case ast.Call(func=ast.Name(id=name), args=args):
                return _bounded(FUNCTIONS[name](*(self.visit(a) for a in args)))
        raise EvaluationFailed(f"{type(node).__name__} is not allowed")  # parse refused it


def _sized(value: Any) -> bool:
    return isinstance(value, str | list)


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EvaluationFailed(f"expected a number, got {type(value).__name__}")
    return value


def _bounded(value: Any) -> Any:
    if _sized(value) and len(value) > MAX_VALUE:
        raise EvaluationFailed(f"a value longer than {MAX_VALUE}")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**18:
        raise EvaluationFailed("a number too large")
    return value

"""Arithmetic without `eval`: an expression's syntax tree, walked over an allow-list of
operators and functions, with bounds so no expression can take the server's time."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from personae.errors import ValidationFailed

MAX_LENGTH = 500
MAX_POWER = 1000
"""Exponents beyond this are refused (9 ** 9 ** 9 would run for hours)."""
MAX_BITS = 14_000
"""Integers are kept below this size (about 4,200 digits, under Python's limit for
writing one out), whatever builds them."""
BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "log": math.log,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
}
CONSTANTS = {"pi": math.pi, "e": math.e}


def evaluate(expression: str) -> float | int:
    """The value of an arithmetic `expression`; 422 for anything else."""
    if len(expression) > MAX_LENGTH:
        raise ValidationFailed(f"at most {MAX_LENGTH} characters", field="arguments.expression")
    try:
        tree = ast.parse(expression, mode="eval")
        value = _value(tree.body)
    except (SyntaxError, ValueError, TypeError, ZeroDivisionError, OverflowError) as error:
        raise ValidationFailed(
            f"cannot compute it: {error}", field="arguments.expression"
        ) from None
    if not isinstance(value, int | float) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise ValidationFailed("not a finite number", field="arguments.expression")
    return value


def _value(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name) and node.id in CONSTANTS:
        return CONSTANTS[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_POWER:
            raise ValueError(f"exponents are at most {MAX_POWER}")
        if _bits_of(node.op, left, right) > MAX_BITS:
            raise ValueError("the number would be too large")
        return _bounded(BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        return UNARY[type(node.op)](_value(node.operand))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in FUNCTIONS
        and not node.keywords
    ):
        return _bounded(FUNCTIONS[node.func.id](*(_value(a) for a in node.args)))
    raise ValueError(f"{ast.unparse(node)!r} is not arithmetic")


def _bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) else 64


def _bits_of(op: ast.operator, left: Any, right: Any) -> int:
    """About how many bits the result of `left op right` needs."""
    if isinstance(op, ast.Pow):
        return _bits(left) * int(abs(right))
    if isinstance(op, ast.Mult):
        return _bits(left) + _bits(right)
    return max(_bits(left), _bits(right)) + 1


def _bounded(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_BITS:
        raise ValueError("the number would be too large")
    return value

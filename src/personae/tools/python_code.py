"""The contract of a `python` tool's code, checked when it is written (by reading it, never
running it in this process):

    def main(**arguments):   # or the name in settings["entry"]
        return {...}         # what the tool answers: JSON

The code is a module; its entry function is defined at the top level with `def` (not
`async def`) and is called with the tool's arguments as keyword arguments."""

from __future__ import annotations

import ast

from personae.errors import ValidationFailed

ENTRY = "main"
CONTRACT = (
    "a python tool defines `def {entry}(**arguments)` at its top level: it is called with "
    "the tool's arguments as keywords and returns the answer (JSON)"
)


def check_code(code: str, entry: str = ENTRY) -> None:
    """422 on `code` unless it parses and defines `entry` as a top-level `def`."""
    try:
        module = ast.parse(code, "<tool>")
    except SyntaxError as error:
        raise ValidationFailed(f"line {error.lineno}: {error.msg}", field="code") from None
    except ValueError as error:  # NUL bytes and the like
        raise ValidationFailed(str(error), field="code") from None
    defined = [
        node
        for node in module.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry
    ]
    if not defined or isinstance(defined[-1], ast.AsyncFunctionDef):
        raise ValidationFailed(CONTRACT.format(entry=entry), field="code")

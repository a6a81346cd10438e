"""Every outside package the code imports is declared in pyproject.toml: `pip install .`
alone must be enough to serve (the optional embedder and providers in their extras)."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "personae"
EXTRA_MODULES = {  # a module that imports an extra's packages, and that extra
    "providers/embeddings/minilm.py": "minilm",
    "providers/chat/anthropic.py": "anthropic",
}
BROUGHT_BY = {"starlette": "fastapi", "pydantic-core": "pydantic"}
"""Packages that are part of another declared one (same authors, versions pinned by it)."""


def _name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert found, requirement
    return found.group().lower().replace("_", "-")


def _imports(path: Path) -> set[str]:
    tops = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            tops |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.split(".")[0])
    return {t for t in tops if t not in sys.stdlib_module_names and t != "personae"}


def test_every_imported_package_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {_name(r) for r in project["dependencies"]}
    extras = {k: {_name(r) for r in v} for k, v in project["optional-dependencies"].items()}
    distributions = packages_distributions()
    missing = []
    for path in sorted(SOURCE.rglob("*.py")):
        where = path.relative_to(SOURCE).as_posix()
        declared = core | extras.get(EXTRA_MODULES.get(where, ""), set())
        for module in sorted(_imports(path)):
            names = {_name(d) for d in distributions.get(module, [module])}
            if not names & declared and not {BROUGHT_BY.get(n) for n in names} & declared:
                missing.append(f"{where}: {module}")
    assert missing == []

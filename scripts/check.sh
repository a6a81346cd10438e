#!/usr/bin/env bash
# Lint, types, layering and the whole test suite: the one command to run before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== ruff"; ruff check src tests bench; ruff format --check src tests bench
echo "== mypy --strict"; mypy src tests bench
echo "== import-linter"; lint-imports
echo "== pytest"; python -m pytest "$@"

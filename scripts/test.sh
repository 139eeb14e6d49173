#!/usr/bin/env bash
# The test command: lint, types, and every test (unit, endpoint, and the real pulumi CLI).
set -euo pipefail
PULUMI_FINETUNE_EXTRAS="dev" source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"
ruff check pulumi_finetune tests benchmarks scripts examples
ruff format --check pulumi_finetune tests benchmarks scripts examples
mypy
# The job schema must match OpenAI's facts (only checkable where ../shared/reference exists).
if [ -d "$REPO/../shared/reference" ]; then python scripts/derive_schemas.py --check; fi
pytest "$@"

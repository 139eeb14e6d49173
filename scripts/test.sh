#!/usr/bin/env bash
# The test command: lint, types, and every test (unit, endpoint, and the real pulumi CLI).
set -euo pipefail
PULUMI_FINETUNE_EXTRAS="dev" source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"
ruff check pulumi_finetune tests benchmarks scripts
ruff format --check pulumi_finetune tests benchmarks scripts
mypy
python scripts/derive_schemas.py --check 2>/dev/null || [ ! -d ../shared/reference ]
pytest "$@"

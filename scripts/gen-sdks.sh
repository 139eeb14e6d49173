#!/usr/bin/env bash
# Generates the plugin's SDKs with Pulumi's own generators: sdk/nodejs, sdk/go, sdk/python.
#
#   bash scripts/gen-sdks.sh            # write sdk/schema.json and the three SDKs
#   bash scripts/gen-sdks.sh --check    # fail, naming the files, if sdk/ differs from a fresh run
#
# The schema is the plugin's own (`python -m pulumi_finetune.plugin.schema`, from the tables in
# pulumi_finetune/schema.py, pulumi_finetune/nested.py and the host rows); the generators are
# github.com/pulumi/pulumi/pkg/v3/codegen/{nodejs,go,python} at the CLI's version, built once by
# scripts/install-sdkgen.sh. Run it after changing a table or upgrading the package, and commit sdk/.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
# A Python that imports this package: $PYTHON, else the clone's .venv (whatever its extras), else
# the one scripts/env.sh sets up.
python_bin="${PYTHON:-$REPO/.venv/bin/python}"
if ! "$python_bin" -c "import pulumi_finetune.plugin.schema" >/dev/null 2>&1; then
  source scripts/env.sh
  python_bin="$(command -v python)"
fi
sdkgen="$(bash scripts/install-sdkgen.sh)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$python_bin" -m pulumi_finetune.plugin.schema >"$out/schema.json"
"$sdkgen" "$out/schema.json" "$out"
if [ "${1:-}" = "--check" ]; then
  # What installing an SDK from the clone leaves beside it (the SDKs' own .gitignore) is no change.
  ignored=(-x node_modules -x bin -x __pycache__ -x '*.pyc' -x build -x dist -x '*.egg-info' -x .mypy_cache)
  if ! diff -r -q "${ignored[@]}" sdk "$out" >"$out.diff" 2>&1; then
    echo "gen-sdks: sdk/ is stale (run bash scripts/gen-sdks.sh and commit sdk/):" >&2
    sed "s#$out#(fresh)#g" "$out.diff" >&2
    rm -f "$out.diff"
    exit 1
  fi
  rm -f "$out.diff"
  exit 0
fi
rm -rf sdk.partial
cp -r "$out" sdk.partial
rm -rf sdk
mv sdk.partial sdk
echo "wrote sdk/schema.json, sdk/nodejs, sdk/go, sdk/python" >&2

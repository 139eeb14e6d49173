# Sourced by the scripts: a virtualenv in .venv with the package, and the pulumi CLI on PATH,
# with Pulumi's offline settings. Everything is installed on first use and reused after.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PULUMI_FINETUNE_VENV:-$REPO/.venv}"
EXTRAS="${PULUMI_FINETUNE_EXTRAS:-local,tokens}"

python_bin="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$python_bin" -m venv "$VENV"
fi
stamp="$VENV/.installed-$EXTRAS-$(cat "$REPO/pyproject.toml" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$REPO[$EXTRAS]" >&2
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi

ENGINE="$(bash "$REPO/scripts/install-pulumi.sh")"
export PATH="$ENGINE:$VENV/bin:$PATH"
export PULUMI_PYTHON_CMD="$VENV/bin/python"
export PULUMI_SKIP_UPDATE_CHECK=1
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=1
export PULUMI_IGNORE_AMBIENT_PLUGINS=1

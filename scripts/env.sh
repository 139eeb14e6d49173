# Sourced by the scripts: a virtualenv in .venv with the package, and the pulumi CLI on PATH,
# with Pulumi's offline settings. Everything is installed on first use and reused after.
# Quiet: one line per phase that does work (pip's output goes to $VENV/install.log and the CLI
# build's to the cache dir; each is shown only on failure), nothing when all is in place.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PULUMI_FINETUNE_VENV:-$REPO/.venv}"
EXTRAS="${PULUMI_FINETUNE_EXTRAS:-local,tokens}"

python_bin="${PYTHON:-python3}"
setup_did_work=""
stamp="$VENV/.installed-$EXTRAS-$(sha256sum <"$REPO/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "installing Python packages..." >&2
  setup_did_work=1
  mkdir -p "$VENV"
  install_log="$VENV/install.log"
  if ! {
    { [ -x "$VENV/bin/python" ] || "$python_bin" -m venv "$VENV"; } &&
      "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip &&
      "$VENV/bin/python" -m pip install --disable-pip-version-check -e "$REPO[$EXTRAS]"
  } >"$install_log" 2>&1; then
    echo "installing Python packages failed; the end of $install_log:" >&2
    tail -n 30 "$install_log" >&2
    return 1 2>/dev/null || exit 1
  fi
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi

# The package's bytecode, as pip writes it when it installs a wheel: with PYTHONDONTWRITEBYTECODE
# set (as on CI machines), every program and provider process would otherwise compile the package
# from source again (about 20 ms each). Files already compiled are skipped.
"$VENV/bin/python" -m compileall -q "$REPO/pulumi_finetune" >/dev/null 2>&1 || true

if ! ENGINE="$(bash "$REPO/scripts/install-pulumi.sh" --cached)"; then
  setup_did_work=1
  ENGINE="$(bash "$REPO/scripts/install-pulumi.sh")"
fi
if [ -n "$setup_did_work" ]; then echo "ready" >&2; fi
unset setup_did_work
export PATH="$ENGINE:$VENV/bin:$PATH"
export PULUMI_PYTHON_CMD="$VENV/bin/python"
export PULUMI_SKIP_UPDATE_CHECK=1
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=1
export PULUMI_IGNORE_AMBIENT_PLUGINS=1

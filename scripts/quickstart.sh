#!/usr/bin/env bash
# The quickstart: a local endpoint, a local file backend, `pulumi up` of the root project.
# No account, no internet (beyond package installs on first run).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$REPO"

STATE="$REPO/.pulumi-state"
ENDPOINT_DIR="$REPO/.local-endpoint"
mkdir -p "$STATE" "$ENDPOINT_DIR"
export PULUMI_BACKEND_URL="file://$STATE"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-quickstart}"
export PULUMI_HOME="${PULUMI_HOME:-$STATE/.pulumi-home}"
KEY="${PULUMI_FINETUNE_LOCAL_KEY:-sk-local-quickstart}"
PORT="${PULUMI_FINETUNE_LOCAL_PORT:-8089}"

# The quickstart's job takes about 12 s on the endpoint's clock at speed 3.
python -m pulumi_finetune.local --port "$PORT" --data-dir "$ENDPOINT_DIR" --key "$KEY" \
  --clock-speed "${PULUMI_FINETUNE_CLOCK_SPEED:-3}" >"$ENDPOINT_DIR/endpoint.log" 2>&1 &
endpoint_pid=$!
trap 'kill $endpoint_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  grep -q listening "$ENDPOINT_DIR/endpoint.log" 2>/dev/null && break
  kill -0 $endpoint_pid 2>/dev/null || { cat "$ENDPOINT_DIR/endpoint.log" >&2; exit 1; }
  sleep 0.2
done
echo "local endpoint: http://127.0.0.1:$PORT/v1 (log: $ENDPOINT_DIR/endpoint.log)"

pulumi stack select dev --create --non-interactive >/dev/null
pulumi config set finetune:baseUrl "http://127.0.0.1:$PORT/v1" --non-interactive
pulumi config set --secret finetune:apiKey "$KEY" --non-interactive
pulumi up --yes --non-interactive "$@"
echo
# The job's estimate (known in preview, at its declared 3 epochs) next to what was trained.
pulumi stack output --json --non-interactive | python -c '
import json, sys
out = json.load(sys.stdin)
model, trained, estimated, usd = (
    out[k] for k in ("model", "trained_tokens", "estimated_billed_tokens", "estimated_cost_usd")
)
print("fine-tuned model:", model)
print(f"tokens trained: {trained:,} (estimated in preview: {estimated:,} tokens, ${usd:.4f})")
'

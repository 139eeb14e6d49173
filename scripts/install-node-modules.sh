#!/usr/bin/env bash
# Provides the npm packages of a TypeScript Pulumi program, pinned, cached outside the clone.
#
#   bash scripts/install-node-modules.sh [--cached]
#
# Prints a directory whose node_modules holds what examples/typescript/package.json pins
# (@pulumi/pulumi, typescript, ts-node, @types/node): link it into a TypeScript project as
# node_modules. Keyed by that package.json's content under $cache_root/node; installed once with
# npm (the registry is needed the first time only), quietly (npm's output goes to
# $cache_root/install-node-modules.log, shown on failure). With --cached: prints it only if it is
# installed, else exits 1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_root="${PULUMI_FINETUNE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-finetune}"
manifest="$here/examples/typescript/package.json"
dest="$cache_root/node/$(sha256sum <"$manifest" | cut -c1-16)"

if [ -f "$dest/.installed" ]; then
  echo "$dest"
  exit 0
fi
if [ "${1:-}" = "--cached" ]; then
  exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-node-modules: npm is needed (apt-get install nodejs npm)" >&2
  exit 1
fi
echo "installing the npm packages of TypeScript programs (once)..." >&2
log="$cache_root/install-node-modules.log"
tmp="$dest.partial.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
cp "$manifest" "$tmp/package.json"
if ! npm install --prefix "$tmp" --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
  echo "install-node-modules: npm install failed; the end of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
touch "$tmp/.installed"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "$dest"

#!/usr/bin/env bash
# Provides the npm packages of a TypeScript Pulumi program, pinned, cached outside the clone.
#
#   bash scripts/install-node-modules.sh [--cached]
#
# Prints a directory whose node_modules holds what examples/typescript/package.json pins
# (@pulumi/pulumi, typescript, ts-node, @types/node) and the generated SDK sdk/nodejs
# (@pulumi-finetune/finetune, installed as the example's README installs it: as a package, built
# by its postinstall): link it into a TypeScript project as node_modules. Keyed by that
# package.json's content and the SDK's files under $cache_root/node; installed with npm when
# either changes (the registry is needed then), quietly (npm's output goes to
# $cache_root/install-node-modules.log, shown on failure). With --cached: prints it only if it is
# installed, else exits 1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_root="${PULUMI_FINETUNE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-finetune}"
manifest="$here/examples/typescript/package.json"
sdk="$here/sdk/nodejs"
key="$(
  cd "$here"
  {
    cat "$manifest"
    find sdk/nodejs -type f -not -path '*/node_modules/*' -not -path 'sdk/nodejs/bin/*' | LC_ALL=C sort |
      xargs sha256sum
  } | sha256sum | cut -c1-16
)"
dest="$cache_root/node/$key"

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
# The example names the SDK by its path in the clone; here it is the clone's absolute path.
sed "s#\"file:../../sdk/nodejs\"#\"file:$sdk\"#" "$manifest" >"$tmp/package.json"
if ! npm install --prefix "$tmp" --install-links --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
  echo "install-node-modules: npm install failed; the end of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
touch "$tmp/.installed"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "$dest"

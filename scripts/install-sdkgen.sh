#!/usr/bin/env bash
# Provides `sdkgen` (tools/sdkgen): Pulumi's own SDK generators, pinned, cached outside the clone.
#
#   bash scripts/install-sdkgen.sh [--cached]
#
# Prints the path of the built `sdkgen`. It is built from Go modules with the module graph of the
# pinned CLI (tools/sdkgen/go.mod is tools/engine/cli/go.mod, plus the two modules the code
# generators need beyond the CLI), so it compiles the same package versions as the CLI and reuses
# the CLI's Go build cache (5-15 s after scripts/install-pulumi.sh has built the CLI; 2.5 min
# with an empty build cache on 2 shared cores). Keyed by the pkg/v3
# version and the generator's source, under $cache_root/sdkgen. With --cached: prints it only if
# it is built, else exits 1. Quiet: the Go toolchain's output goes to $cache_root/install-sdkgen.log,
# shown only on failure.
#
# Pin: github.com/pulumi/pulumi/pkg/v3 v3.274.1, codegen/{nodejs,go,python} (the CLI's version).
set -euo pipefail

PKG_VERSION="3.274.1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_root="${PULUMI_FINETUNE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-finetune}"
source_key="$(cat "$here/tools/sdkgen/go.mod" "$here/tools/sdkgen/main.go" | sha256sum | cut -c1-12)"
dest="$cache_root/sdkgen/pkg-v${PKG_VERSION}-${source_key}/sdkgen"

if [ -x "$dest" ]; then
  echo "$dest"
  exit 0
fi
if [ "${1:-}" = "--cached" ]; then
  exit 1
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-sdkgen: the Go toolchain is needed to build Pulumi's SDK generators (apt-get install golang)" >&2
  exit 1
fi
mkdir -p "$(dirname "$dest")"
log="$cache_root/install-sdkgen.log"
: >"$log"
echo "building Pulumi's SDK generators (once, ~15 s after the CLI's build)..." >&2
# -mod=mod: the module graph may gain go.sum lines in the build (kept out of the clone's tree by
# building from a copy of the module).
work="$(mktemp -d)"
trap 'rm -rf "$work" "$dest.partial.$$"' EXIT
cp "$here/tools/sdkgen/go.mod" "$here/tools/sdkgen/go.sum" "$here/tools/sdkgen/main.go" "$work/"
if ! GOFLAGS="-mod=mod" go -C "$work" build -trimpath -ldflags "-s -w" -o "$dest.partial.$$" . \
  >>"$log" 2>&1; then
  echo "install-sdkgen: building sdkgen failed; the end of $log:" >&2
  grep -v '^go: downloading' "$log" | tail -n 40 >&2
  exit 1
fi
mv "$dest.partial.$$" "$dest"
echo "$dest"

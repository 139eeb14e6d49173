#!/usr/bin/env bash
# Provides Pulumi's YAML and Node.js language hosts beside the pinned CLI, cached outside the clone.
#
#   bash scripts/install-language-hosts.sh [--cached]
#
# Prints a directory holding everything scripts/install-pulumi.sh provides (`pulumi`, the Python
# language host and its launchers, as hard links) plus `pulumi-language-yaml`,
# `pulumi-language-nodejs` and `pulumi-language-go`: the CLI looks for language hosts beside itself (with
# PULUMI_IGNORE_AMBIENT_PLUGINS set, as the tests run it, nowhere else). With --cached: prints it
# only if it is complete, else exits 1 without building.
#
# Quiet: one line on stderr per host it builds; the Go toolchain's output goes to
# $cache_root/install-language-hosts.log, shown only on failure. Each host is built once per
# version (keyed by version under $cache_root/langhosts) and reused by every clone on the machine.
#
# Pins (tools/engine/{yaml,nodejs,go}/go.mod hold the full module graphs):
#   YAML     github.com/pulumi/pulumi-yaml v1.25.0, cmd/pulumi-language-yaml (the newest release the
#            module proxy reachable here serves).
#   Node.js  github.com/pulumi/pulumi/sdk/v3 v3.68.0, nodejs/cmd/pulumi-language-nodejs: like the
#            Python host, it later moved to a module of its own
#            (sdk/nodejs/cmd/pulumi-language-nodejs/v3) that the proxy does not serve; v3.68.0 is
#            the newest sdk release that carries it. The program runs with the current
#            @pulumi/pulumi from npm (its own `cmd/run`).
#   Go       github.com/pulumi/pulumi/sdk/v3 v3.62.0, go/pulumi-language-go: it moved to a module of
#            its own (sdk/go/pulumi-language-go/v3) earlier than the other two; of the sdk releases
#            the proxy serves (v3.52.0, v3.58.0, v3.61.0, v3.62.0, v3.67.0, ...), v3.62.0 is the
#            newest that carries it. It builds the program with the `go` on PATH; the program
#            itself uses the current github.com/pulumi/pulumi/sdk/v3 from its own go.mod.
set -euo pipefail

YAML_VERSION="1.25.0"
NODEJS_HOST_SDK_VERSION="3.68.0"
GO_HOST_SDK_VERSION="3.62.0"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_root="${PULUMI_FINETUNE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-finetune}"
build_log="$cache_root/install-language-hosts.log"

log() { printf '%s\n' "$*" >&2; }

cached_only=""
if [ "${1:-}" = "--cached" ]; then cached_only=1; fi

if [ -n "$cached_only" ]; then
  engine="$(bash "$here/scripts/install-pulumi.sh" --cached)" || exit 1
else
  engine="$(bash "$here/scripts/install-pulumi.sh")"
fi
yaml_bin="$cache_root/langhosts/yaml-v${YAML_VERSION}/pulumi-language-yaml"
nodejs_bin="$cache_root/langhosts/nodejs-sdk-v${NODEJS_HOST_SDK_VERSION}/pulumi-language-nodejs"
go_bin="$cache_root/langhosts/go-sdk-v${GO_HOST_SDK_VERSION}/pulumi-language-go"
dest="$cache_root/engine/$(basename "$engine")+yaml-v${YAML_VERSION}+nodejs-v${NODEJS_HOST_SDK_VERSION}+go-v${GO_HOST_SDK_VERSION}"

complete() {
  [ -x "$dest/pulumi" ] && [ -x "$dest/pulumi-language-yaml" ] && [ -x "$dest/pulumi-language-nodejs" ] &&
    [ -x "$dest/pulumi-language-go" ]
}
if complete; then
  echo "$dest"
  exit 0
fi
if [ -n "$cached_only" ]; then
  exit 1
fi
if ! command -v go >/dev/null 2>&1; then
  log "install-language-hosts: the Go toolchain is needed to build Pulumi's language hosts here (apt-get install golang)"
  exit 1
fi
mkdir -p "$cache_root"
: >"$build_log"

# `build WHAT MODULE_DIR PACKAGE OUTPUT` builds PACKAGE from the module graph in MODULE_DIR.
build() {
  local what="$1" module="$2" package="$3" output="$4"
  [ -x "$output" ] && return 0
  log "building the $what language host (once, a few minutes)..."
  mkdir -p "$(dirname "$output")"
  if ! GOFLAGS="-mod=mod" go -C "$here/tools/engine/$module" build -trimpath -ldflags "-s -w" \
    -o "$output.partial.$$" "$package" >>"$build_log" 2>&1; then
    rm -f "$output.partial.$$"
    log "install-language-hosts: building the $what language host failed; the end of $build_log:"
    grep -v '^go: downloading' "$build_log" | tail -n 40 >&2
    exit 1
  fi
  mv "$output.partial.$$" "$output"
}

build YAML yaml github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml "$yaml_bin"
build Node.js nodejs github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs "$nodejs_bin"
build Go go github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go "$go_bin"

tmp="$dest.partial.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
for file in "$engine"/* "$yaml_bin" "$nodejs_bin" "$go_bin"; do
  ln "$file" "$tmp/" 2>/dev/null || cp -p "$file" "$tmp/"
done
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "$dest"

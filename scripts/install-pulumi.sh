#!/usr/bin/env bash
# Provides the pulumi CLI and the Python language host, pinned, cached outside the clone.
#
# Prints the directory holding `pulumi`, `pulumi-language-python` and the two launchers the CLI
# expects beside them (`pulumi-language-python-exec`, `pulumi-resource-pulumi-python`).
# With --cached: prints it only if it is already built, else exits 1 without building.
#
# Quiet: one line on stderr when it builds; the Go toolchain's output (hundreds of
# "go: downloading" lines) goes to $cache_root/install-pulumi.log, shown only on failure.
#
# Order: a cached build for these exact versions; else a `pulumi` already on PATH at the pinned
# version (for machines that installed it the official way); else a build from Go modules through
# the Go module proxy with the Go toolchain on this machine (about 5 minutes on 2 cores, once).
#
# Pins (tools/engine/*/go.mod hold the full module graphs):
#   CLI                  github.com/pulumi/pulumi/pkg/v3 v3.274.1 (>= the Python SDK we pin)
#   Python language host github.com/pulumi/pulumi/sdk/v3 v3.68.0, python/cmd/pulumi-language-python.
#     The host later moved to its own untagged module (sdk/python/cmd/pulumi-language-python/v3),
#     which the module proxy reachable here does not serve at any release commit we could name;
#     v3.68.0 is the newest sdk release that still carries the host inside the sdk module. It
#     speaks the same LanguageRuntime gRPC protocol; the program itself runs with the current
#     Python SDK through the current `pulumi-language-python-exec` launcher.
#   Launchers            copied from github.com/pulumi/pulumi/sdk/v3 v3.274.1 (python/cmd, python/dist).
set -euo pipefail

PULUMI_VERSION="3.274.1"
LANGHOST_SDK_VERSION="3.68.0"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_root="${PULUMI_FINETUNE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-finetune}"
dest="$cache_root/engine/pulumi-v${PULUMI_VERSION}-langhost-v${LANGHOST_SDK_VERSION}"

log() { printf '%s\n' "$*" >&2; }

complete() {
  [ -x "$1/pulumi" ] && [ -x "$1/pulumi-language-python" ] &&
    [ -x "$1/pulumi-language-python-exec" ] && [ -x "$1/pulumi-resource-pulumi-python" ]
}

if complete "$dest"; then
  echo "$dest"
  exit 0
fi
if [ "${1:-}" = "--cached" ]; then
  exit 1
fi

if ! command -v go >/dev/null 2>&1; then
  log "install-pulumi: the Go toolchain is needed to build the pulumi CLI here (apt-get install golang, or install pulumi ${PULUMI_VERSION} yourself)"
  exit 1
fi

tmp="$dest.partial.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
build_log="$cache_root/install-pulumi.log"
: >"$build_log"

# `quietly WHAT CMD...` runs CMD with its output in the log; on failure shows the end of the log
# without the download chatter.
quietly() {
  local what="$1"
  shift
  if ! "$@" >>"$build_log" 2>&1; then
    log "install-pulumi: $what failed; the end of $build_log:"
    grep -v '^go: downloading' "$build_log" | tail -n 40 >&2
    exit 1
  fi
}

existing="$(command -v pulumi 2>/dev/null || true)"
if [ -n "$existing" ] && [ "$("$existing" version 2>/dev/null)" = "v${PULUMI_VERSION}" ]; then
  log "using $existing..."
  cp "$existing" "$tmp/pulumi"
  if [ -x "$(dirname "$existing")/pulumi-language-python" ]; then
    cp "$(dirname "$existing")/pulumi-language-python" "$tmp/"
  fi
fi

export GOFLAGS="-mod=mod"
ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${PULUMI_VERSION}"
if [ ! -x "$tmp/pulumi" ]; then
  log "building pulumi CLI (once, ~5 min)..."
  built_cli=1
  quietly "building the pulumi CLI" go -C "$here/tools/engine/cli" build -trimpath \
    -ldflags "$ldflags" -o "$tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
fi
if [ ! -x "$tmp/pulumi-language-python" ]; then
  # Its own phase line only when the CLI was not built just now (that line covers both).
  if [ -x "$tmp/pulumi" ] && [ -z "${built_cli:-}" ]; then
    log "building the Python language host (once, a few minutes)..."
  fi
  quietly "building the Python language host" go -C "$here/tools/engine/langhost" build -trimpath \
    -ldflags "$ldflags" -o "$tmp/pulumi-language-python" \
    github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python
fi

quietly "locating the Python SDK module" go -C "$here/tools/engine/cli" mod download -json \
  "github.com/pulumi/pulumi/sdk/v3@v${PULUMI_VERSION}"
sdk_dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$build_log" | tail -n 1)"
if [ -z "$sdk_dir" ] || [ ! -d "$sdk_dir/python" ]; then
  log "install-pulumi: could not locate github.com/pulumi/pulumi/sdk/v3@v${PULUMI_VERSION} in the module cache (log: $build_log)"
  exit 1
fi
install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$tmp/pulumi-language-python-exec"
install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$tmp/pulumi-resource-pulumi-python"

quietly "running the built pulumi CLI" "$tmp/pulumi" version
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "$dest"

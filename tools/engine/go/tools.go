//go:build tools

// Package tools pins the Go language host (pulumi-language-go) that scripts/install-language-hosts.sh builds.
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/go/pulumi-language-go"

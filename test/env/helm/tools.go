//go:build tools

// Package tools pins the helm command the test environment builds (for the chart's install test).
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)

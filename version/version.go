// Package version holds the build's version, set by the Makefile with
// -ldflags "-X github.com/faasflow/faasflow-go/version.Version=...".
package version

// Version is the release or commit this binary was built from.
var Version = "dev"

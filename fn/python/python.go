// Package python holds the Python function SDK (the faasflow module in this
// directory) and packs Python functions into single-file executables.
package python

import "embed"

// SDK is the faasflow Python package, embedded so the CLI can pack it with
// every Python function.
//
//go:embed faasflow/*.py
var SDK embed.FS

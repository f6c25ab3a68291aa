// Package faults holds functions that misbehave on purpose, for the
// engine's failure tests: panic/ panics on request, sleep/ overruns its
// timeout, and fail/ returns an error. workflow-panic.yaml and
// workflow-sleep.yaml wrap the first two in one-function workflows.
package faults

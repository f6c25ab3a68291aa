// Command faasflow-synthetic is the instance program for synthetic
// functions (FaaSFlow v1 functions without code). Workers start it with the
// function's description in FAASFLOW_SYNTHETIC.
package main

import (
	"fmt"
	"os"
	"runtime"

	"github.com/faasflow/faasflow-go/fn"
	"github.com/faasflow/faasflow-go/fn/synthetic"
)

func main() {
	// A synthetic run sleeps or keeps one core busy, one run at a time: one
	// P is all it needs, and with one the runtime has no second thread to
	// wake whenever a frame arrives (a third less CPU per run, measured on
	// cycles: BENCHMARKS.md).
	runtime.GOMAXPROCS(1)
	spec, err := synthetic.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fn.Run(synthetic.Handler(spec))
}

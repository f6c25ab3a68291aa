// Command faasflow-synthetic is the instance program for synthetic
// functions (FaaSFlow v1 functions without code). Workers start it with the
// function's description in FAASFLOW_SYNTHETIC.
package main

import (
	"fmt"
	"os"

	"github.com/faasflow/faasflow-go/fn"
	"github.com/faasflow/faasflow-go/fn/synthetic"
)

func main() {
	spec, err := synthetic.FromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fn.Run(synthetic.Handler(spec))
}

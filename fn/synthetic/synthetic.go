// Package synthetic is the function that stands in for FaaSFlow v1
// functions without code: it takes the function's run time (sleeping, or
// spinning a core) and posts outputs of the declared sizes.
package synthetic

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/faasflow/faasflow-go/fn"
	"github.com/faasflow/faasflow-go/workflow"
)

// EnvSpec is the environment variable holding the Spec, as JSON.
const EnvSpec = "FAASFLOW_SYNTHETIC"

// Spec is what one synthetic function does.
type Spec struct {
	Seconds float64  `json:"seconds"`
	Busy    bool     `json:"busy,omitempty"`
	Items   int      `json:"items,omitempty"`
	Outputs []Output `json:"outputs"`
}

// Output is one output of a synthetic function.
type Output struct {
	Name    string `json:"name"`
	Size    int64  `json:"size"`
	Foreach bool   `json:"foreach,omitempty"`
}

// SpecOf describes a synthetic function of a workflow.
func SpecOf(f *workflow.Function) Spec {
	s := Spec{Outputs: make([]Output, len(f.Outputs))}
	if f.Synthetic != nil {
		s.Seconds, s.Busy, s.Items = f.Synthetic.Seconds, f.Synthetic.Busy, f.Synthetic.Items
	}
	for i, o := range f.Outputs {
		s.Outputs[i] = Output{Name: o.Name, Size: o.Size, Foreach: o.Foreach}
	}
	return s
}

// FromEnv reads the Spec the agent passed in the environment.
func FromEnv() (Spec, error) {
	var s Spec
	raw := os.Getenv(EnvSpec)
	if raw == "" {
		return s, fmt.Errorf("%s is not set: synthetic functions are started by a faasflow worker", EnvSpec)
	}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return s, fmt.Errorf("decode %s: %w", EnvSpec, err)
	}
	return s, nil
}

// Handler returns the function for s. An output named like an input passes
// that input on (v1 switch conditions read values this way); any other
// output is a JSON value of the declared size; a foreach output posts
// Items of them (at least one).
func Handler(s Spec) fn.Handler {
	payloads := map[int64][]byte{}
	for _, o := range s.Outputs {
		if _, ok := payloads[o.Size]; !ok {
			payloads[o.Size] = filler(o.Size)
		}
	}
	items := max(s.Items, 1)
	return func(ctx context.Context, c *fn.Call) error {
		if err := spend(ctx, time.Duration(s.Seconds*float64(time.Second)), s.Busy); err != nil {
			return err
		}
		inputs := c.Inputs()
		for _, o := range s.Outputs {
			data := payloads[o.Size]
			if slices.Contains(inputs, o.Name) {
				v, err := c.Input(o.Name)
				if err != nil {
					return err
				}
				data = v
			}
			if !o.Foreach {
				if err := c.Output(o.Name, data); err != nil {
					return err
				}
				continue
			}
			for i := 0; i < items; i++ {
				if err := c.Post(o.Name, data); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// spend takes d, sleeping or keeping a core busy.
func spend(ctx context.Context, d time.Duration, busy bool) error {
	if d <= 0 {
		return nil
	}
	if !busy {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	end := time.Now().Add(d)
	x := uint64(1)
	for time.Now().Before(end) {
		for i := 0; i < 10000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	_ = x
	return nil
}

// filler returns a JSON value of exactly size bytes (a string of x's; a
// number for sizes below 2; null for 0).
func filler(size int64) []byte {
	switch {
	case size <= 0:
		return []byte("null")
	case size == 1:
		return []byte("0")
	}
	b := make([]byte, size)
	for i := range b {
		b[i] = 'x'
	}
	b[0], b[size-1] = '"', '"'
	return b
}

// Command relay is a test function: each output gets the input of the same
// name if there is one, else the input "in", else the first input (or null
// when the function has no inputs). Foreach outputs post each element of
// that value, which must then be a JSON array.
package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(relay)
}

func relay(ctx context.Context, c *fn.Call) error {
	for _, out := range c.Outputs() {
		v, err := pick(c, out)
		if err != nil {
			return err
		}
		if err := c.Output(out, v); err != nil {
			var items []json.RawMessage
			if json.Unmarshal(v, &items) != nil {
				return err
			}
			for _, item := range items {
				if err := c.Post(out, item); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func pick(c *fn.Call, out string) ([]byte, error) {
	names := c.Inputs()
	for _, want := range []string{out, "in"} {
		for _, n := range names {
			if n == want {
				return read(c, n)
			}
		}
	}
	if len(names) == 0 {
		return []byte("null"), nil
	}
	return read(c, names[0])
}

func read(c *fn.Call, name string) ([]byte, error) {
	if v, err := c.Input(name); err == nil {
		return v, nil
	}
	items, err := c.List(name)
	if err != nil {
		return nil, fmt.Errorf("read input %s: %w", name, err)
	}
	raw := make([]json.RawMessage, len(items))
	for i, it := range items {
		raw[i] = it
	}
	return json.Marshal(raw)
}

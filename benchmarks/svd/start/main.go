// Command start is the first function of the svd workflow: it generates the
// matrix of its input seed and posts each row block, encoded by
// svd.EncodeBlock, as one item of its foreach output matrix, so each compute
// instance starts as soon as its block exists. The optional inputs rows,
// cols and blocks change the size from the DataFlower default, 8192×512 in
// 16 blocks.
package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/faasflow/faasflow-go/benchmarks/svd"
	"github.com/faasflow/faasflow-go/fn"
)

// optional reads the JSON input name into v, leaving v unchanged if the
// input is null (missing from the workflow input).
func optional[T any](c *fn.Call, name string, v *T) error {
	var p *T
	if err := c.InputJSON(name, &p); err != nil {
		return fmt.Errorf("%s must be a non-negative integer or null: %w", name, err)
	}
	if p != nil {
		*v = *p
	}
	return nil
}

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		// The seed is "seed" in the native workflow, "start" in DataFlower's.
		seedInput := "seed"
		if slices.Contains(c.Inputs(), "start") {
			seedInput = "start"
		}
		var seed uint64
		if err := optional(c, seedInput, &seed); err != nil {
			return err
		}
		size := svd.DefaultSize
		for _, in := range []struct {
			name string
			v    *int
		}{{"rows", &size.Rows}, {"cols", &size.Cols}, {"blocks", &size.Blocks}} {
			if !slices.Contains(c.Inputs(), in.name) {
				continue
			}
			if err := optional(c, in.name, in.v); err != nil {
				return err
			}
		}
		if err := size.Check(); err != nil {
			return err
		}
		m := svd.Generate(seed, size.Rows, size.Cols)
		for i, b := range svd.Split(m, size) {
			if err := ctx.Err(); err != nil {
				return err
			}
			enc, err := svd.EncodeBlock(b)
			if err != nil {
				return fmt.Errorf("encode block %d: %w", i, err)
			}
			if err := c.Post("matrix", enc); err != nil {
				return fmt.Errorf("post block %d: %w", i, err)
			}
		}
		return nil
	})
}

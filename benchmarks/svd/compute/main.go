// Command compute is the map step of the svd workflow: it takes the thin
// SVD A_i = U_i S_i V_i^T of its input matrix, a row block (encoded by
// svd.EncodeBlock), and outputs R_i = S_i V_i^T, encoded by svd.EncodeDense,
// in res.
package main

import (
	"context"
	"fmt"

	"github.com/faasflow/faasflow-go/benchmarks/svd"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		b, err := c.Input("matrix")
		if err != nil {
			return err
		}
		block, err := svd.DecodeBlock(b)
		if err != nil {
			return fmt.Errorf("block %d: %w", c.Index(), err)
		}
		r, err := svd.Factor(block)
		if err != nil {
			return fmt.Errorf("block %d: %w", c.Index(), err)
		}
		return c.Output("res", svd.EncodeDense(r))
	})
}

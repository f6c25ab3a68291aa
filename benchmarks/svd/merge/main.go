// Command merge is the last function of the svd workflow: it gathers the
// factors R_i of every compute instance from its list input res,
// stacks them and outputs the singular values of the stack, which are
// those of the whole matrix, as the JSON svd.Result in res.
package main

import (
	"context"
	"fmt"

	"github.com/faasflow/faasflow-go/benchmarks/svd"
	"github.com/faasflow/faasflow-go/fn"
	"gonum.org/v1/gonum/mat"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		items, err := c.List("res")
		if err != nil {
			return err
		}
		rs := make([]*mat.Dense, len(items))
		for i, item := range items {
			if rs[i], err = svd.DecodeDense(item); err != nil {
				return fmt.Errorf("item %d of res: %w", i, err)
			}
		}
		s, err := svd.Merge(rs)
		if err != nil {
			return err
		}
		return c.OutputJSON("res", svd.NewResult(s))
	})
}

// Command merge is the last function of the wordcount workflow: it gathers
// the counts of every count instance from its list input counts and outputs
// the merged wordcount.Result as JSON in res.
package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/faasflow/faasflow-go/benchmarks/wordcount"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		items, err := c.List("counts")
		if err != nil {
			return err
		}
		parts := make([]map[string]int, len(items))
		for i, item := range items {
			if err := json.Unmarshal(item, &parts[i]); err != nil {
				return fmt.Errorf("item %d of counts is not a JSON map of word counts: %w", i, err)
			}
		}
		return c.OutputJSON("res", wordcount.Merge(parts))
	})
}

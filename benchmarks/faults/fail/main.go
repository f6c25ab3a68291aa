// Command fail fails every run with the error "deliberate failure".
package main

import (
	"context"
	"errors"

	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		return errors.New("deliberate failure")
	})
}

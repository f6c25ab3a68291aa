// Command exitnow is a program that exits at once with status 1, before
// connecting to the agent.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "exitnow: exiting at once")
	os.Exit(1)
}

package workflow

import (
	"fmt"
	"testing"
)

func TestScratch(t *testing.T) {
	for _, n := range []string{"wordcount", "svd", "video", "recognizer"} {
		w, err := LoadFile("testdata/dataflower/" + n + ".workflow_info.yaml")
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		fmt.Println(w.Name, w.Order)
		for _, f := range w.Functions {
			fmt.Printf("  %s cpu=%v map=%s/%s countTo=%v reach=%v\n", f.Name, f.CPU, f.ForeachInput, f.ForeachFrom, f.CountTo, f.Reach)
			for _, in := range f.Inputs {
				fmt.Printf("    in %s list=%v src=%v cnt=%s\n", in.Name, in.List, in.Sources, in.CountFrom)
			}
			for _, b := range f.Switch {
				fmt.Printf("    branch %q line %d\n", b.When, b.Line)
				for _, r := range b.Routes {
					fmt.Printf("      %s sig=%v %v\n", r.Output, r.Signal, r.To)
				}
			}
		}
		for _, r := range w.Results {
			fmt.Printf("  result %s %v\n", r.Name, r.Sources)
		}
	}
}

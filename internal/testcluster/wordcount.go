package testcluster

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/benchmarks/wordcount"
)

// CheckWordcount fails the test unless inv's result is the direct count of
// the texts of seed; what says which run it was.
func CheckWordcount(tb testing.TB, inv *api.Invocation, seed uint64, what string) {
	tb.Helper()
	var got wordcount.Result
	if err := json.Unmarshal(inv.Result["res"], &got); err != nil {
		tb.Fatalf("%s, seed %d: decode result: %v", what, seed, err)
	}
	if want := wordcount.Direct(seed); !reflect.DeepEqual(got, want) {
		tb.Fatalf("%s, seed %d: result differs from a direct count: got %d words (%d distinct), want %d (%d)",
			what, seed, got.Total, got.Distinct, want.Total, want.Distinct)
	}
}

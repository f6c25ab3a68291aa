package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/agents/store"
)

// TestFetchOnlyOwnInputs: an instance can read the stored inputs of its
// own run, and is refused another invocation's value even when it knows
// the key and the agent holds the value.
func TestFetchOnlyOwnInputs(t *testing.T) {
	mem := store.NewMemory()
	e := &Engine{local: mem}
	ctx := context.Background()
	mine, err := mem.Put(ctx, "inv-a", 1, strings.NewReader("a's input"))
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := mem.Put(ctx, "inv-b", 1, strings.NewReader("b's secret"))
	if err != nil {
		t.Fatal(err)
	}
	fetch := (&pendingRun{held: map[string]bool{mine: true}}).fetch(e)
	tests := []struct {
		name    string
		key     string
		want    string
		wantErr string
	}{
		{"own input", mine, "a's input", ""},
		{"another invocation's value", theirs, "", "does not belong to this run"},
		{"made-up key", "inv-b/0", "", "does not belong to this run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fetch(tt.key)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("fetch(%q) = %q, %v; want refused (%q)", tt.key, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("fetch(%q) = %q, %v; want %q", tt.key, got, err, tt.want)
			}
		})
	}
}

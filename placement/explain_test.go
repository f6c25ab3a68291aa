package placement

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestEdges(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		sizes map[string]int64
		items map[string]int
		want  []Edge
	}{
		{
			name:  "chain, result not an edge",
			src:   pair,
			sizes: map[string]int64{"a.out": 7, "b.out": 9},
			want:  []Edge{{From: "a", To: "b", Bytes: 7}},
		},
		{
			name: "unknown sizes keep their edges",
			src:  pair,
			want: []Edge{{From: "a", To: "b", Bytes: 0}},
		},
		{
			name: "foreach items and map runs multiply",
			src: `
name: e
inputs: {x: split.in}
functions:
  split:
    inputs: [in]
    outputs:
      items: {to: work.item, foreach: true}
      meta: [merge.meta, $result.meta]
  work: {inputs: [item], outputs: {out: merge.parts}}
  merge: {inputs: {parts: list, meta: normal}, outputs: {res: $result}}
`,
			sizes: map[string]int64{"split.items": 100, "split.meta": 7, "work.out": 10},
			items: map[string]int{"split": 4},
			want: []Edge{
				{From: "split", To: "merge", Bytes: 7},
				{From: "split", To: "work", Bytes: 400},
				{From: "work", To: "merge", Bytes: 40},
			},
		},
		{
			name: "switch routes count each output once, signals nothing",
			src: `
name: sw
inputs: {x: up.in}
functions:
  up:
    inputs: [in]
    outputs: [flag, data]
    switch:
      - when: flag == true
        send: {data: [big.data, small.data]}
        signal: small.go
      - send: {data: small.data}
        signal: [small.go, other.go]
  big: {inputs: [data], outputs: {out: $result.big}}
  small: {inputs: [data, go], outputs: {out: $result.small}}
  other: {inputs: [go], outputs: {out: $result.other}}
`,
			sizes: map[string]int64{"up.data": 500, "up.flag": 1},
			want: []Edge{
				{From: "up", To: "big", Bytes: 500},
				{From: "up", To: "other", Bytes: 0},
				{From: "up", To: "small", Bytes: 500},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := parse(t, tt.src)
			weigh(t, wf, tt.sizes, nil, tt.items, nil)
			got := edges(wf)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExplain(t *testing.T) {
	wf := parse(t, chain4)
	weigh(t, wf, map[string]int64{"a.out": 10, "b.out": 2000, "c.out": 30}, nil, nil, nil)
	tests := []struct {
		name  string
		table map[string]string
		want  Explanation
	}{
		{
			name:  "two workers",
			table: map[string]string{"a": "w1", "b": "w0", "c": "w0", "d": "w1"},
			want: Explanation{
				Groups:     []WorkerGroup{{Worker: "w0", Functions: []string{"b", "c"}}, {Worker: "w1", Functions: []string{"a", "d"}}},
				CrossEdges: []Edge{{From: "c", To: "d", Bytes: 30}, {From: "a", To: "b", Bytes: 10}},
				CrossBytes: 40,
				LocalBytes: 2000,
			},
		},
		{
			name:  "one worker",
			table: map[string]string{"a": "w0", "b": "w0", "c": "w0", "d": "w0"},
			want: Explanation{
				Groups:     []WorkerGroup{{Worker: "w0", Functions: []string{"a", "b", "c", "d"}}},
				LocalBytes: 2040,
			},
		},
		{
			name:  "missing and unknown functions",
			table: map[string]string{"a": "w0", "b": "w1", "c": "w1", "zz": "w0"},
			want: Explanation{
				Groups:     []WorkerGroup{{Worker: "w0", Functions: []string{"a"}}, {Worker: "w1", Functions: []string{"b", "c"}}},
				CrossEdges: []Edge{{From: "a", To: "b", Bytes: 10}},
				CrossBytes: 10,
				LocalBytes: 2000,
				Warnings:   []string{"function d has no worker", `the placement names "zz", which is not a function of chain`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Explain(wf, tt.table)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestExplanationString(t *testing.T) {
	e := Explanation{
		Groups:     []WorkerGroup{{Worker: "w0", Functions: []string{"b", "c"}}, {Worker: "worker-1", Functions: []string{"a", "d"}}},
		CrossEdges: []Edge{{From: "c", To: "d", Bytes: 30}, {From: "a", To: "b", Bytes: 10}},
		CrossBytes: 40,
		LocalBytes: 2000,
		Warnings:   []string{"something odd"},
	}
	want := strings.Join([]string{
		"WORKER    FUNCTIONS",
		"w0        b, c",
		"worker-1  a, d",
		"",
		"FROM  TO  BYTES",
		"c     d   30",
		"a     b   10",
		"",
		"cross-worker bytes 40, local bytes 2000",
		"warning: something odd",
		"",
	}, "\n")
	if got := e.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := (Explanation{}).String(); !strings.Contains(got, "no edges between workers") {
		t.Errorf("empty explanation: got\n%s", got)
	}
}

func TestExplanationJSON(t *testing.T) {
	e := Explanation{
		Groups:     []WorkerGroup{{Worker: "w0", Functions: []string{"a"}}},
		CrossEdges: []Edge{{From: "a", To: "b", Bytes: 1}},
		CrossBytes: 1,
		LocalBytes: 2,
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"groups":[{"worker":"w0","functions":["a"]}],"cross_edges":[{"from":"a","to":"b","bytes":1}],"cross_bytes":1,"local_bytes":2}`
	if got := string(b); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

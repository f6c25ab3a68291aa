package wordcount

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
)

func TestCount(t *testing.T) {
	tests := []struct {
		name string
		text string
		want map[string]int
	}{
		{name: "empty", text: "", want: map[string]int{}},
		{name: "only punctuation", text: " .,!? \n", want: map[string]int{}},
		{name: "one word", text: "hello", want: map[string]int{"hello": 1}},
		{name: "case folded", text: "The the THE tHe", want: map[string]int{"the": 4}},
		{name: "punctuation splits", text: "end.Start,again!", want: map[string]int{"end": 1, "start": 1, "again": 1}},
		{name: "apostrophe splits", text: "don't John's", want: map[string]int{"don": 1, "t": 1, "john": 1, "s": 1}},
		{name: "digits split", text: "abc123def 42", want: map[string]int{"abc": 1, "def": 1}},
		{name: "newlines and tabs", text: "a\nb\tc\r\na", want: map[string]int{"a": 2, "b": 1, "c": 1}},
		{name: "hyphen splits", text: "well-known", want: map[string]int{"well": 1, "known": 1}},
		{name: "non-ASCII splits", text: "café naïve", want: map[string]int{"caf": 1, "na": 1, "ve": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Count([]byte(tt.text))
			if !maps.Equal(got, tt.want) {
				t.Errorf("Count(%q): got %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name  string
		parts []map[string]int
		want  Result
	}{
		{
			name:  "no parts",
			parts: nil,
			want:  Result{Top: []WordCount{}, Counts: map[string]int{}},
		},
		{
			name:  "sums across parts",
			parts: []map[string]int{{"a": 2, "b": 1}, {"a": 3, "c": 4}, nil},
			want: Result{
				Total:    10,
				Distinct: 3,
				Top:      []WordCount{{"a", 5}, {"c", 4}, {"b", 1}},
				Counts:   map[string]int{"a": 5, "b": 1, "c": 4},
			},
		},
		{
			name:  "ties ordered by word",
			parts: []map[string]int{{"pear": 2, "apple": 2, "fig": 3}, {"kiwi": 2}},
			want: Result{
				Total:    9,
				Distinct: 4,
				Top:      []WordCount{{"fig", 3}, {"apple", 2}, {"kiwi", 2}, {"pear", 2}},
				Counts:   map[string]int{"pear": 2, "apple": 2, "fig": 3, "kiwi": 2},
			},
		},
		{
			name: "top is cut at ten",
			parts: []map[string]int{{
				"a": 12, "b": 11, "c": 10, "d": 9, "e": 8, "f": 7,
				"g": 6, "h": 5, "i": 4, "j": 3, "k": 3, "l": 1,
			}},
			want: Result{
				Total:    79,
				Distinct: 12,
				Top: []WordCount{
					{"a", 12}, {"b", 11}, {"c", 10}, {"d", 9}, {"e", 8},
					{"f", 7}, {"g", 6}, {"h", 5}, {"i", 4}, {"j", 3},
				},
				Counts: map[string]int{
					"a": 12, "b": 11, "c": 10, "d": 9, "e": 8, "f": 7,
					"g": 6, "h": 5, "i": 4, "j": 3, "k": 3, "l": 1,
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Merge(tt.parts)
			if got.Total != tt.want.Total || got.Distinct != tt.want.Distinct {
				t.Errorf("got total %d distinct %d, want total %d distinct %d",
					got.Total, got.Distinct, tt.want.Total, tt.want.Distinct)
			}
			if !slices.Equal(got.Top, tt.want.Top) {
				t.Errorf("got top %v, want %v", got.Top, tt.want.Top)
			}
			if !maps.Equal(got.Counts, tt.want.Counts) {
				t.Errorf("got counts %v, want %v", got.Counts, tt.want.Counts)
			}
		})
	}
}

func TestResultJSON(t *testing.T) {
	b, err := json.Marshal(Merge(nil))
	if err != nil {
		t.Fatal(err)
	}
	got, want := string(b), `{"total":0,"distinct":0,"top":[],"counts":{}}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}

	b, err = json.Marshal(Merge([]map[string]int{{"x": 2}}))
	if err != nil {
		t.Fatal(err)
	}
	got, want = string(b), `{"total":2,"distinct":1,"top":[{"word":"x","count":2}],"counts":{"x":2}}`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestCountTotalsMatchText(t *testing.T) {
	// Every text's counts add up to its number of words, and merging the
	// parts keeps that total.
	texts := Texts(5)
	parts := make([]map[string]int, len(texts))
	want := 0
	for i, text := range texts {
		parts[i] = Count(text)
		for _, n := range parts[i] {
			want += n
		}
	}
	if got := Merge(parts).Total; got != want {
		t.Errorf("got total %d, want %d", got, want)
	}
}

func BenchmarkCount(b *testing.B) {
	text := Text(1, 1)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		Count(text)
	}
}

func BenchmarkMerge(b *testing.B) {
	texts := Texts(1)
	parts := make([]map[string]int, len(texts))
	for i, text := range texts {
		parts[i] = Count(text)
	}
	b.ResetTimer()
	for b.Loop() {
		Merge(parts)
	}
}

package workflow

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fixtures are every valid workflow file in testdata.
func fixtures(t *testing.T) []string {
	t.Helper()
	native, err := filepath.Glob(filepath.Join("testdata", "native", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	df, err := filepath.Glob(filepath.Join("testdata", "dataflower", "*"+DataFlowerSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return append(append(native, df...), filepath.Join("testdata", "wordcount"))
}

func TestValidateDerived(t *testing.T) {
	wc := mustLoad(t, filepath.Join("testdata", "native", "wordcount.yaml"))
	rec := mustLoad(t, filepath.Join("testdata", "native", "recognizer.yaml"))
	video := mustLoad(t, filepath.Join("testdata", "native", "video.yaml"))
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "order", got: wc.Order, want: []string{"start", "count", "merge"}},
		{name: "input sources", got: wc.Function("start").Input("start").Sources, want: []string{InputFunction}},
		{name: "foreach input", got: wc.Function("count").ForeachInput, want: "file"},
		{name: "foreach from", got: wc.Function("count").ForeachFrom, want: "start"},
		{name: "is map", got: wc.Function("count").IsMap(), want: true},
		{name: "merge is no map", got: wc.Function("merge").IsMap(), want: false},
		{name: "count from", got: wc.Function("merge").Input("counts").CountFrom, want: "start"},
		{name: "count to", got: wc.Function("start").CountTo, want: []string{"merge"}},
		{name: "results", got: wc.Results, want: []*Input{{Name: "res", Sources: []string{"merge"}, Line: 21}}},
		{name: "reach of a switch", got: rec.Function("adult").Reach, want: []Target{{"mosaic", "start"}, {"extract", "start_0"}}},
		{name: "reach of outputs", got: rec.Function("upload").Reach, want: []Target{{"adult", "img"}, {"violence", "img"}, {"mosaic", "img"}, {"extract", "img"}}},
		{name: "several sources", got: rec.Function("mosaic").Input("start").Sources, want: []string{"adult", "censor", "violence"}},
		{name: "topological order", got: rec.Order, want: []string{"upload", "adult", "violence", "extract", "translate", "censor", "mosaic"}},
		{name: "result from a signal", got: rec.Results[1], want: &Input{Name: "virtual.start", Sources: []string{"censor"}, Line: 52}},
		{name: "reach across branches without duplicates", got: len(video.Function("upload").Reach), want: 13},
		{name: "normal input of a map function", got: video.Function("transcode").Input("target_type").Sources, want: []string{"upload"}},
		{name: "video order", got: video.Order, want: []string{"upload", "split", "simple_process", "transcode", "merge"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

// derived captures everything Validate fills in, for comparisons.
type derived struct {
	Order   []string
	Results []*Input
	Funcs   map[string]derivedFunc
}

type derivedFunc struct {
	ForeachInput, ForeachFrom string
	CountTo                   []string
	Reach                     []Target
	Sources                   map[string][]string
	CountFrom                 map[string]string
}

func derivedOf(w *Workflow) derived {
	d := derived{Order: w.Order, Results: w.Results, Funcs: map[string]derivedFunc{}}
	for _, f := range w.Functions {
		df := derivedFunc{ForeachInput: f.ForeachInput, ForeachFrom: f.ForeachFrom, CountTo: f.CountTo, Reach: f.Reach,
			Sources: map[string][]string{}, CountFrom: map[string]string{}}
		for _, in := range f.Inputs {
			df.Sources[in.Name] = in.Sources
			df.CountFrom[in.Name] = in.CountFrom
		}
		d.Funcs[f.Name] = df
		if w.Function(f.Name) != f {
			panic("Function(" + f.Name + ") does not find it")
		}
	}
	return d
}

func TestValidateIdempotent(t *testing.T) {
	for _, path := range fixtures(t) {
		t.Run(path, func(t *testing.T) {
			w := mustLoad(t, path)
			first := derivedOf(w)
			if err := w.Validate(); err != nil {
				t.Fatalf("second Validate: %v", err)
			}
			if second := derivedOf(w); !reflect.DeepEqual(first, second) {
				t.Errorf("second Validate changed the derived fields:\n%+v\n%+v", first, second)
			}
		})
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	for _, path := range fixtures(t) {
		t.Run(path, func(t *testing.T) {
			w := mustLoad(t, path)
			b, err := json.Marshal(w)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v\n%s", err, b)
			}
			again, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(b) {
				t.Errorf("JSON changed in a round trip:\n%s\n%s", b, again)
			}
			if !reflect.DeepEqual(derivedOf(got), derivedOf(w)) {
				t.Errorf("derived fields differ after a round trip")
			}
			if got.Timeout != w.Timeout || got.Source != w.Source {
				t.Errorf("timeout, source = %v, %q; want %v, %q", got.Timeout, got.Source, w.Timeout, w.Source)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string
	}{
		{name: "not JSON", json: "{", want: "decode workflow JSON"},
		{name: "unknown field", json: `{"name":"x","functionz":[]}`, want: `unknown field "functionz"`},
		{name: "trailing data", json: `{"name":"x"} {}`, want: "unexpected data after the workflow"},
		{name: "bad duration", json: `{"name":"x","timeout":"5abc"}`, want: `invalid duration "5abc"`},
		{name: "huge duration", json: `{"name":"x","timeout":1e300}`, want: "duration is too long"},
		{name: "negative duration", json: `{"name":"x","timeout":-1}`, want: "duration is negative"},
		{name: "null function", json: `{"name":"x","functions":[null]}`, want: "functions[0]: entry is null"},
		{name: "null route", json: `{"name":"x","functions":[{"name":"a","switch":[{"routes":[null]}]}]}`, want: "functions[0].switch[0].routes[0]: entry is null"},
		{name: "invalid", json: `{"name":"x","source":"wf.yaml","functions":[{"name":"a","line":3,"outputs":[{"name":"o","line":4,"to":[{"function":"b","input":"x"}]}]}]}`,
			want: `wf.yaml:4: functions.a.outputs.o.to[0]: unknown function "b" in target "b.x": the functions are a`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestValidateModelPaths checks the field paths of a workflow built in code,
// which has no file places: they follow the model's (and native format's) names.
func TestValidateModelPaths(t *testing.T) {
	w := &Workflow{
		Name:   "built",
		Source: "built.json",
		Inputs: []*Output{{Name: "in", To: []Target{{"a", "x"}}, Line: 2}},
		Functions: []*Function{
			{Name: "a", Line: 3, Inputs: []*Input{{Name: "x", Line: 4}}, Outputs: []*Output{
				{Name: "o", Line: 5, To: []Target{{"b", "nope"}}},
			}, Switch: []*Branch{
				{When: "o ==", Line: 6, Routes: []*Route{{Output: "o", Line: 7, To: []Target{{"b", "y"}}}}},
				{Line: 8, Routes: []*Route{{Output: "sig", Signal: true, Line: 9, To: []Target{{"c", "y"}}}}},
			}},
			{Name: "b", Line: 10, CPU: -1, Inputs: []*Input{{Name: "y", Line: 11}}},
		},
	}
	err := w.Validate()
	checkErrors(t, err, "built.json",
		wantError{5, "functions.a.outputs.o.to[0]", `function "b" has no input "nope": its inputs are y`},
		wantError{6, "functions.a.switch[0].when", `invalid condition "o ==": at column 5`},
		wantError{9, "functions.a.switch[1].signal.to[0]", `unknown function "c" in target "c.y": the functions are a, b`},
		wantError{10, "functions.b.cpu", "cpu must be a non-negative number"},
	)
	if got := len(err.(Errors)); got != 4 {
		t.Errorf("got %d errors, want 4:\n%v", got, err)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{name: "all parts", err: &Error{File: "wf.yaml", Line: 3, Field: "functions.a", Msg: "bad"}, want: "wf.yaml:3: functions.a: bad"},
		{name: "no line", err: &Error{File: "wf.yaml", Field: "name", Msg: "bad"}, want: "wf.yaml: name: bad"},
		{name: "no file", err: &Error{Line: 3, Msg: "bad"}, want: "line 3: bad"},
		{name: "message only", err: &Error{Msg: "bad"}, want: "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
	errs := Errors{{File: "a", Line: 1, Msg: "x"}, {File: "a", Line: 2, Msg: "y"}}
	if got, want := errs.Error(), "a:1: x\na:2: y"; got != want {
		t.Errorf("Errors.Error() = %q, want %q", got, want)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr string
	}{
		{name: "go duration", in: "1m30s", want: 90 * time.Second},
		{name: "milliseconds", in: "250ms", want: 250 * time.Millisecond},
		{name: "bare seconds", in: "30", want: 30 * time.Second},
		{name: "fractional seconds", in: "1.5", want: 1500 * time.Millisecond},
		{name: "zero", in: "0", want: 0},
		{name: "trailing garbage", in: "5abc", wantErr: `invalid duration "5abc"`},
		{name: "trailing garbage after space", in: "5 s", wantErr: `invalid duration "5 s"`},
		{name: "empty", in: "", wantErr: `invalid duration ""`},
		{name: "negative", in: "-1s", wantErr: "negative"},
		{name: "negative seconds", in: "-1", wantErr: "negative"},
		{name: "not a number", in: "NaN", wantErr: "not a number"},
		{name: "too long", in: "1e30", wantErr: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("ParseDuration(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || time.Duration(got) != tt.want {
				t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, time.Duration(got), err, tt.want)
			}
		})
	}
}

func TestDurationJSON(t *testing.T) {
	tests := []struct {
		name string
		json string
		want time.Duration
	}{
		{name: "string", json: `"1m"`, want: time.Minute},
		{name: "number of seconds", json: `2.5`, want: 2500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Duration
			if err := json.Unmarshal([]byte(tt.json), &d); err != nil {
				t.Fatal(err)
			}
			if time.Duration(d) != tt.want {
				t.Errorf("got %v, want %v", time.Duration(d), tt.want)
			}
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			if want := `"` + tt.want.String() + `"`; string(b) != want {
				t.Errorf("Marshal = %s, want %s", b, want)
			}
		})
	}
}

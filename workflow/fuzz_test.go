package workflow

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// addFiles adds the contents of files matching pattern as seeds.
func addFiles(f *testing.F, pattern string) {
	files, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// checkLoadError checks that a loader failed with located Errors.
func checkLoadError(t *testing.T, err error) {
	var errs Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		t.Fatalf("error is %T (%v), want non-empty Errors", err, err)
	}
	for _, e := range errs {
		if e.Msg == "" {
			t.Fatalf("error without a message: %+v", e)
		}
	}
}

// checkRoundTrip checks that a valid workflow validates again and survives JSON.
func checkRoundTrip(t *testing.T, w *Workflow) {
	if err := w.Validate(); err != nil {
		t.Fatalf("second Validate failed: %v", err)
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode of a valid workflow's JSON: %v\n%s", err, b)
	}
	again, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if string(again) != string(b) {
		t.Fatalf("JSON changed in a round trip:\n%s\n%s", b, again)
	}
}

func FuzzParseNative(f *testing.F) {
	addFiles(f, filepath.Join("testdata", "native", "*.yaml"))
	addFiles(f, filepath.Join("testdata", "wordcount", "workflow.yaml"))
	f.Add([]byte("name: x\nfunctions:\n  a:\n    outputs: [o]\n    switch:\n      - when: o == 'x'\n        send: {o: $result}\n      - signal: $result.none\n"))
	f.Add([]byte("name: x\ninputs:\n  v: a.x\nfunctions:\n  a:\n    inputs: [x, y]\n    outputs:\n      o: a.y\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		w, err := ParseNative(src, "fuzz.yaml")
		if err != nil {
			checkLoadError(t, err)
			return
		}
		checkRoundTrip(t, w)
		checkNativeRoundTrip(t, w)
	})
}

func FuzzParseDataFlower(f *testing.F) {
	tpl, err := os.ReadFile(filepath.Join("testdata", "dataflower", DataFlowerTemplates))
	if err != nil {
		f.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "dataflower", "*"+DataFlowerSuffix))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, tpl)
	}
	f.Fuzz(func(t *testing.T, wf, tpl []byte) {
		w, err := ParseDataFlower(wf, "fuzz"+DataFlowerSuffix, tpl, DataFlowerTemplates)
		if err != nil {
			checkLoadError(t, err)
			return
		}
		checkRoundTrip(t, w)
		checkNativeRoundTrip(t, w)
	})
}

func FuzzDecode(f *testing.F) {
	for _, path := range []string{
		filepath.Join("testdata", "native", "video.yaml"),
		filepath.Join("testdata", "native", "recognizer.yaml"),
		filepath.Join("testdata", "dataflower", "wordcount"+DataFlowerSuffix),
	} {
		w, err := LoadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		b, err := json.Marshal(w)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"name":"x","functions":[null]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := Decode(b)
		if err != nil {
			return
		}
		checkRoundTrip(t, w)
	})
}

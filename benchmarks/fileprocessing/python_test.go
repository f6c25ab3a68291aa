package fileprocessing

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var (
	pythonOnce sync.Once
	pythonPath string
	pythonErr  string
)

// python returns the interpreter that has vaderSentiment: $FAASFLOW_PYTHON,
// else the repository's .venv, which `make deps` creates. It sets
// FAASFLOW_PYTHON for the test, so that test clusters' workers use it, and
// fails the test, saying what to run, if vaderSentiment cannot be imported.
func python(t *testing.T) string {
	t.Helper()
	pythonOnce.Do(func() {
		p := os.Getenv("FAASFLOW_PYTHON")
		if p == "" {
			abs, err := filepath.Abs("../../.venv/bin/python")
			if err != nil {
				pythonErr = err.Error()
				return
			}
			p = abs
		}
		out, err := exec.Command(p, "-c", "import vaderSentiment.vaderSentiment").CombinedOutput()
		if err != nil {
			pythonErr = "the sentiment function needs vaderSentiment, which " + p + " cannot import (" + err.Error() + "): " +
				strings.TrimSpace(string(out)) + "\nrun `make deps` in the repository root, or set FAASFLOW_PYTHON to an interpreter that has vaderSentiment==3.3.2"
			return
		}
		pythonPath = p
	})
	if pythonErr != "" {
		t.Fatal(pythonErr)
	}
	t.Setenv("FAASFLOW_PYTHON", pythonPath)
	return pythonPath
}

// pythonRun runs a Python program with stdin and returns its standard
// output, failing the test if it fails. It writes no bytecode beside the
// sources (-B).
func pythonRun(t *testing.T, py string, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(py, append([]string{"-B"}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", py, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// directScore is the score of doc computed by sentiment/scorer.py run as a
// program, outside any cluster.
func directScore(t *testing.T, py string, doc []byte) float64 {
	t.Helper()
	out := pythonRun(t, py, doc, "sentiment/scorer.py")
	s, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("scorer.py printed %q: %v", out, err)
	}
	return s
}

func TestScorer(t *testing.T) {
	py := python(t)
	for _, tt := range []struct {
		text   string
		lo, hi float64
	}{
		{"What a wonderful, happy day!", 0.5, 1},
		{"This is a terrible, awful mess.", -1, -0.5},
		{"The table is wooden.", 0, 0},
		{"The food is good.", 0.3, 0.6},
		{"The food is not good.", -0.5, -0.2},
		{"The food is VERY GOOD!!", 0.6, 1},
		{"", 0, 0},
		{"```\nterrible awful horrible\n```\n", 0, 0},
	} {
		if s := directScore(t, py, []byte(tt.text)); s < tt.lo || s > tt.hi {
			t.Errorf("score of %q is %v, want it in [%v, %v]", tt.text, s, tt.lo, tt.hi)
		}
	}
}

func TestScorerSentences(t *testing.T) {
	py := python(t)
	md := "# A title\n\nOne is good. Two is bad! Three?\nStill three... and\nfour\n\n" +
		"- item one\n  goes on.\n- item two\n\n1. first\n2) second\n\n> quoted\n> > deeper. Next\n\n" +
		"```go\nx := 1. y\n```\n\n---\n\n## Last ##\n~~~\nunclosed. code\n"
	out := pythonRun(t, py, []byte(md), "-c",
		"import json, sys; sys.path.insert(0, 'sentiment'); import scorer; print(json.dumps(list(scorer.sentences(sys.stdin.read()))))")
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	want := []string{"A title", "One is good.", "Two is bad!", "Three?", "Still three...", "and four",
		"item one goes on.", "item two", "first second", "quoted deeper.", "Next", "Last ##"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("sentences\n got %q\nwant %q", got, want)
	}
	// The score is the mean of the sentences' compound scores.
	out = pythonRun(t, py, nil, "-c", `
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
v = SentimentIntensityAnalyzer()
s = [v.polarity_scores(x)["compound"] for x in ["Great work.", "It is broken!", "Fine"]]
print(repr(sum(s) / len(s)))`)
	want0, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if got := directScore(t, py, []byte("Great work. It is broken!\n\nFine\n")); got != want0 || got == 0 {
		t.Errorf("score %v, want the mean of the compound scores %v", got, want0)
	}
}

// TestScorerWithoutVader checks the message when vaderSentiment cannot be
// imported: the interpreter runs without site-packages (-S).
func TestScorerWithoutVader(t *testing.T) {
	py := python(t)
	cmd := exec.Command(py, "-B", "-S", "sentiment/scorer.py")
	cmd.Stdin = strings.NewReader("Good.")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "run `make deps`") {
		t.Errorf("got %v, %q; want a failure saying to run `make deps`", err, out)
	}
}

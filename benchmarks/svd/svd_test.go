package svd_test

import (
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/faasflow/faasflow-go/benchmarks/svd"
	"go.yaml.in/yaml/v3"
	"gonum.org/v1/gonum/mat"
)

// checksum hashes the entries of m, row by row.
func checksum(m *mat.Dense) uint64 {
	h := fnv.New64a()
	rows, cols := m.Dims()
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			h.Write([]byte{byte(int8(m.At(i, j)))})
		}
	}
	return h.Sum64()
}

func TestMatrix(t *testing.T) {
	a := svd.Matrix(1)
	if r, c := a.Dims(); r != svd.Rows || c != svd.Cols {
		t.Fatalf("got %d×%d, want %d×%d", r, c, svd.Rows, svd.Cols)
	}
	counts := make(map[float64]int)
	for i := 0; i < svd.Rows; i++ {
		for j := 0; j < svd.Cols; j++ {
			counts[a.At(i, j)]++
		}
	}
	for v := -8; v <= 8; v++ {
		// Each of the 17 values should come up about 1/17 of the time.
		n, want := counts[float64(v)], svd.Rows*svd.Cols/17
		if n < want*9/10 || n > want*11/10 {
			t.Errorf("value %d comes up %d times, want about %d", v, n, want)
		}
		delete(counts, float64(v))
	}
	if len(counts) != 0 {
		t.Errorf("values outside [-8, 8]: %v", counts)
	}
	if !mat.Equal(a, svd.Matrix(1)) {
		t.Error("Matrix(1) differs between calls")
	}
	if mat.Equal(a, svd.Matrix(2)) {
		t.Error("Matrix(1) and Matrix(2) are equal")
	}
	// Pin the generator: the benchmark's input must not change silently.
	if got, want := checksum(a), uint64(0x8744ab776b3adb44); got != want {
		t.Errorf("checksum of Matrix(1) is %#x, want %#x", got, want)
	}
	// A smaller matrix is the start of the same stream.
	small := svd.Generate(1, 3, svd.Cols)
	if !mat.Equal(small, a.Slice(0, 3, 0, svd.Cols)) {
		t.Error("Generate(1, 3, Cols) is not the first rows of Matrix(1)")
	}
}

func TestSize(t *testing.T) {
	if err := svd.DefaultSize.Check(); err != nil {
		t.Errorf("default size: %v", err)
	}
	for _, s := range []svd.Size{
		{Rows: 0, Cols: 4, Blocks: 1},
		{Rows: 4, Cols: -1, Blocks: 1},
		{Rows: 4, Cols: 4, Blocks: 0},
		{Rows: 4, Cols: 4, Blocks: 5},
		{Rows: 1 << 20, Cols: 1 << 20, Blocks: 1},
	} {
		if err := s.Check(); err == nil {
			t.Errorf("size %+v: no error", s)
		}
	}
	// Uneven splits cover every row once.
	s := svd.Size{Rows: 10, Cols: 2, Blocks: 4}
	next := 0
	for i := 0; i < s.Blocks; i++ {
		lo, hi := s.Bounds(i)
		if lo != next || hi <= lo {
			t.Errorf("block %d is rows [%d, %d), want it to start at %d and be non-empty", i, lo, hi, next)
		}
		next = hi
	}
	if next != s.Rows {
		t.Errorf("blocks end at row %d, want %d", next, s.Rows)
	}
}

func TestEncodeBlock(t *testing.T) {
	m := svd.Generate(3, 5, 7)
	m.Set(0, 0, -128)
	m.Set(4, 6, 127)
	b, err := svd.EncodeBlock(m)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(b), 8+5*7; got != want {
		t.Errorf("encoded in %d bytes, want %d", got, want)
	}
	got, err := svd.DecodeBlock(b)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(got, m) {
		t.Errorf("round trip: got %v, want %v", mat.Formatted(got), mat.Formatted(m))
	}
	for _, v := range []float64{0.5, 128, -129, math.NaN()} {
		m.Set(1, 1, v)
		if _, err := svd.EncodeBlock(m); err == nil {
			t.Errorf("entry %v: no error", v)
		}
	}
	for _, bad := range [][]byte{nil, b[:7], b[:len(b)-1], append(b[:len(b):len(b)], 0)} {
		if _, err := svd.DecodeBlock(bad); err == nil {
			t.Errorf("%d bytes: no error", len(bad))
		}
	}
}

func TestEncodeDense(t *testing.T) {
	m := mat.NewDense(2, 3, []float64{1.5, -0, math.Pi, math.Inf(-1), 1e-300, -7})
	b := svd.EncodeDense(m)
	if got, want := len(b), 8+8*6; got != want {
		t.Errorf("encoded in %d bytes, want %d", got, want)
	}
	got, err := svd.DecodeDense(b)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(got, m) {
		t.Errorf("round trip: got %v, want %v", mat.Formatted(got), mat.Formatted(m))
	}
	for _, bad := range [][]byte{nil, b[:7], b[:len(b)-1]} {
		if _, err := svd.DecodeDense(bad); err == nil {
			t.Errorf("%d bytes: no error", len(bad))
		}
	}
}

// checkValues fails the test unless got and want are equal within tol
// relative to the largest of want.
func checkValues(t *testing.T, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d singular values, want %d", len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(got[i] - want[i]); d > tol*want[0] {
			t.Errorf("singular value %d: got %v, want %v (off by %.3g of the largest)", i, got[i], want[i], d/want[0])
		}
	}
}

func TestMerge(t *testing.T) {
	for _, s := range []svd.Size{
		{Rows: 64, Cols: 8, Blocks: 4},
		{Rows: 64, Cols: 8, Blocks: 1},
		{Rows: 30, Cols: 8, Blocks: 7}, // blocks shorter than wide
		{Rows: 200, Cols: 32, Blocks: 16},
	} {
		a := svd.Generate(5, s.Rows, s.Cols)
		var rs []*mat.Dense
		for i, b := range svd.Split(a, s) {
			// Go through the encodings, as the workflow does.
			enc, err := svd.EncodeBlock(b)
			if err != nil {
				t.Fatal(err)
			}
			block, err := svd.DecodeBlock(enc)
			if err != nil {
				t.Fatal(err)
			}
			r, err := svd.Factor(block)
			if err != nil {
				t.Fatalf("%+v: factor block %d: %v", s, i, err)
			}
			if r, err = svd.DecodeDense(svd.EncodeDense(r)); err != nil {
				t.Fatal(err)
			}
			rs = append(rs, r)
		}
		got, err := svd.Merge(rs)
		if err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		checkValues(t, got, svd.DirectSize(5, s.Rows, s.Cols), 1e-9)
	}
}

func TestMergeErrors(t *testing.T) {
	if _, err := svd.Merge(nil); err == nil {
		t.Error("no factors: no error")
	}
	if _, err := svd.Merge([]*mat.Dense{mat.NewDense(2, 2, nil), mat.NewDense(2, 3, nil)}); err == nil {
		t.Error("factors of different widths: no error")
	}
}

func TestResult(t *testing.T) {
	got := svd.NewResult([]float64{3, 2, 1})
	want := svd.Result{Count: 3, Largest: 3, Values: []float64{3, 2, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestWorkflowFile(t *testing.T) {
	b, err := os.ReadFile("workflow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		Name      string                    `yaml:"name"`
		Functions map[string]map[string]any `yaml:"functions"`
	}
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatalf("parse workflow.yaml: %v", err)
	}
	if w.Name != "svd" {
		t.Errorf("got name %q, want svd", w.Name)
	}
	for _, name := range []string{"start", "compute", "merge"} {
		if got, want := w.Functions[name]["code"], "./"+name; got != want {
			t.Errorf("%s: got code %v, want %s", name, got, want)
		}
		if _, err := os.Stat(filepath.Join(name, "main.go")); err != nil {
			t.Errorf("no main package for %s: %v", name, err)
		}
	}
}

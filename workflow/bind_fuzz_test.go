package workflow

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoadBindings reads any bindings file: it must not panic, and every
// binding it returns has code (made absolute against the file's
// directory), a runtime, and no timeout or a positive one.
func FuzzLoadBindings(f *testing.F) {
	addFiles(f, "testdata/*/*.bind.yaml")
	addFiles(f, "../benchmarks/*/*.bind.yaml")
	f.Add([]byte("a__start: ./start\nb: {runtime: python, code: ./b_py, timeout: 5m}\n"))
	f.Add([]byte("a: {code: /abs/path}\n"))
	f.Add([]byte("a: {runtime: go}\n"))
	f.Add([]byte("a: {code: x, timeout: -1s}\n"))
	f.Add([]byte("a: {code: x, timeout: 1y}\n"))
	f.Add([]byte("a: [1, 2]\n"))
	f.Add([]byte("a: {code: x, unknown: 1}\n"))
	f.Add([]byte("- a\n"))
	f.Add([]byte("a: &x {code: y}\nb: *x\n"))
	f.Add([]byte(""))

	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "f.bind.yaml")
		if err := os.WriteFile(path, src, 0o644); err != nil {
			t.Fatal(err)
		}
		bindings, err := LoadBindings(path)
		if err != nil {
			return
		}
		for name, b := range bindings {
			if b.Code == "" || !filepath.IsAbs(b.Code) {
				t.Fatalf("binding %q: code %q is not an absolute path", name, b.Code)
			}
			if b.Runtime == "" {
				t.Fatalf("binding %q has no runtime", name)
			}
			if b.Timeout != "" {
				if d, err := time.ParseDuration(b.Timeout); err != nil || d <= 0 {
					t.Fatalf("binding %q: timeout %q taken", name, b.Timeout)
				}
			}
		}
	})
}

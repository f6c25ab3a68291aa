package workflow

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Binding gives code to a function of a workflow whose file has none
// (DataFlower's templates name images, not code), and optionally a run
// timeout, which those files cannot say.
type Binding struct {
	Runtime string `yaml:"runtime"`
	Code    string `yaml:"code"`
	// Timeout, when set, replaces the function's run timeout ("5m").
	Timeout string `yaml:"timeout"`
}

// LoadBindings reads a bindings file: function (template) name → code
// directory, or → {runtime, code}. Relative code paths are relative to the
// file.
//
//	wordcount__start: ./start
//	wordcount__count: {runtime: python, code: ./count_py, timeout: 5m}
func LoadBindings(path string) (map[string]Binding, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read bindings: %w", err)
	}
	var raw map[string]yaml.Node
	if err := yaml.Unmarshal(src, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make(map[string]Binding, len(raw))
	for name, n := range raw {
		var b Binding
		if n.Kind == yaml.ScalarNode {
			b.Code = n.Value
		} else if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("%s:%d: %s: write a code directory or {runtime, code, timeout}: %w", path, n.Line, name, err)
		}
		if b.Timeout != "" {
			if d, err := time.ParseDuration(b.Timeout); err != nil || d <= 0 {
				return nil, fmt.Errorf("%s:%d: %s: timeout %q is not a positive duration like 90s or 5m", path, n.Line, name, b.Timeout)
			}
		}
		if b.Code == "" {
			return nil, fmt.Errorf("%s:%d: %s: no code given", path, n.Line, name)
		}
		if !filepath.IsAbs(b.Code) {
			b.Code = filepath.Join(filepath.Dir(path), b.Code)
		}
		if b.Runtime == "" {
			b.Runtime = DefaultRuntime
		}
		out[name] = b
	}
	return out, nil
}

// Bind sets the code of the functions named in bindings. It fails on a
// binding for no function, and leaves functions that already have code
// alone unless bound.
func (w *Workflow) Bind(bindings map[string]Binding) error {
	var unknown []string
	for name, b := range bindings {
		f := w.Function(name)
		if f == nil {
			unknown = append(unknown, name)
			continue
		}
		f.Runtime, f.Code, f.Synthetic = b.Runtime, b.Code, nil
		if d, err := time.ParseDuration(b.Timeout); err == nil {
			f.Timeout = Duration(d)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("bindings name functions that workflow %s does not have: %s (its functions: %s)",
			w.Name, strings.Join(unknown, ", "), strings.Join(w.Order, ", "))
	}
	return w.Validate()
}

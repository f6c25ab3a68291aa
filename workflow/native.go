package workflow

import (
	"fmt"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseNative reads a workflow in the native YAML format (described in
// docs/workflow-format.md) and validates it. file names the file in errors,
// and relative code paths are resolved against its directory and made
// absolute. Problems are returned as Errors.
func ParseNative(src []byte, file string) (*Workflow, error) {
	root, err := parseYAML(src, file)
	if err != nil {
		return nil, err
	}
	r := &nativeReader{nodeReader: nodeReader{file: file}, w: &Workflow{Source: file}}
	r.workflow(root)
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	if err := r.w.Validate(); err != nil {
		return nil, err
	}
	return r.w, nil
}

type nativeReader struct {
	nodeReader
	w *Workflow
}

func (r *nativeReader) here(field string, n *yaml.Node) place {
	return place{r.file, field, n.Line}
}

func (r *nativeReader) workflow(root *yaml.Node) {
	w := r.w
	fields, _ := r.object(root, "", "a mapping with name, timeout, inputs and functions", "name", "timeout", "inputs", "functions")
	w.setPlace(w, "name", r.here("name", root))
	if p, ok := fields["name"]; ok {
		w.Name, _ = r.scalar(p.value, "name", "the workflow's name")
		w.setPlace(w, "name", r.here("name", p.keyNode))
	}
	if p, ok := fields["timeout"]; ok {
		w.Timeout, _ = r.duration(p.value, "timeout")
		w.setPlace(w, "timeout", r.here("timeout", p.keyNode))
	}
	if p, ok := fields["inputs"]; ok {
		pairs, _ := r.mapping(p.value, "inputs", "a mapping from workflow input names to their targets")
		for _, in := range pairs {
			out := &Output{Name: in.key, Line: in.keyNode.Line}
			w.setPlace(out, "", r.here(in.valField, in.keyNode))
			r.output(out, in)
			w.Inputs = append(w.Inputs, out)
		}
	}
	if p, ok := fields["functions"]; ok {
		pairs, _ := r.mapping(p.value, "functions", "a mapping from function names to their definitions")
		for _, fp := range pairs {
			w.Functions = append(w.Functions, r.function(fp))
		}
	}
}

var functionFields = []string{"code", "runtime", "synthetic", "timeout", "cpu", "memory", "retries", "max_instances", "inputs", "outputs", "switch"}

func (r *nativeReader) function(p pair) *Function {
	w := r.w
	f := &Function{Name: p.key, Line: p.keyNode.Line}
	field := p.valField
	w.setPlace(f, "", r.here(field, p.keyNode))
	fields, _ := r.object(p.value, field, "a mapping of function fields", functionFields...)
	for _, name := range functionFields {
		fp, ok := fields[name]
		if !ok {
			continue
		}
		w.setPlace(f, name, r.here(fp.valField, fp.keyNode))
		n, sub := fp.value, fp.valField
		switch name {
		case "code":
			if code, ok := r.scalar(n, sub, "the path of the function's code"); ok {
				f.Code = r.codePath(code)
			}
		case "runtime":
			f.Runtime, _ = r.scalar(n, sub, "a runtime (go, python, exec or synthetic)")
		case "synthetic":
			f.Synthetic = r.synthetic(n, sub)
		case "timeout":
			f.Timeout, _ = r.duration(n, sub)
		case "cpu":
			f.CPU, _ = r.number(n, sub, "a number of cores such as 0.5")
		case "memory":
			f.MemoryMB, _ = r.integer(n, sub, "a whole number of MiB")
		case "retries":
			f.Retries, _ = r.integer(n, sub, "a whole number of retries")
		case "max_instances":
			f.MaxInstances, _ = r.integer(n, sub, "a whole number of instances")
		case "inputs":
			r.inputs(f, n, sub)
		case "outputs":
			r.outputs(f, n, sub)
		case "switch":
			r.branches(f, n, sub)
		}
	}
	if f.Code != "" && f.Runtime == "" {
		f.Runtime = DefaultRuntime
	}
	if f.Synthetic != nil && f.Runtime == "" {
		f.Runtime = SyntheticRuntime
	}
	return f
}

// synthetic reads {seconds, busy, items}; Validate checks the values.
func (r *nativeReader) synthetic(n *yaml.Node, field string) *Synthetic {
	s := &Synthetic{}
	fields, _ := r.object(n, field, "a mapping with seconds, busy and items", "seconds", "busy", "items")
	if p, ok := fields["seconds"]; ok {
		s.Seconds, _ = r.number(p.value, p.valField, "a number of seconds such as 0.5")
	}
	if p, ok := fields["busy"]; ok {
		s.Busy, _ = r.boolean(p.value, p.valField)
	}
	if p, ok := fields["items"]; ok {
		s.Items, _ = r.integer(p.value, p.valField, "a whole number of items")
	}
	return s
}

// codePath makes a code path absolute, relative to the workflow file's directory.
func (r *nativeReader) codePath(code string) string {
	if !filepath.IsAbs(code) {
		code = filepath.Join(filepath.Dir(r.file), code)
	}
	if abs, err := filepath.Abs(code); err == nil {
		return abs
	}
	return filepath.Clean(code)
}

// inputs reads a list of names (normal inputs) or a mapping name -> normal|list.
func (r *nativeReader) inputs(f *Function, n *yaml.Node, field string) {
	switch {
	case isNull(n):
	case n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			sub := fmt.Sprintf("%s[%d]", field, i)
			if name, ok := r.scalar(item, sub, "an input name"); ok {
				in := &Input{Name: name, Line: item.Line}
				r.w.setPlace(in, "", r.here(sub, item))
				f.Inputs = append(f.Inputs, in)
			}
		}
	case n.Kind == yaml.MappingNode:
		pairs, _ := r.mapping(n, field, "a mapping from input names to kinds")
		for _, p := range pairs {
			in := &Input{Name: p.key, Line: p.keyNode.Line}
			r.w.setPlace(in, "", r.here(p.valField, p.keyNode))
			switch kind, _ := r.scalar(p.value, p.valField, "normal or list"); kind {
			case "normal":
			case "list":
				in.List = true
			case "":
			default:
				r.errorf(p.value, p.valField, "unknown input kind %q: use normal (one value) or list (one value per item of a foreach)", kind)
			}
			f.Inputs = append(f.Inputs, in)
		}
	default:
		r.errorf(n, field, "expected a list of input names or a mapping from input names to normal or list, found %s", kindName(n))
	}
}

// outputs reads a list of names (outputs with no unconditional targets) or
// a mapping name -> targets.
func (r *nativeReader) outputs(f *Function, n *yaml.Node, field string) {
	switch {
	case isNull(n):
	case n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			sub := fmt.Sprintf("%s[%d]", field, i)
			if name, ok := r.scalar(item, sub, "an output name"); ok {
				out := &Output{Name: name, Line: item.Line}
				r.w.setPlace(out, "", r.here(sub, item))
				f.Outputs = append(f.Outputs, out)
			}
		}
	case n.Kind == yaml.MappingNode:
		pairs, _ := r.mapping(n, field, "a mapping from output names to targets")
		for _, p := range pairs {
			out := &Output{Name: p.key, Line: p.keyNode.Line}
			r.w.setPlace(out, "", r.here(p.valField, p.keyNode))
			r.output(out, p)
			f.Outputs = append(f.Outputs, out)
		}
	default:
		r.errorf(n, field, "expected a list of output names or a mapping from output names to targets, found %s", kindName(n))
	}
}

// output reads an output's value: targets in short form, or {to, foreach, size}.
func (r *nativeReader) output(out *Output, p pair) {
	n := p.value
	if n.Kind != yaml.MappingNode {
		out.To = r.targets(out, n, p.valField, out.Name)
		return
	}
	fields, _ := r.object(n, p.valField, "a mapping with to, foreach and size", "to", "foreach", "size")
	if tp, ok := fields["to"]; ok {
		out.To = r.targets(out, tp.value, tp.valField, out.Name)
	}
	if fp, ok := fields["foreach"]; ok {
		out.Foreach, _ = r.boolean(fp.value, fp.valField)
	}
	if sp, ok := fields["size"]; ok {
		size, _ := r.integer(sp.value, sp.valField, "a whole number of bytes")
		out.Size = int64(size)
		r.w.setPlace(out, "size", r.here(sp.valField, sp.keyNode))
	}
}

// targets reads one target or a list of them, recording each one's place
// under owner (an *Output or *Route). resultKey is the key $result stands for.
func (r *nativeReader) targets(owner any, n *yaml.Node, field, resultKey string) []Target {
	var nodes []*yaml.Node
	var fields []string
	switch {
	case isNull(n):
		return nil
	case n.Kind == yaml.ScalarNode:
		nodes, fields = []*yaml.Node{n}, []string{field}
	case n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			nodes = append(nodes, item)
			fields = append(fields, fmt.Sprintf("%s[%d]", field, i))
		}
	default:
		r.errorf(n, field, "expected a target (function.input, %s or %s.key) or a list of targets, found %s", ResultFunction, ResultFunction, kindName(n))
		return nil
	}
	var ts []Target
	for i, item := range nodes {
		s, ok := r.scalar(item, fields[i], "a target (function.input, $result or $result.key)")
		if !ok {
			continue
		}
		t, err := parseTarget(s, resultKey)
		if err != nil {
			r.errorf(item, fields[i], "%v", err)
			continue
		}
		r.w.setPlace(owner, fmt.Sprintf("to[%d]", len(ts)), r.here(fields[i], item))
		ts = append(ts, t)
	}
	return ts
}

// parseTarget reads "function.input", "$result" (the result key is
// resultKey) or "$result.key". The function is what comes before the last
// dot, since input names have no dots.
func parseTarget(s, resultKey string) (Target, error) {
	if s == ResultFunction {
		return Target{Function: ResultFunction, Input: resultKey}, nil
	}
	if key, ok := strings.CutPrefix(s, ResultFunction+"."); ok {
		if key == "" {
			return Target{}, fmt.Errorf("target %q has no result key: write %s.key, or %s to use the output's name", s, ResultFunction, ResultFunction)
		}
		return Target{Function: ResultFunction, Input: key}, nil
	}
	if strings.HasPrefix(s, "$") {
		return Target{}, fmt.Errorf("unknown target %q: the only reserved target is %s (the invocation result)", s, ResultFunction)
	}
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || i == len(s)-1 {
		return Target{}, fmt.Errorf("invalid target %q: write function.input, %s or %s.key", s, ResultFunction, ResultFunction)
	}
	return Target{Function: s[:i], Input: s[i+1:]}, nil
}

func (r *nativeReader) branches(f *Function, n *yaml.Node, field string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, field, "expected a list of branches (each with when, send and signal), found %s", kindName(n))
		return
	}
	for i, item := range n.Content {
		bf := fmt.Sprintf("%s[%d]", field, i)
		b := &Branch{Line: item.Line}
		r.w.setPlace(b, "", r.here(bf, item))
		fields, _ := r.object(item, bf, "a branch: a mapping with when, send and signal", "when", "send", "signal")
		if p, ok := fields["when"]; ok {
			r.w.setPlace(b, "when", r.here(p.valField, p.value))
			if when, ok := r.scalar(p.value, p.valField, "a condition such as `ok == true`"); ok {
				if strings.TrimSpace(when) == "" {
					r.errorf(p.value, p.valField, "the condition is empty: leave out `when` to make this the default branch")
				}
				b.When = when
			}
		}
		// Routes keep the order of the send and signal fields in the file.
		var parts []pair
		for _, name := range []string{"send", "signal"} {
			if p, ok := fields[name]; ok {
				parts = append(parts, p)
			}
		}
		if len(parts) == 2 && before(parts[1].keyNode, parts[0].keyNode) {
			parts[0], parts[1] = parts[1], parts[0]
		}
		for _, p := range parts {
			if p.key == "send" {
				b.Routes = append(b.Routes, r.sends(p)...)
			} else {
				b.Routes = append(b.Routes, r.signals(p)...)
			}
		}
		f.Switch = append(f.Switch, b)
	}
}

// before reports whether a comes before b in the file.
func before(a, b *yaml.Node) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
}

// sends reads a branch's send: a mapping from output names to targets.
func (r *nativeReader) sends(p pair) []*Route {
	var routes []*Route
	pairs, _ := r.mapping(p.value, p.valField, "a mapping from output names to targets")
	for _, sp := range pairs {
		route := &Route{Output: sp.key, Line: sp.keyNode.Line}
		r.w.setPlace(route, "", r.here(sp.valField, sp.keyNode))
		route.To = r.targets(route, sp.value, sp.valField, sp.key)
		routes = append(routes, route)
	}
	return routes
}

// signals reads a branch's signal: targets (a signal labelled "signal"),
// or a mapping from labels to targets.
func (r *nativeReader) signals(p pair) []*Route {
	if p.value.Kind != yaml.MappingNode {
		route := &Route{Output: "signal", Signal: true, Line: p.keyNode.Line}
		r.w.setPlace(route, "", r.here(p.valField, p.keyNode))
		route.To = r.targets(route, p.value, p.valField, "signal")
		return []*Route{route}
	}
	var routes []*Route
	pairs, _ := r.mapping(p.value, p.valField, "a mapping from signal labels to targets")
	for _, sp := range pairs {
		route := &Route{Output: sp.key, Signal: true, Line: sp.keyNode.Line}
		r.w.setPlace(route, "", r.here(sp.valField, sp.keyNode))
		route.To = r.targets(route, sp.value, sp.valField, sp.key)
		routes = append(routes, route)
	}
	return routes
}

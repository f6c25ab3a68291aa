package workflow

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// MarshalNative writes w in the native YAML format, in file order and with
// the short forms where they say the same: ParseNative of the result gives
// the same model, up to lines, the source file, and one order: a branch
// whose routes mix sends and signals gets its sends together and its
// signals together (which changes nothing the branch does). Derived fields
// and Artifact (set at deploy) are not written. It fails on workflows the
// format cannot hold: null entries, or a branch that sends one output, or
// one signal label, twice.
func MarshalNative(w *Workflow) ([]byte, error) {
	if w == nil {
		return nil, fmt.Errorf("marshal workflow: nil workflow")
	}
	root := yamlMap(false)
	yamlAdd(root, "name", yamlStr(w.Name))
	if w.Timeout != 0 {
		yamlAdd(root, "timeout", yamlStr(time.Duration(w.Timeout).String()))
	}
	if len(w.Inputs) > 0 {
		ins := yamlMap(false)
		for i, in := range w.Inputs {
			if in == nil {
				return nil, fmt.Errorf("marshal workflow %s: inputs[%d] is null", w.Name, i)
			}
			yamlAdd(ins, in.Name, outputValue(in))
		}
		yamlAdd(root, "inputs", ins)
	}
	if len(w.Functions) > 0 {
		fns := yamlMap(false)
		for i, f := range w.Functions {
			if f == nil {
				return nil, fmt.Errorf("marshal workflow %s: functions[%d] is null", w.Name, i)
			}
			n, err := marshalFunction(f)
			if err != nil {
				return nil, fmt.Errorf("marshal workflow %s: %w", w.Name, err)
			}
			yamlAdd(fns, f.Name, n)
		}
		yamlAdd(root, "functions", fns)
	}
	unflow(root)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("marshal workflow %s: %w", w.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal workflow %s: %w", w.Name, err)
	}
	return b.Bytes(), nil
}

func marshalFunction(f *Function) (*yaml.Node, error) {
	n := yamlMap(false)
	if f.Code != "" {
		yamlAdd(n, "code", yamlStr(f.Code))
	}
	// The loader sets runtime go for code and synthetic for a synthetic
	// description: write it only when it says more.
	implied := f.Runtime == "" ||
		f.Runtime == DefaultRuntime && f.Code != "" ||
		f.Runtime == SyntheticRuntime && f.Synthetic != nil && f.Code == ""
	if !implied {
		yamlAdd(n, "runtime", yamlStr(f.Runtime))
	}
	if s := f.Synthetic; s != nil {
		sn := yamlMap(true)
		yamlAdd(sn, "seconds", yamlFloat(s.Seconds))
		if s.Busy {
			yamlAdd(sn, "busy", yamlPlain("true"))
		}
		if s.Items != 0 {
			yamlAdd(sn, "items", yamlPlain(strconv.Itoa(s.Items)))
		}
		yamlAdd(n, "synthetic", sn)
	}
	if f.Timeout != 0 {
		yamlAdd(n, "timeout", yamlStr(time.Duration(f.Timeout).String()))
	}
	if f.CPU != 0 {
		yamlAdd(n, "cpu", yamlFloat(f.CPU))
	}
	if f.MemoryMB != 0 {
		yamlAdd(n, "memory", yamlPlain(strconv.Itoa(f.MemoryMB)))
	}
	if f.Retries != 0 {
		yamlAdd(n, "retries", yamlPlain(strconv.Itoa(f.Retries)))
	}
	if f.MaxInstances != 0 {
		yamlAdd(n, "max_instances", yamlPlain(strconv.Itoa(f.MaxInstances)))
	}
	if len(f.Inputs) > 0 {
		ins, err := marshalInputs(f)
		if err != nil {
			return nil, err
		}
		yamlAdd(n, "inputs", ins)
	}
	if len(f.Outputs) > 0 {
		outs, err := marshalOutputs(f)
		if err != nil {
			return nil, err
		}
		yamlAdd(n, "outputs", outs)
	}
	if len(f.Switch) > 0 {
		sw := &yaml.Node{Kind: yaml.SequenceNode}
		for i, b := range f.Switch {
			if b == nil {
				return nil, fmt.Errorf("function %s: switch[%d] is null", f.Name, i)
			}
			bn, err := marshalBranch(b)
			if err != nil {
				return nil, fmt.Errorf("function %s: switch[%d]: %w", f.Name, i, err)
			}
			sw.Content = append(sw.Content, bn)
		}
		yamlAdd(n, "switch", sw)
	}
	return n, nil
}

// marshalInputs writes [a, b], or {a: normal, b: list} when there are lists.
func marshalInputs(f *Function) (*yaml.Node, error) {
	lists := false
	for i, in := range f.Inputs {
		if in == nil {
			return nil, fmt.Errorf("function %s: inputs[%d] is null", f.Name, i)
		}
		lists = lists || in.List
	}
	if !lists {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, in := range f.Inputs {
			seq.Content = append(seq.Content, yamlStr(in.Name))
		}
		return seq, nil
	}
	m := yamlMap(false)
	for _, in := range f.Inputs {
		kind := "normal"
		if in.List {
			kind = "list"
		}
		yamlAdd(m, in.Name, yamlStr(kind))
	}
	return m, nil
}

// marshalOutputs writes [a, b] when no output has targets, foreach or a
// size, else a mapping from names to values.
func marshalOutputs(f *Function) (*yaml.Node, error) {
	bare := true
	for i, out := range f.Outputs {
		if out == nil {
			return nil, fmt.Errorf("function %s: outputs[%d] is null", f.Name, i)
		}
		bare = bare && len(out.To) == 0 && !out.Foreach && out.Size == 0
	}
	if bare {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, out := range f.Outputs {
			seq.Content = append(seq.Content, yamlStr(out.Name))
		}
		return seq, nil
	}
	m := yamlMap(false)
	for _, out := range f.Outputs {
		yamlAdd(m, out.Name, outputValue(out))
	}
	return m, nil
}

// outputValue writes an output's (or workflow input's) targets, in the
// long form {to, foreach, size} when it is foreach or has a size.
func outputValue(out *Output) *yaml.Node {
	to := marshalTargets(out.To, out.Name)
	if !out.Foreach && out.Size == 0 {
		return to
	}
	m := yamlMap(true)
	if len(out.To) > 0 {
		yamlAdd(m, "to", to)
	}
	if out.Foreach {
		yamlAdd(m, "foreach", yamlPlain("true"))
	}
	if out.Size != 0 {
		yamlAdd(m, "size", yamlPlain(strconv.FormatInt(out.Size, 10)))
	}
	return m
}

// marshalTargets writes one target, a list of them, or null for none.
// resultKey is the key $result alone stands for.
func marshalTargets(ts []Target, resultKey string) *yaml.Node {
	switch len(ts) {
	case 0:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}
	case 1:
		return yamlStr(marshalTarget(ts[0], resultKey))
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, t := range ts {
		seq.Content = append(seq.Content, yamlStr(marshalTarget(t, resultKey)))
	}
	return seq
}

func marshalTarget(t Target, resultKey string) string {
	if t.Function != ResultFunction {
		return t.String()
	}
	if t.Input == resultKey {
		return ResultFunction
	}
	return t.String()
}

// marshalBranch writes {when, send, signal}. A lone signal labelled
// "signal" is written as its targets, other signals as label: targets.
func marshalBranch(b *Branch) (*yaml.Node, error) {
	n := yamlMap(false)
	if b.When != "" {
		yamlAdd(n, "when", yamlStr(b.When))
	}
	send, signal := yamlMap(false), yamlMap(false)
	var signals []*Route
	var order []string // "send" and "signal" in the order of their first route
	seen := map[[2]any]bool{}
	for i, r := range b.Routes {
		if r == nil {
			return nil, fmt.Errorf("routes[%d] is null", i)
		}
		k := [2]any{r.Signal, r.Output}
		if seen[k] {
			return nil, fmt.Errorf("%q is sent twice in one branch, which the native format cannot write: merge the targets into one route", r.Output)
		}
		seen[k] = true
		part := "send"
		if r.Signal {
			part = "signal"
			signals = append(signals, r)
			yamlAdd(signal, r.Output, marshalTargets(r.To, r.Output))
		} else {
			yamlAdd(send, r.Output, marshalTargets(r.To, r.Output))
		}
		if !contains(order, part) {
			order = append(order, part)
		}
	}
	for _, part := range order {
		switch {
		case part == "send":
			yamlAdd(n, "send", send)
		case len(signals) == 1 && signals[0].Output == "signal":
			yamlAdd(n, "signal", marshalTargets(signals[0].To, "signal"))
		default:
			yamlAdd(n, "signal", signal)
		}
	}
	if len(n.Content) == 0 {
		n.Style = yaml.FlowStyle
	}
	return n, nil
}

// maxFlow is the longest a list or mapping is written on one line, as in
// [a, b] or {to: x, size: 8}; longer ones are written one entry a line.
const maxFlow = 64

// unflow writes in block style the flow lists and mappings under n that
// would make long lines.
func unflow(n *yaml.Node) {
	if n.Style&yaml.FlowStyle != 0 && flowLen(n) > maxFlow {
		n.Style &^= yaml.FlowStyle
	}
	for _, c := range n.Content {
		unflow(c)
	}
}

// flowLen is about how long n is written in flow style.
func flowLen(n *yaml.Node) int {
	if n.Kind == yaml.ScalarNode {
		return len(n.Value)
	}
	l := 2
	for i, c := range n.Content {
		l += flowLen(c) + 2 // ", " or ": "
		if i == 0 {
			l -= 2
		}
	}
	return l
}

// YAML node helpers.

func yamlMap(flow bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	return n
}

func yamlAdd(m *yaml.Node, key string, value *yaml.Node) {
	m.Content = append(m.Content, yamlStr(key), value)
}

// yamlStr is a string scalar, quoted when it would otherwise read as another type.
func yamlStr(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// yamlPlain is a scalar written as is: a number or a boolean.
func yamlPlain(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

func yamlFloat(f float64) *yaml.Node { return yamlPlain(strconv.FormatFloat(f, 'g', -1, 64)) }

package workflow

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/faasflow/faasflow-go/workflow/expr"
	"go.yaml.in/yaml/v3"
)

// FaaSFlow v1's flat workflow format (<name>.flat_workflow.yaml, FaaSFlow
// ASPLOS'22) describes functions without code: each sleeps `runtime`
// seconds and emits outputs of declared sizes. It maps onto the model as
// follows (docs/workflow-format.md has the full table):
//
//   - Every function becomes a synthetic function (runtime "synthetic");
//     mem_usage (GB) becomes MemoryMB, scale MaxInstances, split_ratio the
//     Items of a foreach. source: VIRTUAL nodes become switch functions
//     that take no time; the node named END is not a function.
//   - An input's value {function, parameter} is a data edge. function
//     INPUT names a global_input; when the parameter is not one, it names
//     the output of that name of a function whose next lists this one
//     (the WorkflowHub graphs pass data that way).
//   - next: {type: pass (or parallel), nodes} makes control edges where
//     there is no data edge yet (outputs _next, inputs _after_<from>);
//     every switch that may choose a node feeds one shared input _switch
//     (an OR-join). next: {type: foreach} makes the keys outputs foreach
//     outputs (or adds _items -> _item), with as many items as the
//     split_ratio of the foreach nodes. next: {type: switch} on a VIRTUAL
//     node makes one branch per condition.
//   - global_output entries send to the result; functions that send
//     nothing (to functions or the result) send a signal _done there, so
//     that an invocation ends when every path has ended.
//   - Input names become valid input names ("a.b" becomes "a_b").

// FlatV1Suffix ends the name of a FaaSFlow v1 workflow file; the part before
// it is the workflow's name.
const FlatV1Suffix = ".flat_workflow.yaml"

// Names with a meaning in v1 files.
const (
	v1Input   = "INPUT"   // value.function of a workflow input
	v1Virtual = "VIRTUAL" // source of a switch node
	v1End     = "END"     // the node that ends a path
	v1Default = "default" // the condition of the default branch
)

// Names of the inputs and outputs the loader adds for control edges.
const (
	v1NextOut   = "_next"   // A's control output to the nodes of its next without data from A
	v1AfterIn   = "_after_" // + A: B's input fed by A's _next
	v1SwitchIn  = "_switch" // B's input fed by every switch that may choose B
	v1ItemsOut  = "_items"  // A's foreach control output, when A has no keys output
	v1ItemIn    = "_item"   // B's input fed by A's _items
	v1DoneOut   = "_done"   // a path's end, sent to $result.<function>
	v1AllSuffix = ".all"    // K.all: all items of a keys output K, for readers that are not foreach nodes
)

// maxAliasNodes bounds the nodes a file's aliases may expand to.
const maxAliasNodes = 1 << 20

// ParseFlatV1 reads a FaaSFlow v1 flat_workflow.yaml and validates the
// result. file names the file in errors, and its name without
// FlatV1Suffix is the workflow's name. Problems are returned as Errors.
func ParseFlatV1(src []byte, file string) (*Workflow, error) {
	root, err := parseYAMLAliases(src, file)
	if err != nil {
		return nil, err
	}
	r := &v1Reader{
		nodeReader: nodeReader{file: file},
		w:          &Workflow{Name: flatV1Name(file), Source: file},
		byName:     map[string]*v1Func{},
		inputs:     map[string]*Output{},
		results:    map[string]place{},
	}
	r.w.setPlace(r.w, "name", place{file, "", 0})
	r.read(root)
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	r.build()
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	if !isWord(r.w.Name) {
		return nil, Errors{{File: file, Msg: fmt.Sprintf("invalid workflow name %q (taken from the file name): name the file <name>%s, with a name of %s", r.w.Name, FlatV1Suffix, wordRule)}}
	}
	if err := r.w.Validate(); err != nil {
		return nil, err
	}
	return r.w, nil
}

// flatV1Name is the workflow name a file's name gives.
func flatV1Name(file string) string {
	base := filepath.Base(file)
	if name, ok := strings.CutSuffix(base, FlatV1Suffix); ok {
		return name
	}
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// parseYAMLAliases is parseYAML for files with anchors and aliases, which
// the v1 files use: each alias is replaced by the node it names. The
// expanded tree is bounded, so that a small hostile file cannot grow huge.
func parseYAMLAliases(src []byte, file string) (*yaml.Node, error) {
	root, err := parseDocument(src, file)
	if err != nil {
		return nil, err
	}
	r := &nodeReader{file: file}
	budget := maxAliasNodes
	if r.expandAliases(root, 0, &budget, map[*yaml.Node]bool{}) {
		return root, nil
	}
	return nil, r.errs.err()
}

// expandAliases replaces the aliases under n by the nodes they name,
// counting every node visited (shared nodes once per use) against budget.
func (r *nodeReader) expandAliases(n *yaml.Node, depth int, budget *int, path map[*yaml.Node]bool) bool {
	if depth > 1000 {
		r.errorf(n, "", "the file is nested too deeply")
		return false
	}
	if *budget--; *budget < 0 {
		r.errorf(n, "", "the aliases expand to more than %d nodes: write the values out", maxAliasNodes)
		return false
	}
	if n.Kind == yaml.AliasNode {
		r.errorf(n, "", "the file is an alias: write the workflow out")
		return false
	}
	path[n] = true
	defer delete(path, n)
	for i, c := range n.Content {
		if c.Kind == yaml.AliasNode {
			if c.Alias == nil || c.Alias.Kind == yaml.AliasNode {
				r.errorf(c, "", "alias *%s names no value", c.Value)
				return false
			}
			if path[c.Alias] {
				r.errorf(c, "", "alias *%s is inside the value it names", c.Value)
				return false
			}
			c = c.Alias
			n.Content[i] = c
		}
		if !r.expandAliases(c, depth+1, budget, path) {
			return false
		}
	}
	return true
}

type v1Reader struct {
	nodeReader
	w       *Workflow
	fns     []*v1Func // in file order, END included
	byName  map[string]*v1Func
	inputs  map[string]*Output // workflow inputs by name
	results map[string]place   // result keys taken, with where
	globals []*v1Data          // global_input entries
	outs    []*v1Data          // global_output entries
}

// v1Func is one entry of functions.
type v1Func struct {
	name    string
	at      place // field path functions.<name> (functions[i] without a name)
	virtual bool
	end     bool
	seconds float64
	memMB   int
	scale   int
	ratio   int // split_ratio, 0 when not given
	ratioAt place
	fieldAt map[string]place // where each field is
	inputs  []*v1Data
	outputs []*v1Data
	next    *v1Next

	fn      *Function
	mapOf   *v1Func            // the foreach producer whose items this runs once for
	preds   []*v1Func          // functions whose next lists this one, in file order
	dataTo  map[*v1Func]bool   // functions this one sends data to
	keys    map[string]bool    // names of keys outputs
	all     map[string]*Output // K.all outputs made
	control map[string]*Output // _next, _items, _done by name
	inputOf map[string]*Input  // model inputs by v1 name
	chosen  *Input             // _switch, fed by the switches that may choose this function
}

// v1Data is an input or output entry: of a function, global_input or global_output.
type v1Data struct {
	name string
	kind string // type
	ref  *v1Ref // value, nil when not given or invalid
	// valued says the entry has a value field (ref is nil when it is invalid).
	valued bool
	size   int64
	at     place // the entry's key
}

// v1Ref is a value: {function, parameter}.
type v1Ref struct {
	function, parameter string
	at                  place // the value
	fnAt, paramAt       place
}

type v1Next struct {
	kind   string
	nodes  []v1Name
	conds  []v1Name
	at     place // the next field
	condAt place
}

// v1Name is a node or condition of next, with where it is.
type v1Name struct {
	name string
	at   place
}

func (r *v1Reader) here(field string, n *yaml.Node) place {
	return place{r.file, field, n.Line}
}

func (r *v1Reader) read(root *yaml.Node) {
	fields, _ := r.object(root, "", "a mapping with global_input, functions and global_output", "global_input", "functions", "global_output")
	if p, ok := fields["global_input"]; ok {
		pairs, _ := r.mapping(p.value, p.valField, "a mapping from input names to {type, value, size}")
		for _, gp := range pairs {
			r.globals = append(r.globals, r.data(gp, "a global input: {type, value, size}", []string{"pass", "normal"}, "type", "value", "size"))
		}
	}
	if p, ok := fields["functions"]; ok {
		r.functions(p)
	} else {
		r.errorf(root, "functions", "functions is missing: list the workflow's functions under it")
	}
	if p, ok := fields["global_output"]; ok {
		pairs, _ := r.mapping(p.value, p.valField, "a mapping from result names to {type, value}")
		for _, op := range pairs {
			d := r.data(op, "a global output: {type, value}", []string{"pass", "normal"}, "type", "value")
			if !d.valued {
				r.errorf(op.keyNode, op.valField, "global output %q has no value: write value: {function: F, parameter: P} (an output of F)", op.key)
				continue
			}
			r.outs = append(r.outs, d)
		}
	}
}

var v1FunctionFields = []string{"name", "source", "runtime", "scale", "mem_usage", "split_ratio", "input", "output", "next"}

func (r *v1Reader) functions(p pair) {
	if isNull(p.value) {
		return
	}
	if p.value.Kind != yaml.SequenceNode {
		r.errorf(p.value, p.valField, "expected a list of functions, found %s", kindName(p.value))
		return
	}
	for i, item := range p.value.Content {
		field := fmt.Sprintf("functions[%d]", i)
		if name := nameOf(item); name != "" {
			field = "functions." + name
		}
		f := &v1Func{at: r.here(field, item), fieldAt: map[string]place{}}
		fields, _ := r.object(item, field, "a function: a mapping with "+strings.Join(v1FunctionFields, ", "), v1FunctionFields...)
		for _, name := range v1FunctionFields {
			if fp, ok := fields[name]; ok {
				f.fieldAt[name] = r.here(fp.valField, fp.keyNode)
			}
		}
		np, ok := fields["name"]
		if !ok {
			r.errorf(item, field, "name is missing: every function has a name")
			continue
		}
		f.name, _ = r.scalar(np.value, np.valField, "the function's name")
		if f.name == "" {
			continue
		}
		f.at = r.here(field, np.keyNode)
		source := f.name
		if sp, ok := fields["source"]; ok {
			source, _ = r.scalar(sp.value, sp.valField, "the function's source, VIRTUAL or END")
		}
		f.virtual = source == v1Virtual
		f.end = f.name == v1End
		if f.end != (source == v1End) {
			r.errorf(np.keyNode, field, "the node that ends paths is written {name: END, source: END}; this one has name %q and source %q", f.name, source)
		}
		r.numbers(f, fields)
		if ip, ok := fields["input"]; ok {
			pairs, _ := r.mapping(ip.value, ip.valField, "a mapping from input names to {type, value, size}")
			for _, dp := range pairs {
				d := r.data(dp, "an input: {type, value, size}", []string{"key", "pass", "normal"}, "type", "value", "size")
				if !d.valued {
					r.errorf(dp.keyNode, dp.valField, "input %q has no value: write value: {function: F, parameter: P} (an output of F, or function: INPUT for a global input)", dp.key)
					continue
				}
				f.inputs = append(f.inputs, d)
			}
		}
		if op, ok := fields["output"]; ok {
			pairs, _ := r.mapping(op.value, op.valField, "a mapping from output names to {type, size}")
			for _, dp := range pairs {
				f.outputs = append(f.outputs, r.data(dp, "an output: {type, size}", []string{"keys", "pass", "normal"}, "type", "size", "value"))
			}
		}
		if xp, ok := fields["next"]; ok {
			f.next = r.next(xp)
		}
		r.checkKind(f, fields)
		if first, dup := r.byName[f.name]; dup {
			r.errorf(np.value, np.valField, "function %q is defined twice (first at line %d): names are unique", f.name, first.at.line)
			continue
		}
		r.byName[f.name] = f
		r.fns = append(r.fns, f)
	}
}

// nameOf returns the name field of a function entry, or "".
func nameOf(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := n.Content[i], n.Content[i+1]; k.Value == "name" && v.Kind == yaml.ScalarNode && !isNull(v) {
			return v.Value
		}
	}
	return ""
}

// numbers reads runtime, scale, mem_usage and split_ratio.
func (r *v1Reader) numbers(f *v1Func, fields map[string]pair) {
	if p, ok := fields["runtime"]; ok {
		if s, ok := r.number(p.value, p.valField, "a number of seconds"); ok {
			if s < 0 || math.IsNaN(s) || math.IsInf(s, 0) {
				r.errorf(p.value, p.valField, "runtime must be a non-negative number of seconds, found %s", p.value.Value)
			} else {
				f.seconds = s
			}
		}
	}
	if p, ok := fields["scale"]; ok {
		if n, ok := r.integer(p.value, p.valField, "a whole number of instances"); ok {
			if n < 0 {
				r.errorf(p.value, p.valField, "scale must not be negative (0 = the default, %d instances)", DefaultMaxInstances)
			} else {
				f.scale = n
			}
		}
	}
	if p, ok := fields["mem_usage"]; ok {
		if gb, ok := r.number(p.value, p.valField, "a number of GB such as 0.25"); ok {
			const maxGB = math.MaxInt32 / 1024
			if gb < 0 || math.IsNaN(gb) || gb > maxGB {
				r.errorf(p.value, p.valField, "mem_usage must be a number of GB from 0 to %d, found %s", maxGB, p.value.Value)
			} else {
				f.memMB = int(math.Round(gb * 1024))
			}
		}
	}
	if p, ok := fields["split_ratio"]; ok {
		if n, ok := r.integer(p.value, p.valField, "a whole number of items"); ok {
			if n < 1 {
				r.errorf(p.value, p.valField, "split_ratio must be at least 1 (the number of items of the foreach that runs this function)")
			} else {
				f.ratio = n
				f.ratioAt = r.here(p.valField, p.keyNode)
			}
		}
	}
}

// checkKind checks the fields that VIRTUAL and END nodes may have.
func (r *v1Reader) checkKind(f *v1Func, fields map[string]pair) {
	var not []string
	var why string
	switch {
	case f.end:
		not, why = []string{"split_ratio", "input", "output", "next"}, "END only ends paths"
	case f.virtual:
		not, why = []string{"split_ratio", "input", "output"}, "a VIRTUAL node only chooses a branch"
		if f.next == nil || f.next.kind != "switch" {
			at := f.at
			if f.next != nil {
				at = f.next.at
			}
			r.errs.add(at, "a VIRTUAL node is a switch: give it next: {type: switch, conditions: [...], nodes: [...]}")
		}
	case f.next != nil && f.next.kind == "switch":
		r.errs.add(f.next.at, "only VIRTUAL nodes switch: add a node with source: VIRTUAL after %s and give it this next", f.name)
	}
	for _, name := range not {
		if p, ok := fields[name]; ok {
			r.errorf(p.keyNode, p.valField, "%s has no %s: %s", f.name, name, why)
		}
	}
}

// data reads an input or output entry: {type, value, size}, allowed fields only.
func (r *v1Reader) data(p pair, want string, kinds []string, allowed ...string) *v1Data {
	d := &v1Data{name: p.key, at: r.here(p.valField, p.keyNode)}
	fields, _ := r.object(p.value, p.valField, want, allowed...)
	if tp, ok := fields["type"]; ok {
		if kind, ok := r.scalar(tp.value, tp.valField, "a type ("+strings.Join(kinds, ", ")+")"); ok {
			if !contains(kinds, kind) {
				r.errorf(tp.value, tp.valField, "unknown type %q: use %s", kind, strings.Join(kinds, ", "))
			}
			d.kind = kind
		}
	}
	if vp, ok := fields["value"]; ok {
		d.ref, d.valued = r.ref(vp), true
	}
	if sp, ok := fields["size"]; ok {
		var size int64
		if sp.value.Kind != yaml.ScalarNode || sp.value.ShortTag() != "!!int" || sp.value.Decode(&size) != nil {
			r.errorf(sp.value, sp.valField, "expected a whole number of bytes, found %s", kindName(sp.value))
		} else if size < 0 {
			r.errorf(sp.value, sp.valField, "size must be a non-negative number of bytes, found %d", size)
		} else {
			d.size = size
		}
	}
	return d
}

// ref reads a value: {function, parameter}.
func (r *v1Reader) ref(p pair) *v1Ref {
	ref := &v1Ref{at: r.here(p.valField, p.keyNode)}
	fields, _ := r.object(p.value, p.valField, "{function, parameter}", "function", "parameter")
	fp, okF := fields["function"]
	pp, okP := fields["parameter"]
	if !okF || !okP {
		r.errorf(p.keyNode, p.valField, "a value names a function and one of its outputs: {function: F, parameter: P} (function: INPUT for a global input)")
		return nil
	}
	ref.fnAt, ref.paramAt = r.here(fp.valField, fp.keyNode), r.here(pp.valField, pp.keyNode)
	var ok1, ok2 bool
	ref.function, ok1 = r.scalar(fp.value, fp.valField, "a function name, or INPUT")
	ref.parameter, ok2 = r.scalar(pp.value, pp.valField, "an output name")
	if !ok1 || !ok2 {
		return nil
	}
	return ref
}

var v1NextKinds = []string{"pass", "parallel", "foreach", "switch"}

func (r *v1Reader) next(p pair) *v1Next {
	x := &v1Next{at: r.here(p.valField, p.keyNode)}
	fields, _ := r.object(p.value, p.valField, "{type, nodes, conditions}", "type", "nodes", "conditions")
	if tp, ok := fields["type"]; ok {
		if kind, ok := r.scalar(tp.value, tp.valField, "pass, parallel, foreach or switch"); ok {
			if !contains(v1NextKinds, kind) {
				r.errorf(tp.value, tp.valField, "unknown next type %q: use pass (or parallel), foreach or switch", kind)
			}
			x.kind = kind
		}
	} else {
		r.errorf(p.keyNode, p.valField, "next has no type: use pass (or parallel), foreach or switch")
	}
	if np, ok := fields["nodes"]; ok {
		x.nodes = r.names(np, "a function name, or END")
	}
	if cp, ok := fields["conditions"]; ok {
		x.conds = r.names(cp, "a condition such as INPUT.flag, or default")
		x.condAt = r.here(cp.valField, cp.keyNode)
		if x.kind != "switch" {
			r.errorf(cp.keyNode, cp.valField, "conditions are only for next of type switch")
		}
	}
	if x.kind == "switch" {
		switch {
		case len(x.conds) == 0:
			r.errs.add(x.at, "a switch needs conditions, one for each node in order (the last may be default)")
		case len(x.conds) != len(x.nodes):
			r.errs.add(x.condAt, "a switch has one condition for each node: found %d conditions and %d nodes", len(x.conds), len(x.nodes))
		}
	}
	return x
}

// names reads a list of scalars.
func (r *v1Reader) names(p pair, want string) []v1Name {
	if isNull(p.value) {
		return nil
	}
	if p.value.Kind != yaml.SequenceNode {
		r.errorf(p.value, p.valField, "expected a list, found %s", kindName(p.value))
		return nil
	}
	var names []v1Name
	for i, item := range p.value.Content {
		field := fmt.Sprintf("%s[%d]", p.valField, i)
		if s, ok := r.scalar(item, field, want); ok {
			names = append(names, v1Name{s, r.here(field, item)})
		}
	}
	return names
}

// build makes the model from what read found.
func (r *v1Reader) build() {
	w := r.w
	for _, g := range r.globals {
		if g.ref != nil && (g.ref.function != v1Input || g.ref.parameter != g.name) {
			r.errs.add(g.ref.at, "a global input's value is {function: %s, parameter: %s}, naming itself", v1Input, g.name)
		}
		in := &Output{Name: g.name, Size: g.size, Line: g.at.line}
		w.setPlace(in, "", g.at)
		w.Inputs = append(w.Inputs, in)
		r.inputs[g.name] = in
	}
	for _, f := range r.fns {
		if !f.end {
			r.function(f)
		}
	}
	r.links()
	r.items()
	for _, f := range r.fns {
		if f.fn != nil {
			r.dataInputs(f)
		}
	}
	for _, f := range r.fns {
		if f.fn != nil && f.next != nil {
			r.control(f)
		}
	}
	r.lists()
	for _, d := range r.outs {
		key := d.name
		if !r.takeResult(key, d.at) {
			continue
		}
		if out := r.source(d.ref, nil); out != nil {
			r.send(out, Target{ResultFunction, key}, d.ref.at)
		}
	}
	r.sinks()
}

// function makes f's model function and its declared outputs.
func (r *v1Reader) function(f *v1Func) {
	fn := &Function{
		Name:         f.name,
		Runtime:      SyntheticRuntime,
		Synthetic:    &Synthetic{Seconds: f.seconds, Items: f.ratio},
		MemoryMB:     f.memMB,
		MaxInstances: f.scale,
		Line:         f.at.line,
	}
	if f.virtual {
		fn.Synthetic.Seconds = 0
	}
	w := r.w
	w.setPlace(fn, "", f.at)
	for field, sub := range map[string]string{"runtime": "synthetic", "mem_usage": "memory", "scale": "max_instances"} {
		if at, ok := f.fieldAt[field]; ok {
			w.setPlace(fn, sub, at)
		}
	}
	f.fn = fn
	f.dataTo = map[*v1Func]bool{}
	f.keys = map[string]bool{}
	f.all = map[string]*Output{}
	f.control = map[string]*Output{}
	f.inputOf = map[string]*Input{}
	for _, d := range f.outputs {
		out := &Output{Name: d.name, Size: d.size, Line: d.at.line}
		w.setPlace(out, "", d.at)
		fn.Outputs = append(fn.Outputs, out)
		if d.kind == "keys" {
			f.keys[d.name] = true
		}
	}
	w.Functions = append(w.Functions, fn)
}

// links checks next's nodes and records predecessors and foreach producers.
func (r *v1Reader) links() {
	for _, f := range r.fns {
		if f.fn == nil || f.next == nil {
			continue
		}
		seen := map[string]bool{}
		for _, n := range f.next.nodes {
			if n.name == v1End {
				if f.next.kind == "foreach" {
					r.errs.add(n.at, "END cannot run once per item: list functions under a foreach")
				}
				continue
			}
			g := r.byName[n.name]
			if g == nil {
				r.errs.add(n.at, "next node %q of %s is not a function: the functions are %s", n.name, f.name, list(r.functionNames(), "none"))
				continue
			}
			if seen[n.name] {
				if f.next.kind != "switch" {
					r.errs.add(n.at, "next node %q of %s is listed twice", n.name, f.name)
				}
				continue
			}
			seen[n.name] = true
			g.preds = append(g.preds, f)
			if f.next.kind == "foreach" {
				if g.mapOf != nil {
					r.errs.add(n.at, "%s runs once per item of %s already; a function runs once per item of one foreach", g.name, g.mapOf.name)
					continue
				}
				g.mapOf = f
			}
		}
	}
}

func (r *v1Reader) functionNames() []string {
	var names []string
	for _, f := range r.fns {
		if !f.end {
			names = append(names, f.name)
		}
	}
	return names
}

// items makes the keys outputs of foreach producers foreach outputs, with
// as many items as the split_ratio of the functions they run (v1 writes it
// on those).
func (r *v1Reader) items() {
	for _, f := range r.fns {
		if f.fn == nil || f.next == nil || f.next.kind != "foreach" {
			continue
		}
		for _, out := range f.fn.Outputs {
			if f.keys[out.Name] {
				out.Foreach = true
			}
		}
		items, from := f.ratio, f
		for _, g := range r.fns {
			if g.mapOf != f || g.ratio == 0 {
				continue
			}
			if items != 0 && g.ratio != items {
				r.errs.add(g.ratioAt, "split_ratio of %s is %d, but %s has %d: the foreach nodes of %s run once per item of the same items", g.name, g.ratio, from.name, items, f.name)
				continue
			}
			items, from = g.ratio, g
		}
		f.fn.Synthetic.Items = items
	}
}

// dataInputs makes f's inputs and their data edges: its declared inputs,
// then one for each output that passes a value on.
func (r *v1Reader) dataInputs(f *v1Func) {
	for _, d := range f.inputs {
		g, out := r.resolve(d.ref, f)
		if out == nil {
			continue
		}
		if d.kind == "key" && (g == nil || !g.keys[out.Name]) {
			r.errs.add(d.at, "input %q of %s has type key, but %s.%s is not a keys output: make the input type pass, or the output type keys", d.name, f.name, d.ref.function, d.ref.parameter)
		}
		if g != nil {
			out = r.sender(g, out, f)
		}
		in := r.input(f, d.name, d.at)
		f.inputOf[d.name] = in
		r.send(out, Target{f.name, in.Name}, d.ref.at)
	}
	for _, d := range f.outputs {
		if d.ref == nil {
			continue
		}
		out := r.source(d.ref, f)
		if out == nil {
			continue
		}
		if in := f.inputOf[d.name]; in != nil {
			if !hasTargetIn(out.To, Target{f.name, in.Name}) {
				r.errs.add(d.ref.at, "output %q of %s passes on %s.%s, but its input %q reads something else: make them the same", d.name, f.name, d.ref.function, d.ref.parameter, d.name)
			}
			continue
		}
		in := r.input(f, d.name, d.ref.at)
		f.inputOf[d.name] = in
		r.send(out, Target{f.name, in.Name}, d.ref.at)
	}
}

// resolve finds the output a value names: a workflow input (g nil) or a
// declared output of function g. It reports what is missing.
func (r *v1Reader) resolve(ref *v1Ref, reader *v1Func) (g *v1Func, out *Output) {
	if ref.function == v1Input {
		if in := r.inputs[ref.parameter]; in != nil {
			return nil, in
		}
		// Not a global input: the output of that name of a function before
		// the reader, as the WorkflowHub graphs pass data.
		var from []*v1Func
		var names []string
		if reader != nil {
			for _, p := range reader.preds {
				if p.fn.Output(ref.parameter) != nil {
					from = append(from, p)
					names = append(names, p.name)
				}
			}
		}
		switch len(from) {
		case 0:
			r.errs.add(ref.paramAt, "%s.%s is neither a global_input (%s) nor an output of a function whose next lists %s", v1Input, ref.parameter, list(r.inputNames(), "none"), r.readerName(reader))
			return nil, nil
		case 1:
			return from[0], from[0].fn.Output(ref.parameter)
		default:
			r.errs.add(ref.paramAt, "%s.%s is an output of several functions before %s (%s): name one as the function", v1Input, ref.parameter, reader.name, strings.Join(names, ", "))
			return nil, nil
		}
	}
	g = r.byName[ref.function]
	switch {
	case g == nil:
		r.errs.add(ref.fnAt, "unknown function %q: the functions are %s (or %s for a global input)", ref.function, list(r.functionNames(), "none"), v1Input)
		return nil, nil
	case g.fn == nil:
		r.errs.add(ref.fnAt, "%s has no outputs: name a function", v1End)
		return nil, nil
	}
	for _, d := range g.outputs {
		if d.name == ref.parameter {
			return g, g.fn.Output(d.name)
		}
	}
	r.errs.add(ref.paramAt, "function %s has no output %q: its outputs are %s", g.name, ref.parameter, list(r.declared(g), "none"))
	return nil, nil
}

// source resolves a value to the output that sends it to reader (nil for
// the result), or nil after reporting what is missing.
func (r *v1Reader) source(ref *v1Ref, reader *v1Func) *Output {
	g, out := r.resolve(ref, reader)
	if out == nil || g == nil {
		return out
	}
	return r.sender(g, out, reader)
}

// sender is the output of g that sends out's value to reader: out, or for
// a foreach output read by a function that does not run per item, out.all.
func (r *v1Reader) sender(g *v1Func, out *Output, reader *v1Func) *Output {
	if reader != nil {
		g.dataTo[reader] = true
	}
	if !out.Foreach || reader != nil && reader.mapOf == g {
		return out
	}
	if all := g.all[out.Name]; all != nil {
		return all
	}
	items := int64(max(g.fn.Synthetic.Items, 1))
	size := out.Size * items
	if out.Size > 0 && size/items != out.Size {
		size = math.MaxInt64
	}
	all := &Output{Name: r.outputName(g, out.Name+v1AllSuffix), Size: size, Line: out.Line}
	r.w.setPlace(all, "", r.w.placeOf(out, "", place{}))
	g.fn.Outputs = append(g.fn.Outputs, all)
	g.all[out.Name] = all
	return all
}

func (r *v1Reader) declared(f *v1Func) []string {
	var names []string
	for _, d := range f.outputs {
		names = append(names, d.name)
	}
	return names
}

func (r *v1Reader) inputNames() []string {
	var names []string
	for _, in := range r.w.Inputs {
		names = append(names, in.Name)
	}
	return names
}

func (r *v1Reader) readerName(f *v1Func) string {
	if f == nil {
		return "the result"
	}
	return f.name
}

// send adds a target to out, recording at as where it is written.
func (r *v1Reader) send(out *Output, t Target, at place) {
	r.w.setPlace(out, fmt.Sprintf("to[%d]", len(out.To)), at)
	out.To = append(out.To, t)
}

// input adds an input to f named after name (made a valid input name,
// unique within f). Inputs fed by a function that runs per item are lists.
func (r *v1Reader) input(f *v1Func, name string, at place) *Input {
	base := inputName(name)
	unique := base
	for i := 2; f.fn.Input(unique) != nil; i++ {
		unique = fmt.Sprintf("%s_%d", base, i)
	}
	in := &Input{Name: unique, Line: at.line}
	r.w.setPlace(in, "", at)
	f.fn.Inputs = append(f.fn.Inputs, in)
	return in
}

// inputName makes a v1 name a valid input name: other characters become "_".
func inputName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !isNameChar(c) {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// outputName is name, or name_2, name_3, ... when f already has that output.
func (r *v1Reader) outputName(f *v1Func, name string) string {
	unique := name
	for i := 2; f.fn.Output(unique) != nil; i++ {
		unique = fmt.Sprintf("%s_%d", name, i)
	}
	return unique
}

// controlOutput returns f's control output name, making it on first use.
func (r *v1Reader) controlOutput(f *v1Func, name string, foreach bool, at place) *Output {
	if out := f.control[name]; out != nil {
		return out
	}
	out := &Output{Name: r.outputName(f, name), Foreach: foreach, Line: at.line}
	r.w.setPlace(out, "", at)
	f.fn.Outputs = append(f.fn.Outputs, out)
	f.control[name] = out
	return out
}

// control makes the edges of f's next that data does not already make.
func (r *v1Reader) control(f *v1Func) {
	if f.next.kind == "switch" {
		r.branches(f)
		return
	}
	for _, n := range f.next.nodes {
		g := r.byName[n.name]
		if g == nil || g.fn == nil || f.dataTo[g] && (f.next.kind != "foreach" || r.readsItems(g, f)) {
			continue
		}
		if f.next.kind == "foreach" {
			if g.mapOf != f {
				continue // reported by links
			}
			out := r.controlOutput(f, v1ItemsOut, true, f.next.at)
			in := r.input(g, v1ItemIn, n.at)
			r.send(out, Target{g.name, in.Name}, n.at)
			f.dataTo[g] = true
			continue
		}
		out := r.controlOutput(f, v1NextOut, false, f.next.at)
		in := r.input(g, v1AfterIn+f.name, n.at)
		r.send(out, Target{g.name, in.Name}, n.at)
		f.dataTo[g] = true
	}
}

// lists makes every input fed by a function that runs per item a list
// input: it gathers one value per item.
func (r *v1Reader) lists() {
	for _, f := range r.fns {
		if f.fn == nil || f.mapOf == nil {
			continue
		}
		for _, out := range f.fn.Outputs {
			for _, t := range out.To {
				if g := r.byName[t.Function]; g != nil && g.fn != nil {
					if in := g.fn.Input(t.Input); in != nil {
						in.List = true
					}
				}
			}
		}
	}
}

// readsItems reports whether g reads a foreach output of f.
func (r *v1Reader) readsItems(g, f *v1Func) bool {
	for _, out := range f.fn.Outputs {
		if out.Foreach {
			for _, t := range out.To {
				if t.Function == g.name {
					return true
				}
			}
		}
	}
	return false
}

var v1InputName = regexp.MustCompile(`\bINPUT\.([A-Za-z0-9_]+)`)

// branches makes a switch's branches: condition i chooses node i, whose
// _switch input it signals (END: the result key of the switch).
func (r *v1Reader) branches(v *v1Func) {
	w := r.w
	for i, c := range v.next.conds {
		if i >= len(v.next.nodes) {
			break
		}
		n := v.next.nodes[i]
		b := &Branch{Line: c.at.line}
		w.setPlace(b, "", c.at)
		w.setPlace(b, "when", c.at)
		if c.name == v1Default {
			if i != len(v.next.conds)-1 {
				r.errs.add(c.at, "default must be the last condition: it is taken when no other holds")
			}
		} else {
			b.When = r.condition(v, c)
		}
		var t Target
		switch g := r.byName[n.name]; {
		case n.name == v1End:
			t = Target{ResultFunction, v.name}
			if !r.takeResultOf(v.name, n.at, v) {
				continue
			}
		case g == nil || g.fn == nil:
			continue // reported by links
		default:
			if g.chosen == nil {
				g.chosen = r.input(g, v1SwitchIn, n.at)
			}
			t = Target{g.name, g.chosen.Name}
		}
		route := &Route{Output: "signal", Signal: true, Line: n.at.line}
		w.setPlace(route, "", n.at)
		r.sendRoute(route, t, n.at)
		b.Routes = append(b.Routes, route)
		v.fn.Switch = append(v.fn.Switch, b)
	}
}

func (r *v1Reader) sendRoute(route *Route, t Target, at place) {
	r.w.setPlace(route, fmt.Sprintf("to[%d]", len(route.To)), at)
	route.To = append(route.To, t)
}

// condition translates a v1 condition (INPUT.x → x) and gives v an input x,
// fed by workflow input x, and an output x that passes it on.
func (r *v1Reader) condition(v *v1Func, c v1Name) string {
	e, err := expr.Parse(c.name)
	if err != nil {
		r.errs.add(c.at, "invalid condition %q: %v", c.name, err)
		return ""
	}
	for _, name := range e.Names() {
		x, ok := strings.CutPrefix(name, v1Input+".")
		if !ok || !isWord(x) || strings.Contains(x, "-") {
			r.errs.add(c.at, "condition %q reads %q: conditions read global inputs, written %s.<name> (a name of letters, digits and _)", c.name, name, v1Input)
			return ""
		}
		if v.fn.Output(x) != nil {
			continue
		}
		wi := r.inputs[x]
		if wi == nil {
			wi = &Output{Name: x, Line: c.at.line}
			r.w.setPlace(wi, "", c.at)
			r.w.Inputs = append(r.w.Inputs, wi)
			r.inputs[x] = wi
		}
		in := r.input(v, x, c.at)
		r.send(wi, Target{v.name, in.Name}, c.at)
		out := &Output{Name: in.Name, Line: c.at.line}
		r.w.setPlace(out, "", c.at)
		v.fn.Outputs = append(v.fn.Outputs, out)
	}
	return v1InputName.ReplaceAllString(c.name, "$1")
}

// takeResult claims a result key for one producer, reporting a clash.
func (r *v1Reader) takeResult(key string, at place) bool {
	if first, ok := r.results[key]; ok {
		r.errs.add(at, "result %q is already sent (at %s): result names are unique, and functions that end a path report under their own name", key, describe(first))
		return false
	}
	r.results[key] = at
	return true
}

// takeResultOf is takeResult for a switch, whose branches may all send to its key.
func (r *v1Reader) takeResultOf(key string, at place, v *v1Func) bool {
	for _, b := range v.fn.Switch {
		for _, route := range b.Routes {
			if hasTargetIn(route.To, Target{ResultFunction, key}) {
				return true
			}
		}
	}
	return r.takeResult(key, at)
}

func hasTargetIn(ts []Target, t Target) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func describe(p place) string {
	if p.line > 0 {
		return fmt.Sprintf("line %d, %s", p.line, p.field)
	}
	return p.field
}

// sinks gives each function that ends a path (it sends nothing to other
// functions, whatever its next says) and does not send to the result a
// signal _done to $result.<name>, so that the invocation waits for it.
func (r *v1Reader) sinks() {
	for _, f := range r.fns {
		if f.fn == nil || f.virtual || sendsAnything(f.fn) {
			continue
		}
		if f.mapOf != nil {
			r.errs.add(f.at, "%s runs once per item of %s, so it cannot end a path: give it a next node that gathers its items", f.name, f.mapOf.name)
			continue
		}
		if !r.takeResult(f.name, f.at) {
			continue
		}
		out := r.controlOutput(f, v1DoneOut, false, f.at)
		r.send(out, Target{ResultFunction, f.name}, f.at)
	}
}

// sendsAnything reports whether f sends to any function or to the result.
func sendsAnything(f *Function) bool {
	for _, out := range f.Outputs {
		if len(out.To) > 0 {
			return true
		}
	}
	return false
}

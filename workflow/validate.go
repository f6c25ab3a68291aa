package workflow

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/faasflow/faasflow-go/workflow/expr"
)

// SyntheticRuntime is the runtime of functions without code that only take
// time and emit data of their outputs' sizes (see Synthetic).
const SyntheticRuntime = "synthetic"

// Validate checks the workflow and fills its derived fields (Order, Results,
// Input.Sources and CountFrom, Function.ForeachInput, ForeachFrom, CountTo
// and Reach, and the index behind Function). It returns every problem found
// as Errors, each naming the file, line and field; the derived fields are
// only meaningful when it returns nil. Validate may be called again after a
// change and gives the same result for the same workflow.
//
// The rules are listed in docs/workflow-format.md ("Validation").
func (w *Workflow) Validate() error {
	v := &validator{w: w}
	v.run()
	return v.errs.err()
}

type validator struct {
	w       *Workflow
	errs    errlist
	fnPlace map[*Function]place
	edges   []*edge
	inEdges map[*Input][]*edge
}

// edge is one target of one output or route, resolved.
type edge struct {
	from   string    // producer function, or InputFunction
	fromFn *Function // nil for workflow inputs
	out    *Output   // the output sent; nil for a signal
	route  *Route    // set when a switch branch sends it
	branch int       // index of that branch, -1 when unconditional
	to     Target
	toFn   *Function // nil for a result key
	toIn   *Input    // nil for a result key
	at     place     // where the target is written
	line   int       // the Line of the output or route
}

func (v *validator) run() {
	w := v.w
	w.Results, w.Order = nil, nil
	w.byName = map[string]*Function{}
	if !v.checkNil() {
		return
	}
	v.fnPlace = map[*Function]place{}
	for i, f := range w.Functions {
		f.ForeachInput, f.ForeachFrom, f.CountTo, f.Reach = "", "", nil, nil
		for _, in := range f.Inputs {
			in.Sources, in.CountFrom = nil, ""
		}
		field := "functions." + f.Name
		if f.Name == "" {
			field = fmt.Sprintf("functions[%d]", i)
		}
		v.fnPlace[f] = w.placeOf(f, "", place{w.Source, field, f.Line})
	}
	v.checkWorkflow()
	v.checkFunctions()
	v.collectEdges()
	v.checkSends()
	v.fillSources()
	v.checkSwitches()
	v.checkForeach()
	v.fillReach()
	v.checkCycles()
	v.fillCountTo()
}

// checkNil reports null entries (possible in JSON), which the other checks cannot look into.
func (v *validator) checkNil() bool {
	w := v.w
	ok := true
	null := func(field string) {
		v.errs.add(place{w.Source, field, 0}, "entry is null")
		ok = false
	}
	for i, in := range w.Inputs {
		if in == nil {
			null(fmt.Sprintf("inputs[%d]", i))
		}
	}
	for i, f := range w.Functions {
		if f == nil {
			null(fmt.Sprintf("functions[%d]", i))
			continue
		}
		for j, in := range f.Inputs {
			if in == nil {
				null(fmt.Sprintf("functions[%d].inputs[%d]", i, j))
			}
		}
		for j, out := range f.Outputs {
			if out == nil {
				null(fmt.Sprintf("functions[%d].outputs[%d]", i, j))
			}
		}
		for j, b := range f.Switch {
			if b == nil {
				null(fmt.Sprintf("functions[%d].switch[%d]", i, j))
				continue
			}
			for k, r := range b.Routes {
				if r == nil {
					null(fmt.Sprintf("functions[%d].switch[%d].routes[%d]", i, j, k))
				}
			}
		}
	}
	return ok
}

// Places of elements: where the loader found them, else a path in the model's terms.

func (v *validator) sub(elem any, base place, sub string) place {
	return v.w.placeOf(elem, sub, place{base.file, base.field + "." + sub, base.line})
}

func (v *validator) inputPlace(f *Function, i int, in *Input) place {
	base := v.fnPlace[f]
	return v.w.placeOf(in, "", place{base.file, base.field + ".inputs" + key(in.Name, i), in.Line})
}

// outputPlace is the place of an output of f, or of a workflow input when f is nil.
func (v *validator) outputPlace(f *Function, i int, out *Output) place {
	if f == nil {
		return v.w.placeOf(out, "", place{v.w.Source, "inputs" + key(out.Name, i), out.Line})
	}
	base := v.fnPlace[f]
	return v.w.placeOf(out, "", place{base.file, base.field + ".outputs" + key(out.Name, i), out.Line})
}

func (v *validator) branchPlace(f *Function, i int, b *Branch) place {
	base := v.fnPlace[f]
	return v.w.placeOf(b, "", place{base.file, fmt.Sprintf("%s.switch[%d]", base.field, i), b.Line})
}

func (v *validator) routePlace(f *Function, bi int, b *Branch, ri int, r *Route) place {
	base := v.branchPlace(f, bi, b)
	field := base.field + ".send" + key(r.Output, ri)
	if r.Signal {
		field = base.field + ".signal"
	}
	return v.w.placeOf(r, "", place{base.file, field, r.Line})
}

func (v *validator) targetPlace(owner any, base place, i int) place {
	return v.sub(owner, base, fmt.Sprintf("to[%d]", i))
}

// key is ".name", or "[i]" when the name is empty.
func key(name string, i int) string {
	if name == "" {
		return fmt.Sprintf("[%d]", i)
	}
	return "." + name
}

// at describes a place for a message: "line 12", or its field.
func at(p place) string {
	if p.line > 0 {
		return fmt.Sprintf("line %d", p.line)
	}
	return p.field
}

func (v *validator) functionNames() string {
	names := make([]string, 0, len(v.w.Functions))
	for _, f := range v.w.Functions {
		names = append(names, f.Name)
	}
	return list(names, "none")
}

func inputNames(f *Function) string {
	names := make([]string, 0, len(f.Inputs))
	for _, in := range f.Inputs {
		names = append(names, in.Name)
	}
	return list(names, "none")
}

func outputNames(f *Function) string {
	names := make([]string, 0, len(f.Outputs))
	for _, out := range f.Outputs {
		names = append(names, out.Name)
	}
	return list(names, "none")
}

func (v *validator) checkWorkflow() {
	w := v.w
	np := w.placeOf(w, "name", place{w.Source, "name", 0})
	switch {
	case w.Name == "":
		v.errs.add(np, "the workflow has no name: give it one of %s", wordRule)
	case !isWord(w.Name):
		v.errs.add(np, "invalid workflow name %q: use %s", w.Name, wordRule)
	}
	if w.Timeout < 0 {
		v.errs.add(w.placeOf(w, "timeout", place{w.Source, "timeout", 0}), "timeout is negative")
	}
	seen := map[string]place{}
	for i, in := range w.Inputs {
		p := v.outputPlace(nil, i, in)
		if !validOutputName(in.Name) {
			v.errs.add(p, "invalid workflow input name %q: use %s", in.Name, outputNameRule)
		} else if first, dup := seen[in.Name]; dup {
			v.errs.add(p, "workflow input %q is defined twice (first at %s)", in.Name, at(first))
		} else {
			seen[in.Name] = p
		}
		if in.Size < 0 {
			v.errs.add(v.sub(in, p, "size"), "size must be a non-negative number of bytes (0 = unknown)")
		}
		if in.Foreach {
			v.errs.add(p, "workflow input %q cannot be foreach: it is one value given at invoke; let a function split it with a foreach output", in.Name)
		}
	}
}

func (v *validator) checkFunctions() {
	w := v.w
	for _, f := range w.Functions {
		p := v.fnPlace[f]
		switch {
		case f.Name == "":
			v.errs.add(p, "function has no name")
		case strings.HasPrefix(f.Name, "$"):
			v.errs.add(p, "invalid function name %q: names starting with \"$\" are reserved (%s, %s)", f.Name, InputFunction, ResultFunction)
		case !validFunctionName(f.Name):
			v.errs.add(p, "invalid function name %q: use %s", f.Name, functionNameRule)
		default:
			if first, dup := w.byName[f.Name]; dup {
				v.errs.add(p, "function %q is defined twice (first at %s)", f.Name, at(v.fnPlace[first]))
			} else {
				w.byName[f.Name] = f
			}
		}
		switch f.Runtime {
		case "", "go", "exec", "python":
			if f.Synthetic != nil {
				v.errs.add(v.sub(f, p, "synthetic"), "synthetic is only for runtime %s (a function without code), not runtime %q", SyntheticRuntime, f.Runtime)
			}
		case SyntheticRuntime:
			if f.Synthetic == nil {
				v.errs.add(v.sub(f, p, "runtime"), "runtime synthetic needs a synthetic description (seconds, busy, items)")
			} else if s := f.Synthetic; s.Seconds < 0 || math.IsNaN(s.Seconds) || math.IsInf(s.Seconds, 0) || s.Items < 0 {
				v.errs.add(v.sub(f, p, "synthetic"), "synthetic seconds and items must be non-negative numbers")
			}
			if f.Code != "" {
				v.errs.add(v.sub(f, p, "code"), "a synthetic function has no code: remove code, or use runtime go, python or exec")
			}
		default:
			v.errs.add(v.sub(f, p, "runtime"), "unknown runtime %q: use go (a Go main package), python (a directory with main.py), exec (an executable) or synthetic", f.Runtime)
		}
		if f.CPU < 0 || math.IsNaN(f.CPU) || math.IsInf(f.CPU, 0) {
			v.errs.add(v.sub(f, p, "cpu"), "cpu must be a non-negative number of cores, such as 0.5 (0 = unlimited)")
		}
		if f.MemoryMB < 0 {
			v.errs.add(v.sub(f, p, "memory"), "memory must be a non-negative number of MiB (0 = unlimited)")
		}
		if f.Timeout < 0 {
			v.errs.add(v.sub(f, p, "timeout"), "timeout is negative")
		}
		if f.Retries < 0 {
			v.errs.add(v.sub(f, p, "retries"), "retries must not be negative")
		}
		if f.MaxInstances < 0 {
			v.errs.add(v.sub(f, p, "max_instances"), "max_instances must not be negative (0 = the default, %d)", DefaultMaxInstances)
		}
		seenIn := map[string]place{}
		for i, in := range f.Inputs {
			ip := v.inputPlace(f, i, in)
			if !validInputName(in.Name) {
				v.errs.add(ip, "invalid input name %q: use %s", in.Name, wordRule)
			} else if first, dup := seenIn[in.Name]; dup {
				v.errs.add(ip, "input %q is defined twice (first at %s)", in.Name, at(first))
			} else {
				seenIn[in.Name] = ip
			}
		}
		seenOut := map[string]place{}
		for i, out := range f.Outputs {
			op := v.outputPlace(f, i, out)
			if !validOutputName(out.Name) {
				v.errs.add(op, "invalid output name %q: use %s", out.Name, outputNameRule)
			} else if first, dup := seenOut[out.Name]; dup {
				v.errs.add(op, "output %q is defined twice (first at %s)", out.Name, at(first))
			} else {
				seenOut[out.Name] = op
			}
			if out.Size < 0 {
				v.errs.add(v.sub(out, op, "size"), "size must be a non-negative number of bytes (0 = unknown)")
			}
		}
	}
}

// resolve checks a target and returns what it names; ok is false after an error.
func (v *validator) resolve(t Target, p place) (fn *Function, in *Input, ok bool) {
	switch {
	case t.Function == ResultFunction:
		if !validOutputName(t.Input) {
			v.errs.add(p, "invalid result key %q: use %s", t.Input, outputNameRule)
			return nil, nil, false
		}
		return nil, nil, true
	case t.Function == "":
		v.errs.add(p, "target has no function: write function.input, %s or %s.key", ResultFunction, ResultFunction)
		return nil, nil, false
	}
	fn = v.w.byName[t.Function]
	if fn == nil {
		if strings.HasPrefix(t.Function, "$") {
			v.errs.add(p, "unknown target %q: the only reserved target is %s (the invocation result)", t.String(), ResultFunction)
		} else {
			v.errs.add(p, "unknown function %q in target %q: the functions are %s", t.Function, t.String(), v.functionNames())
		}
		return nil, nil, false
	}
	in = fn.Input(t.Input)
	if in == nil {
		v.errs.add(p, "function %q has no input %q: its inputs are %s", fn.Name, t.Input, inputNames(fn))
		return nil, nil, false
	}
	return fn, in, true
}

// collectEdges resolves every target, in file order: workflow inputs, then
// each function's outputs and its branches.
func (v *validator) collectEdges() {
	w := v.w
	v.inEdges = map[*Input][]*edge{}
	add := func(e *edge) {
		fn, in, ok := v.resolve(e.to, e.at)
		if !ok {
			return
		}
		e.toFn, e.toIn = fn, in
		v.edges = append(v.edges, e)
		if in != nil {
			v.inEdges[in] = append(v.inEdges[in], e)
		}
	}
	for i, out := range w.Inputs {
		base := v.outputPlace(nil, i, out)
		for j, t := range out.To {
			add(&edge{from: InputFunction, out: out, branch: -1, to: t, at: v.targetPlace(out, base, j), line: out.Line})
		}
	}
	for _, f := range w.Functions {
		for i, out := range f.Outputs {
			base := v.outputPlace(f, i, out)
			for j, t := range out.To {
				add(&edge{from: f.Name, fromFn: f, out: out, branch: -1, to: t, at: v.targetPlace(out, base, j), line: out.Line})
			}
		}
		for bi, b := range f.Switch {
			for ri, r := range b.Routes {
				base := v.routePlace(f, bi, b, ri, r)
				var out *Output
				if !r.Signal {
					out = f.Output(r.Output)
				}
				for j, t := range r.To {
					add(&edge{from: f.Name, fromFn: f, out: out, route: r, branch: bi, to: t, at: v.targetPlace(r, base, j), line: r.Line})
				}
			}
		}
	}
}

// checkSends reports a target that one run of a producer would send to
// twice: among its unconditional targets plus those of any one branch.
// The workflow's inputs count as one producer.
func (v *validator) checkSends() {
	type producer struct {
		fn   *Function
		name string
	}
	uncond := map[producer]map[Target]place{}
	branch := map[producer]map[int]map[Target]place{}
	dup := func(e *edge, first place, where string) {
		v.errs.add(e.at, "%s already sends to %s %s (at %s): one run sends to each target at most once", e.from, e.to, where, at(first))
	}
	for _, e := range v.edges {
		if e.branch >= 0 {
			continue
		}
		p := producer{e.fromFn, e.from}
		if uncond[p] == nil {
			uncond[p] = map[Target]place{}
		}
		if first, ok := uncond[p][e.to]; ok {
			dup(e, first, "unconditionally")
			continue
		}
		uncond[p][e.to] = e.at
	}
	for _, e := range v.edges {
		if e.branch < 0 {
			continue
		}
		p := producer{e.fromFn, e.from}
		if first, ok := uncond[p][e.to]; ok {
			dup(e, first, "unconditionally")
			continue
		}
		if branch[p] == nil {
			branch[p] = map[int]map[Target]place{}
		}
		if branch[p][e.branch] == nil {
			branch[p][e.branch] = map[Target]place{}
		}
		if first, ok := branch[p][e.branch][e.to]; ok {
			dup(e, first, "in this branch")
			continue
		}
		branch[p][e.branch][e.to] = e.at
	}
}

// fillSources fills Input.Sources and Workflow.Results, and reports inputs nothing sends to.
func (v *validator) fillSources() {
	w := v.w
	sources := map[*Input]map[string]bool{}
	results := map[string]*Input{}
	for _, e := range v.edges {
		in := e.toIn
		if in == nil {
			in = results[e.to.Input]
			if in == nil {
				in = &Input{Name: e.to.Input, Line: e.line}
				results[e.to.Input] = in
				w.Results = append(w.Results, in)
			}
		}
		if sources[in] == nil {
			sources[in] = map[string]bool{}
		}
		sources[in][e.from] = true
	}
	for in, set := range sources {
		in.Sources = make([]string, 0, len(set))
		for name := range set {
			in.Sources = append(in.Sources, name)
		}
		sort.Strings(in.Sources)
	}
	for _, f := range w.Functions {
		for i, in := range f.Inputs {
			if len(in.Sources) == 0 {
				v.errs.add(v.inputPlace(f, i, in), "nothing sends to input %q of %s: make it the target of an output or a workflow input (%s.%s), or remove it", in.Name, f.Name, f.Name, in.Name)
			}
		}
	}
}

func (v *validator) checkSwitches() {
	for _, f := range v.w.Functions {
		for bi, b := range f.Switch {
			bp := v.branchPlace(f, bi, b)
			if b.When == "" {
				if bi != len(f.Switch)-1 {
					v.errs.add(bp, "the default branch (the one without a condition) must be the last branch of %s; there can be only one", f.Name)
				}
			} else {
				wp := v.sub(b, bp, "when")
				e, err := expr.Parse(b.When)
				if err != nil {
					v.errs.add(wp, "invalid condition %q: %v", b.When, err)
				} else {
					for _, name := range e.Names() {
						if f.Output(name) == nil {
							v.errs.add(wp, "condition %q uses %q, which is not an output of %s: its outputs are %s", b.When, name, f.Name, outputNames(f))
						}
					}
				}
			}
			for ri, r := range b.Routes {
				rp := v.routePlace(f, bi, b, ri, r)
				switch {
				case r.Output == "":
					v.errs.add(rp, "route has no output name")
				case r.Signal && !validOutputName(r.Output):
					v.errs.add(rp, "invalid signal name %q: use %s", r.Output, outputNameRule)
				case !r.Signal && f.Output(r.Output) == nil:
					v.errs.add(rp, "branch sends %q, which is not an output of %s: its outputs are %s (a signal sends no data)", r.Output, f.Name, outputNames(f))
				case !r.Signal && f.Output(r.Output).Foreach:
					v.errs.add(rp, "a branch cannot send foreach output %q: send it unconditionally from the output itself", r.Output)
				}
				if len(r.To) == 0 {
					v.errs.add(rp, "route %q has no targets", r.Output)
				}
			}
		}
	}
}

// checkForeach finds the map functions (those that run once per item of a
// foreach output) and checks the rules of foreach outputs and list inputs.
func (v *validator) checkForeach() {
	w := v.w
	feeds := map[*Function][]*edge{}
	for _, e := range v.edges {
		if e.fromFn == nil || e.route != nil || e.out == nil || !e.out.Foreach {
			continue
		}
		switch {
		case e.toFn == nil:
			v.errs.add(e.at, "foreach output %q of %s cannot go to the result: send its items to a function and gather that function's output in a list input", e.out.Name, e.from)
		case e.toIn.List:
			v.errs.add(e.at, "foreach output %q of %s cannot feed list input %q of %s: a list input gathers the outputs of the function that runs per item", e.out.Name, e.from, e.toIn.Name, e.toFn.Name)
		default:
			feeds[e.toFn] = append(feeds[e.toFn], e)
		}
	}
	for _, f := range w.Functions {
		es := feeds[f]
		if len(es) == 0 {
			continue
		}
		var names []string
		inputs := map[*Input]bool{}
		for _, e := range es {
			if !inputs[e.toIn] {
				inputs[e.toIn] = true
				names = append(names, fmt.Sprintf("%s from %s.%s", e.toIn.Name, e.from, e.out.Name))
			}
		}
		if len(inputs) > 1 {
			v.errs.add(v.fnPlace[f], "%s receives foreach items on several inputs (%s): a function runs once per item of only one foreach output", f.Name, strings.Join(names, ", "))
			continue
		}
		in := es[0].toIn
		if all := v.inEdges[in]; len(all) > 1 {
			var others []string
			for _, e := range all {
				if e != es[0] {
					others = append(others, e.from)
				}
			}
			v.errs.add(v.inputPlace(f, indexOf(f, in), in), "input %q of %s receives the items of foreach output %s.%s, so it can have no other source (it also has %s)", in.Name, f.Name, es[0].from, es[0].out.Name, strings.Join(others, ", "))
			continue
		}
		f.ForeachInput, f.ForeachFrom = in.Name, es[0].from
	}
	for _, f := range w.Functions {
		if !f.IsMap() {
			continue
		}
		if len(f.Switch) > 0 {
			v.errs.add(v.fnPlace[f], "%s runs once per item of %s, so it cannot be a switch: branch in a function after the list input that gathers its outputs", f.Name, f.ForeachFrom)
		}
		for i, in := range f.Inputs {
			if in.List {
				v.errs.add(v.inputPlace(f, i, in), "%s runs once per item of %s, so it cannot also gather list input %q: gather in another function", f.Name, f.ForeachFrom, in.Name)
			}
		}
	}
	for _, e := range v.edges {
		if e.fromFn == nil || !e.fromFn.IsMap() || e.route != nil {
			continue
		}
		m := e.fromFn
		switch {
		case e.toFn == nil:
			v.errs.add(e.at, "output %q of %s cannot go to the result: %s runs once per item of %s; gather its values in a list input of another function", e.out.Name, m.Name, m.Name, m.ForeachFrom)
		case !e.toIn.List:
			v.errs.add(e.at, "%s runs once per item of %s, so its output %q can only feed list inputs: make input %q of %s a list", m.Name, m.ForeachFrom, e.out.Name, e.toIn.Name, e.toFn.Name)
		}
	}
	for _, f := range w.Functions {
		for i, in := range f.Inputs {
			if !in.List {
				continue
			}
			es := v.inEdges[in]
			switch {
			case len(es) == 0:
				// reported by fillSources
			case len(es) > 1:
				var from []string
				for _, e := range es {
					from = append(from, e.from)
				}
				v.errs.add(v.inputPlace(f, i, in), "list input %q of %s has %d sources (%s): it must have exactly one, the output of a function that runs per item of a foreach output", in.Name, f.Name, len(es), strings.Join(from, ", "))
			case es[0].fromFn == nil || !es[0].fromFn.IsMap():
				v.errs.add(v.inputPlace(f, i, in), "list input %q of %s gathers one value per item of a foreach output, but %s does not run per item: make the input normal, or feed it from a function that consumes a foreach output", in.Name, f.Name, es[0].from)
			default:
				in.CountFrom = es[0].fromFn.ForeachFrom
			}
		}
	}
}

func indexOf(f *Function, in *Input) int {
	for i, x := range f.Inputs {
		if x == in {
			return i
		}
	}
	return -1
}

// fillReach lists every target each function may send to, in file order, without duplicates.
func (v *validator) fillReach() {
	for _, f := range v.w.Functions {
		seen := map[Target]bool{}
		add := func(ts []Target) {
			for _, t := range ts {
				if !seen[t] {
					seen[t] = true
					f.Reach = append(f.Reach, t)
				}
			}
		}
		for _, out := range f.Outputs {
			add(out.To)
		}
		for _, b := range f.Switch {
			for _, r := range b.Routes {
				add(r.To)
			}
		}
	}
}

// checkCycles reports one cycle in each strongly connected part of the
// function graph, and otherwise fills Order.
func (v *validator) checkCycles() {
	w := v.w
	fns := w.Functions
	index := map[*Function]int{}
	for i, f := range fns {
		index[f] = i
	}
	// next[i] are the functions i sends to, by index, without duplicates.
	next := make([][]int, len(fns))
	for i, f := range fns {
		seen := map[int]bool{}
		for _, t := range f.Reach {
			g := w.byName[t.Function]
			if g == nil || t.Function == ResultFunction {
				continue
			}
			if j := index[g]; !seen[j] {
				seen[j] = true
				next[i] = append(next[i], j)
			}
		}
	}
	comp := components(next)
	cyclic := false
	members := map[int][]int{}
	for i, c := range comp {
		members[c] = append(members[c], i)
	}
	reported := map[int]bool{}
	for i := range fns {
		c := comp[i]
		if reported[c] {
			continue
		}
		selfLoop := false
		for _, j := range next[i] {
			if j == i {
				selfLoop = true
			}
		}
		if len(members[c]) == 1 && !selfLoop {
			continue
		}
		reported[c] = true
		cyclic = true
		path := cycleFrom(i, next, comp)
		names := make([]string, len(path))
		for k, j := range path {
			names[k] = fns[j].Name
		}
		v.errs.add(v.fnPlace[fns[i]], "cycle %s: a workflow is a DAG; remove one of these edges", strings.Join(names, " -> "))
	}
	if cyclic {
		return
	}
	// Kahn's algorithm, always taking the earliest function in file order.
	indeg := make([]int, len(fns))
	for i := range fns {
		for _, j := range next[i] {
			indeg[j]++
		}
	}
	done := make([]bool, len(fns))
	for range fns {
		pick := -1
		for i := range fns {
			if !done[i] && indeg[i] == 0 {
				pick = i
				break
			}
		}
		if pick < 0 {
			break
		}
		done[pick] = true
		w.Order = append(w.Order, fns[pick].Name)
		for _, j := range next[pick] {
			indeg[j]--
		}
	}
}

// components numbers the strongly connected components of a graph (Tarjan).
func components(next [][]int) []int {
	n := len(next)
	comp := make([]int, n)
	idx := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range idx {
		idx[i] = -1
	}
	var stack []int
	counter, ncomp := 0, 0
	var visit func(u int)
	visit = func(u int) {
		idx[u], low[u] = counter, counter
		counter++
		stack = append(stack, u)
		onStack[u] = true
		for _, x := range next[u] {
			if idx[x] < 0 {
				visit(x)
				low[u] = min(low[u], low[x])
			} else if onStack[x] {
				low[u] = min(low[u], idx[x])
			}
		}
		if low[u] == idx[u] {
			for {
				x := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[x] = false
				comp[x] = ncomp
				if x == u {
					break
				}
			}
			ncomp++
		}
	}
	for i := range next {
		if idx[i] < 0 {
			visit(i)
		}
	}
	return comp
}

// cycleFrom returns a shortest cycle through start within its component,
// as a path that starts and ends with start.
func cycleFrom(start int, next [][]int, comp []int) []int {
	prev := map[int]int{start: -1}
	queue := []int{start}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		for _, x := range next[u] {
			if x == start {
				path := []int{start}
				for y := u; y != -1; y = prev[y] {
					path = append(path, y)
				}
				// path is start, u, ..., start reversed: put it in order.
				for a, b := 0, len(path)-1; a < b; a, b = a+1, b-1 {
					path[a], path[b] = path[b], path[a]
				}
				return path
			}
			if _, seen := prev[x]; !seen && comp[x] == comp[start] {
				prev[x] = u
				queue = append(queue, x)
			}
		}
	}
	return []int{start, start}
}

// fillCountTo tells each foreach producer which functions gather the items of its consumers.
func (v *validator) fillCountTo() {
	w := v.w
	for _, f := range w.Functions {
		for _, in := range f.Inputs {
			if !in.List || in.CountFrom == "" {
				continue
			}
			p := w.byName[in.CountFrom]
			if p != nil && !contains(p.CountTo, f.Name) {
				p.CountTo = append(p.CountTo, f.Name)
			}
		}
	}
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

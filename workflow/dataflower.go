package workflow

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DataFlower's workflow format (a <name>.workflow_info.yaml file plus the
// shared templates_info.yaml) maps onto the model as follows:
//
//   - A template with one block becomes a function named after the
//     template; a template with several blocks becomes one function per
//     block, named "<template>/<block>".
//   - global_inputs "$USER.<name>" become workflow inputs.
//   - input_datas of type NORMAL and LIST become normal and list inputs;
//     output_datas of type NORMAL and MERGE become outputs, FOREACH a foreach
//     output. A dest of $USER sends to the result key of the output's name.
//   - SWITCH blocks' conditions become branches in file order; "default"
//     is the default branch. A route named like a declared output sends
//     it; a route named virtual.* (any case) is a signal.
//   - VIRTUAL.CNT, the foreach item count sent from the foreach producer to
//     the merging function, is dropped (the engine derives it), after
//     checking that each LIST input gets it from the right producer.
//   - cpus in templates_info.yaml becomes Function.CPU. Runtime and code are
//     left empty: they are bound at deploy time.

// virtualCount is DataFlower's name for the foreach item count.
const virtualCount = "VIRTUAL.CNT"

// dfUser is DataFlower's name for the caller: global inputs come from it and results go to it.
const dfUser = "$USER"

// ParseDataFlower reads a DataFlower workflow_info.yaml (wfSrc, named
// wfFile in errors) with its templates_info.yaml (tplSrc, tplFile) and
// validates the result. Templates in templates_info.yaml that the workflow
// does not use are ignored. Problems are returned as Errors.
func ParseDataFlower(wfSrc []byte, wfFile string, tplSrc []byte, tplFile string) (*Workflow, error) {
	var errs errlist
	tplRoot, err := parseYAML(tplSrc, tplFile)
	if err != nil {
		errs.errs = append(errs.errs, err.(Errors)...)
	}
	wfRoot, err := parseYAML(wfSrc, wfFile)
	if err != nil {
		errs.errs = append(errs.errs, err.(Errors)...)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	r := &dfReader{
		nodeReader: nodeReader{file: wfFile},
		tplFile:    tplFile,
		w:          &Workflow{Source: wfFile},
		templates:  map[string]*dfTemplate{},
		cntInput:   map[*Function]*Input{},
	}
	infos := r.templatesInfo(tplRoot)
	r.workflow(wfRoot, infos)
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	if err := r.w.Validate(); err != nil {
		return nil, err
	}
	r.checkCounts()
	r.checkMerges()
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	return r.w, nil
}

type dfReader struct {
	nodeReader
	tplFile   string
	w         *Workflow
	templates map[string]*dfTemplate
	// cntInput holds each function's dropped VIRTUAL.CNT input, with its place.
	cntInput map[*Function]*Input
	cntEdges []dfCount
	merges   []dfMerge
}

// dfTemplate is a template of the workflow file: its blocks in order.
type dfTemplate struct {
	keyNode *yaml.Node
	field   string
	blocks  []pair
}

// functionName is the function a block of a template becomes.
func (t *dfTemplate) functionName(template, block string) string {
	if len(t.blocks) == 1 {
		return template
	}
	return template + "/" + block
}

// dfCount is a dropped VIRTUAL.CNT edge.
type dfCount struct {
	from *Function
	to   string // function name
	at   place
}

// dfMerge is an output of type MERGE, which must feed LIST inputs.
type dfMerge struct {
	fn  *Function
	out *Output
}

// dfInfo is an entry of templates_info.yaml.
type dfInfo struct {
	cpus   float64
	cpuAt  place
	blocks []string
}

func (r *dfReader) templatesInfo(root *yaml.Node) map[string]*dfInfo {
	tr := &nodeReader{file: r.tplFile}
	defer func() { r.errs.errs = append(r.errs.errs, tr.errs.errs...) }()
	infos := map[string]*dfInfo{}
	fields, _ := tr.object(root, "", "a mapping with templates", "templates")
	p, ok := fields["templates"]
	if !ok {
		tr.errorf(root, "templates", "templates is missing: list the function templates under it")
		return infos
	}
	if p.value.Kind != yaml.SequenceNode {
		tr.errorf(p.value, "templates", "expected a list of templates, found %s", kindName(p.value))
		return infos
	}
	first := map[string]int{}
	for i, item := range p.value.Content {
		field := fmt.Sprintf("templates[%d]", i)
		tf, _ := tr.object(item, field, "a template: a mapping with image_name, template_name, blocks, cpus and gc",
			"image_name", "template_name", "blocks", "cpus", "gc")
		info := &dfInfo{}
		name := ""
		if np, ok := tf["template_name"]; ok {
			name, _ = tr.scalar(np.value, np.valField, "a template name")
		} else {
			tr.errorf(item, field, "template_name is missing")
		}
		if ip, ok := tf["image_name"]; ok {
			tr.scalar(ip.value, ip.valField, "an image name")
		}
		if bp, ok := tf["blocks"]; ok {
			blocks, _ := tr.mapping(bp.value, bp.valField, "a mapping of block names, such as { block_0 }")
			for _, b := range blocks {
				if !isNull(b.value) {
					tr.errorf(b.value, b.valField, "expected only block names, as in { block_0 }, found %s", kindName(b.value))
				}
				info.blocks = append(info.blocks, b.key)
			}
		} else {
			tr.errorf(item, field, "blocks is missing: list the template's blocks, as in { block_0 }")
		}
		if cp, ok := tf["cpus"]; ok {
			info.cpus, _ = tr.number(cp.value, cp.valField, "a number of cores such as 0.5")
			info.cpuAt = place{r.tplFile, cp.valField, cp.keyNode.Line}
		}
		if gp, ok := tf["gc"]; ok {
			tr.boolean(gp.value, gp.valField)
		}
		if name == "" {
			continue
		}
		if line, dup := first[name]; dup {
			tr.errorf(item, field, "template %q is listed twice (first at line %d)", name, line)
			continue
		}
		first[name] = item.Line
		infos[name] = info
	}
	return infos
}

func (r *dfReader) workflow(root *yaml.Node, infos map[string]*dfInfo) {
	w := r.w
	fields, _ := r.object(root, "", "a mapping with workflow_name, global_inputs and templates", "workflow_name", "global_inputs", "templates")
	w.setPlace(w, "name", place{r.file, "workflow_name", root.Line})
	if p, ok := fields["workflow_name"]; ok {
		w.Name, _ = r.scalar(p.value, p.valField, "the workflow's name")
		w.setPlace(w, "name", place{r.file, p.valField, p.keyNode.Line})
	}
	// First the templates and their blocks, so that targets can name templates defined later.
	var order []string
	if p, ok := fields["templates"]; ok {
		tpls, _ := r.mapping(p.value, p.valField, "a mapping from template names to templates")
		for _, tp := range tpls {
			tf, _ := r.object(tp.value, tp.valField, "a template: a mapping with blocks", "blocks")
			t := &dfTemplate{keyNode: tp.keyNode, field: tp.valField}
			if bp, ok := tf["blocks"]; ok {
				t.blocks, _ = r.mapping(bp.value, bp.valField, "a mapping from block names to blocks")
			}
			if len(t.blocks) == 0 {
				r.errorf(tp.keyNode, tp.valField, "template %q has no blocks: add blocks: {block_0: {...}}", tp.key)
			}
			r.templates[tp.key] = t
			order = append(order, tp.key)
		}
	}
	if p, ok := fields["global_inputs"]; ok {
		ins, _ := r.mapping(p.value, p.valField, "a mapping from $USER.<name> to inputs")
		for _, ip := range ins {
			name, ok := strings.CutPrefix(ip.key, dfUser+".")
			if !ok || name == "" {
				r.errorf(ip.keyNode, ip.valField, "global input %q must be named %s.<name>", ip.key, dfUser)
				continue
			}
			out := &Output{Name: name, Line: ip.keyNode.Line}
			w.setPlace(out, "", place{r.file, ip.valField, ip.keyNode.Line})
			r.outputData(out, ip, false)
			w.Inputs = append(w.Inputs, out)
		}
	}
	for _, name := range order {
		t := r.templates[name]
		info := infos[name]
		if info == nil {
			r.errorf(t.keyNode, t.field, "template %q is not in %s: add an entry with template_name: %s, its blocks and cpus", name, r.tplFile, name)
		}
		for _, bp := range t.blocks {
			f := r.block(t.functionName(name, bp.key), bp)
			if info != nil {
				if !contains(info.blocks, bp.key) {
					r.errorf(bp.keyNode, bp.valField, "block %q of template %q is not among its blocks in %s (%s)", bp.key, name, r.tplFile, list(info.blocks, "none"))
				}
				f.CPU = info.cpus
				if info.cpuAt.line > 0 {
					w.setPlace(f, "cpu", info.cpuAt)
				}
			}
			w.Functions = append(w.Functions, f)
		}
	}
}

func (r *dfReader) block(name string, p pair) *Function {
	w := r.w
	f := &Function{Name: name, Line: p.keyNode.Line}
	w.setPlace(f, "", place{r.file, p.valField, p.keyNode.Line})
	fields, _ := r.object(p.value, p.valField, "a block: a mapping with type, input_datas, output_datas and conditions",
		"type", "input_datas", "output_datas", "conditions")
	kind := "NORMAL"
	if tp, ok := fields["type"]; ok {
		kind, _ = r.scalar(tp.value, tp.valField, "NORMAL or SWITCH")
		if kind != "NORMAL" && kind != "SWITCH" {
			r.errorf(tp.value, tp.valField, "unknown block type %q: use NORMAL or SWITCH", kind)
		}
	}
	if ip, ok := fields["input_datas"]; ok {
		ins, _ := r.mapping(ip.value, ip.valField, "a mapping from input names to {type: NORMAL or LIST}")
		for _, in := range ins {
			r.inputData(f, in)
		}
	}
	if op, ok := fields["output_datas"]; ok {
		outs, _ := r.mapping(op.value, op.valField, "a mapping from output names to {type, dest}")
		for _, o := range outs {
			out := &Output{Name: o.key, Line: o.keyNode.Line}
			w.setPlace(out, "", place{r.file, o.valField, o.keyNode.Line})
			kind := r.outputData(out, o, strings.EqualFold(o.key, virtualCount))
			if strings.EqualFold(o.key, virtualCount) {
				for j, t := range out.To {
					r.cntEdges = append(r.cntEdges, dfCount{from: f, to: t.Function, at: w.placeOf(out, fmt.Sprintf("to[%d]", j), place{})})
				}
				continue
			}
			if kind == "MERGE" {
				r.merges = append(r.merges, dfMerge{fn: f, out: out})
			}
			f.Outputs = append(f.Outputs, out)
		}
	}
	cp, hasConditions := fields["conditions"]
	switch {
	case kind == "SWITCH" && !hasConditions:
		r.errorf(p.keyNode, p.valField, "a SWITCH block needs conditions")
	case kind != "SWITCH" && hasConditions:
		r.errorf(cp.keyNode, cp.valField, "conditions are only for blocks of type: SWITCH")
	case hasConditions:
		r.conditions(f, cp)
	}
	return f
}

func (r *dfReader) inputData(f *Function, p pair) {
	in := &Input{Name: p.key, Line: p.keyNode.Line}
	r.w.setPlace(in, "", place{r.file, p.valField, p.keyNode.Line})
	fields, _ := r.object(p.value, p.valField, "{type: NORMAL or LIST}", "type")
	tp, ok := fields["type"]
	if !ok {
		r.errorf(p.keyNode, p.valField, "input %q has no type: write {type: NORMAL} or {type: LIST}", p.key)
	} else {
		switch kind, _ := r.scalar(tp.value, tp.valField, "NORMAL or LIST"); kind {
		case "NORMAL":
		case "LIST":
			in.List = true
		case "":
		default:
			r.errorf(tp.value, tp.valField, "unknown input type %q: use NORMAL or LIST", kind)
		}
	}
	if strings.EqualFold(p.key, virtualCount) {
		if in.List {
			r.errorf(p.keyNode, p.valField, "%s must be {type: NORMAL}", virtualCount)
		}
		r.cntInput[f] = in
		return
	}
	f.Inputs = append(f.Inputs, in)
}

// outputData reads {type, dest} into out and returns the type. count says
// the output is VIRTUAL.CNT, which may only go to VIRTUAL.CNT inputs.
func (r *dfReader) outputData(out *Output, p pair, count bool) string {
	fields, _ := r.object(p.value, p.valField, "{type, dest}", "type", "dest")
	kind := ""
	if tp, ok := fields["type"]; ok {
		kind, _ = r.scalar(tp.value, tp.valField, "NORMAL, FOREACH or MERGE")
		switch kind {
		case "NORMAL", "MERGE":
		case "FOREACH":
			out.Foreach = true
		case "":
		default:
			r.errorf(tp.value, tp.valField, "unknown output type %q: use NORMAL, FOREACH or MERGE", kind)
		}
		if count && kind != "NORMAL" {
			r.errorf(tp.value, tp.valField, "%s must be {type: NORMAL}", virtualCount)
		}
	} else {
		r.errorf(p.keyNode, p.valField, "%q has no type: write {type: NORMAL} (or FOREACH or MERGE)", p.key)
	}
	if dp, ok := fields["dest"]; ok {
		out.To = r.dest(out, dp.value, dp.valField, out.Name, count)
	}
	return kind
}

// dest reads a destination: $USER, or {template: {block: {input}}} entries
// and $USER keys. owner (an *Output or *Route) gets each target's place;
// resultKey is the result key $USER stands for.
func (r *dfReader) dest(owner any, n *yaml.Node, field, resultKey string, count bool) []Target {
	var ts []Target
	add := func(t Target, at place) {
		r.w.setPlace(owner, fmt.Sprintf("to[%d]", len(ts)), at)
		ts = append(ts, t)
	}
	user := func(n *yaml.Node, field string) {
		if count {
			r.errorf(n, field, "%s cannot go to %s: send it to the function with the LIST input", virtualCount, dfUser)
			return
		}
		add(Target{Function: ResultFunction, Input: resultKey}, place{r.file, field, n.Line})
	}
	if n.Kind == yaml.ScalarNode && n.Value == dfUser {
		user(n, field)
		return ts
	}
	tpls, _ := r.mapping(n, field, "a destination: $USER, or {template: {block: {input}}}")
	for _, tp := range tpls {
		if tp.key == dfUser {
			if !isNull(tp.value) {
				r.errorf(tp.value, tp.valField, "expected { %s }, found %s after it", dfUser, kindName(tp.value))
				continue
			}
			user(tp.keyNode, tp.valField)
			continue
		}
		t := r.templates[tp.key]
		if t == nil {
			r.errorf(tp.keyNode, tp.valField, "unknown template %q: the templates are %s", tp.key, list(r.templateNames(), "none"))
			continue
		}
		blocks, _ := r.mapping(tp.value, tp.valField, "a mapping from block names to { input }")
		for _, bp := range blocks {
			if !hasBlock(t, bp.key) {
				r.errorf(bp.keyNode, bp.valField, "template %q has no block %q: its blocks are %s", tp.key, bp.key, list(blockNames(t), "none"))
				continue
			}
			ins, _ := r.mapping(bp.value, bp.valField, "the inputs it goes to, as in { input }")
			for _, ip := range ins {
				if !isNull(ip.value) {
					r.errorf(ip.value, ip.valField, "expected only input names, as in { %s }, found %s", ip.key, kindName(ip.value))
					continue
				}
				isCount := strings.EqualFold(ip.key, virtualCount)
				switch {
				case count && !isCount:
					r.errorf(ip.keyNode, ip.valField, "%s must go to a %s input, not to %q", virtualCount, virtualCount, ip.key)
					continue
				case !count && isCount:
					r.errorf(ip.keyNode, ip.valField, "only the %s output may go to a %s input", virtualCount, virtualCount)
					continue
				}
				add(Target{Function: t.functionName(tp.key, bp.key), Input: ip.key}, place{r.file, ip.valField, ip.keyNode.Line})
			}
		}
	}
	return ts
}

func hasBlock(t *dfTemplate, name string) bool {
	for _, b := range t.blocks {
		if b.key == name {
			return true
		}
	}
	return false
}

func blockNames(t *dfTemplate) []string {
	var names []string
	for _, b := range t.blocks {
		names = append(names, b.key)
	}
	return names
}

func (r *dfReader) templateNames() []string {
	var names []string
	for name := range r.templates {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// conditions reads a SWITCH block's conditions, keeping their order.
func (r *dfReader) conditions(f *Function, p pair) {
	conds, _ := r.mapping(p.value, p.valField, "a mapping from conditions (or default) to routes")
	for _, cp := range conds {
		b := &Branch{Line: cp.keyNode.Line}
		if cp.key != "default" {
			b.When = cp.key
			if strings.TrimSpace(cp.key) == "" {
				r.errorf(cp.keyNode, cp.valField, "empty condition: write one such as `ok==True`, or default")
			}
		}
		at := place{r.file, cp.valField, cp.keyNode.Line}
		r.w.setPlace(b, "", at)
		r.w.setPlace(b, "when", at)
		routes, _ := r.mapping(cp.value, cp.valField, "a mapping from output names to destinations")
		for _, rp := range routes {
			route := &Route{Output: rp.key, Line: rp.keyNode.Line}
			r.w.setPlace(route, "", place{r.file, rp.valField, rp.keyNode.Line})
			if f.Output(rp.key) == nil {
				if !strings.HasPrefix(strings.ToLower(rp.key), "virtual.") {
					r.errorf(rp.keyNode, rp.valField, "%q is neither an output of this block (%s) nor a signal (a name starting with virtual.)", rp.key, outputNames(f))
					continue
				}
				route.Signal = true
			}
			route.To = r.dest(route, rp.value, rp.valField, rp.key, false)
			b.Routes = append(b.Routes, route)
		}
		f.Switch = append(f.Switch, b)
	}
}

// checkCounts checks, after Validate, that every LIST input gets its item
// count (VIRTUAL.CNT) from the foreach producer whose items it gathers, as
// DataFlower requires, and that no count goes elsewhere.
func (r *dfReader) checkCounts() {
	w := r.w
	inPlace := func(f *Function, in *Input) place {
		return w.placeOf(in, "", place{r.file, "", in.Line})
	}
	sent := map[string]map[string]bool{} // to -> from -> sent
	for _, e := range r.cntEdges {
		if sent[e.to] == nil {
			sent[e.to] = map[string]bool{}
		}
		sent[e.to][e.from.Name] = true
		g := w.Function(e.to)
		if g == nil {
			continue
		}
		if r.cntInput[g] == nil {
			r.errs.add(e.at, "%s has no %s input: add `%s: {type: NORMAL}` to its input_datas", g.Name, virtualCount, virtualCount)
			continue
		}
		var counted []string
		for _, in := range g.Inputs {
			if in.List && !contains(counted, in.CountFrom) {
				counted = append(counted, in.CountFrom)
			}
		}
		if !contains(counted, e.from.Name) {
			if len(counted) == 0 {
				r.errs.add(e.at, "%s sends %s to %s, which has no LIST input to count", e.from.Name, virtualCount, g.Name)
			} else {
				r.errs.add(e.at, "%s sends %s to %s, but the LIST inputs of %s gather the items of %s: only it sends the count", e.from.Name, virtualCount, g.Name, g.Name, list(counted, ""))
			}
		}
	}
	for _, g := range w.Functions {
		cnt := r.cntInput[g]
		hasList := false
		for _, in := range g.Inputs {
			if !in.List {
				continue
			}
			hasList = true
			switch {
			case cnt == nil:
				r.errs.add(inPlace(g, in), "merge input %s of %s has no count: add `%s: {type: NORMAL}` to its input_datas and send it from the foreach producer (%s)", in.Name, g.Name, virtualCount, in.CountFrom)
			case !sent[g.Name][in.CountFrom]:
				r.errs.add(inPlace(g, cnt), "%s of %s must be sent by %s, whose foreach items feed its LIST input %s: add `%s: {type: NORMAL, dest: ...}` to the output_datas of %s", virtualCount, g.Name, in.CountFrom, in.Name, virtualCount, in.CountFrom)
			}
		}
		if cnt != nil && !hasList && len(sent[g.Name]) == 0 {
			r.errs.add(inPlace(g, cnt), "nothing sends %s to %s, which has no LIST input to count: remove the input", virtualCount, g.Name)
		}
	}
}

// checkMerges checks that MERGE outputs go to LIST inputs.
func (r *dfReader) checkMerges() {
	w := r.w
	for _, m := range r.merges {
		for j, t := range m.out.To {
			at := w.placeOf(m.out, fmt.Sprintf("to[%d]", j), place{r.file, "", m.out.Line})
			if t.Function == ResultFunction {
				r.errs.add(at, "MERGE output %s of %s cannot go to %s: send it to a LIST input", m.out.Name, m.fn.Name, dfUser)
				continue
			}
			if g := w.Function(t.Function); g != nil {
				if in := g.Input(t.Input); in != nil && !in.List {
					r.errs.add(at, "MERGE output %s of %s goes to input %s of %s, which is not a LIST input: make it {type: LIST}, or the output NORMAL", m.out.Name, m.fn.Name, in.Name, g.Name)
				}
			}
		}
	}
}

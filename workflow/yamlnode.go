package workflow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// nodeReader walks a parsed YAML file, collecting problems with their lines
// and field paths. Both loaders use it.
type nodeReader struct {
	file string
	errs errlist
}

func (r *nodeReader) errorf(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	r.errs.add(place{r.file, field, line}, format, args...)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses a single YAML document and returns its root node. Syntax
// errors, empty files, several documents and aliases are reported as Errors.
func parseYAML(src []byte, file string) (*yaml.Node, error) {
	root, err := parseDocument(src, file)
	if err != nil {
		return nil, err
	}
	r := &nodeReader{file: file}
	r.noAliases(root, 0)
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	return root, nil
}

// parseDocument parses a file that must hold exactly one YAML document and
// returns the document's root node, aliases untouched.
func parseDocument(src []byte, file string) (root *yaml.Node, err error) {
	defer func() {
		// The YAML library should not panic, but a loader must never take
		// down the process reading a hostile file.
		if p := recover(); p != nil {
			root, err = nil, Errors{{File: file, Msg: fmt.Sprintf("cannot parse YAML: %v", p)}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Errors{{File: file, Msg: "the file is empty"}}
		}
		return nil, Errors{yamlError(file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{File: file, Line: extra.Line, Msg: "the file has more than one YAML document: keep one (remove the \"---\")"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, Errors{yamlError(file, err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, Errors{{File: file, Msg: "the file is empty"}}
	}
	return doc.Content[0], nil
}

// yamlError turns a YAML library error into an *Error with its line.
func yamlError(file string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}

// noAliases rejects aliases: the format has no use for them, and expanding
// them is how small hostile files become huge.
func (r *nodeReader) noAliases(n *yaml.Node, depth int) {
	if depth > 1000 {
		r.errorf(n, "", "the file is nested too deeply")
		return
	}
	if n.Kind == yaml.AliasNode {
		r.errorf(n, "", "aliases (*%s) are not supported: write the value out", n.Value)
		return
	}
	for _, c := range n.Content {
		r.noAliases(c, depth+1)
	}
}

// pair is one key: value entry of a mapping, in file order.
type pair struct {
	key      string
	keyNode  *yaml.Node
	value    *yaml.Node
	valField string // field path of the value
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case isNull(n):
		return "null"
	case n.Kind == yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// join appends a key to a field path.
func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// mapping returns the entries of a mapping node in file order, reporting a
// node of another kind and duplicate keys. A null node is an empty mapping.
func (r *nodeReader) mapping(n *yaml.Node, field, want string) ([]pair, bool) {
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		r.errorf(n, field, "expected %s, found %s", want, kindName(n))
		return nil, false
	}
	var pairs []pair
	seen := map[string]int{}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.errorf(k, field, "keys must be plain names, found %s", kindName(k))
			ok = false
			continue
		}
		if first, dup := seen[k.Value]; dup {
			r.errorf(k, join(field, k.Value), "key %q is defined twice (first at line %d)", k.Value, first)
			ok = false
			continue
		}
		seen[k.Value] = k.Line
		pairs = append(pairs, pair{key: k.Value, keyNode: k, value: v, valField: join(field, k.Value)})
	}
	return pairs, ok
}

// object reads a mapping with a fixed set of fields, reporting unknown ones.
func (r *nodeReader) object(n *yaml.Node, field, want string, allowed ...string) (map[string]pair, bool) {
	pairs, ok := r.mapping(n, field, want)
	fields := map[string]pair{}
	for _, p := range pairs {
		if !contains(allowed, p.key) {
			sorted := append([]string(nil), allowed...)
			sort.Strings(sorted)
			r.errorf(p.keyNode, p.valField, "unknown field %q: the fields here are %s", p.key, strings.Join(sorted, ", "))
			ok = false
			continue
		}
		fields[p.key] = p
	}
	return fields, ok
}

// scalar returns the text of a scalar node.
func (r *nodeReader) scalar(n *yaml.Node, field, want string) (string, bool) {
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		r.errorf(n, field, "expected %s, found %s", want, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (r *nodeReader) boolean(n *yaml.Node, field string) (bool, bool) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		r.errorf(n, field, "expected true or false, found %s", kindName(n))
		return false, false
	}
	return b, true
}

func (r *nodeReader) number(n *yaml.Node, field, want string) (float64, bool) {
	var f float64
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || tag != "!!int" && tag != "!!float" || n.Decode(&f) != nil {
		r.errorf(n, field, "expected %s, found %s", want, kindName(n))
		return 0, false
	}
	return f, true
}

func (r *nodeReader) integer(n *yaml.Node, field, want string) (int, bool) {
	var i int
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		r.errorf(n, field, "expected %s, found %s", want, kindName(n))
		return 0, false
	}
	return i, true
}

func (r *nodeReader) duration(n *yaml.Node, field string) (Duration, bool) {
	s, ok := r.scalar(n, field, `a duration such as "30s", "5m" or a number of seconds`)
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(s)
	if err != nil {
		r.errorf(n, field, "%v", err)
		return 0, false
	}
	return d, true
}

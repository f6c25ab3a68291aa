package workflow

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a workflow, located in the file it came from.
type Error struct {
	// File is the file the problem is in ("" when unknown).
	File string
	// Line is the 1-based line in File (0 when unknown).
	Line int
	// Field is the path of the field in that file, such as
	// functions.count.outputs.res.to[0] ("" for the file as a whole).
	Field string
	// Msg says what is wrong and what would be valid.
	Msg string
}

// Error formats the problem as "file:line: field: msg", leaving out the parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a workflow, in file and line order. The
// loaders and Validate return it as their error.
type Errors []*Error

// Error writes one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// place is where an element of a workflow is written: file, field path and line.
type place struct {
	file  string
	field string
	line  int
}

// srcKey names an element of a workflow (*Workflow, *Function, *Input,
// *Output, *Branch or *Route) when sub is "", or a part of it: a field such
// as "cpu" or "when", or "to[i]" for its i-th target.
type srcKey struct {
	elem any
	sub  string
}

// setPlace records where a loader found an element, so that Validate's
// errors point into the file with the file's own field names.
func (w *Workflow) setPlace(elem any, sub string, p place) {
	if w.where == nil {
		w.where = map[srcKey]place{}
	}
	w.where[srcKey{elem, sub}] = p
}

// placeOf returns where elem (or its part sub) was loaded from, or def.
func (w *Workflow) placeOf(elem any, sub string, def place) place {
	if p, ok := w.where[srcKey{elem, sub}]; ok {
		return p
	}
	return def
}

// errlist collects problems.
type errlist struct {
	errs Errors
}

func (l *errlist) add(p place, format string, args ...any) {
	l.errs = append(l.errs, &Error{File: p.file, Line: p.line, Field: p.field, Msg: fmt.Sprintf(format, args...)})
}

// err returns the problems sorted by file and line, or nil when there are none.
func (l *errlist) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i], l.errs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return l.errs
}

// list formats names for messages: "a, b, c", or none.
func list(names []string, none string) string {
	if len(names) == 0 {
		return none
	}
	return strings.Join(names, ", ")
}

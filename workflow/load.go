package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DataFlowerSuffix ends the name of a DataFlower workflow file; its
// templates are in DataFlowerTemplates in the same directory.
const (
	DataFlowerSuffix    = ".workflow_info.yaml"
	DataFlowerTemplates = "templates_info.yaml"
)

// LoadFile reads and validates a workflow file. A directory means its
// workflow.yaml; a file named *.workflow_info.yaml is read as DataFlower's
// format with the templates_info.yaml beside it; a file named
// *.flat_workflow.yaml as FaaSFlow v1's format; anything else is the native
// format.
func LoadFile(path string) (*Workflow, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "workflow.yaml")
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read workflow: %w", err)
	}
	if strings.HasSuffix(filepath.Base(path), FlatV1Suffix) {
		return ParseFlatV1(src, path)
	}
	if !strings.HasSuffix(filepath.Base(path), DataFlowerSuffix) {
		return ParseNative(src, path)
	}
	tplPath := filepath.Join(filepath.Dir(path), DataFlowerTemplates)
	tpl, err := os.ReadFile(tplPath)
	if err != nil {
		return nil, fmt.Errorf("read DataFlower templates for %s (expected beside it): %w", path, err)
	}
	return ParseDataFlower(src, path, tpl, tplPath)
}

// Decode reads a workflow from JSON, as json.Marshal writes a *Workflow,
// and validates it. Gateway and workers receive workflows this way.
// Unknown fields are errors.
func Decode(b []byte) (*Workflow, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w Workflow
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("decode workflow JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("decode workflow JSON: unexpected data after the workflow")
	}
	if err := w.Validate(); err != nil {
		return nil, err
	}
	return &w, nil
}

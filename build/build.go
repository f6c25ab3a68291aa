// Package build turns a workflow's function code into executables (Go
// functions are compiled with the go tool) and names each by its sha256,
// which is how the gateway and workers store and fetch them.
package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/faasflow/faasflow-go/workflow"
)

// Artifact is a built executable.
type Artifact struct {
	Path   string
	SHA256 string
}

// Workflow builds every Go function of wf into dir, once per code
// directory, and sets each function's Artifact. It returns the artifacts
// by sha256. Functions of other runtimes are left alone.
func Workflow(ctx context.Context, wf *workflow.Workflow, dir string) (map[string]Artifact, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create build directory: %w", err)
	}
	byCode := map[string]Artifact{}
	out := map[string]Artifact{}
	for _, f := range wf.Functions {
		var pack func() (Artifact, error)
		switch f.Runtime {
		case "go", "":
			pack = func() (Artifact, error) { return Go(ctx, f.Code, dir) }
		case "python":
			pack = func() (Artifact, error) { return Python(f.Code, dir) }
		default:
			continue
		}
		if f.Code == "" {
			return nil, fmt.Errorf("function %s has no code: add `code: ./dir` to it in the workflow file (a Go main package calling fn.Run, or with runtime: python a main.py calling faasflow.run)", f.Name)
		}
		a, ok := byCode[f.Runtime+":"+f.Code]
		if !ok {
			var err error
			if a, err = pack(); err != nil {
				return nil, fmt.Errorf("function %s: %w", f.Name, err)
			}
			byCode[f.Runtime+":"+f.Code] = a
		}
		if f.Runtime == "" {
			f.Runtime = "go"
		}
		f.Artifact = a.SHA256
		out[a.SHA256] = a
	}
	return out, nil
}

// Go compiles the main package in codeDir into a static executable in dir,
// named by its sha256.
func Go(ctx context.Context, codeDir, dir string) (Artifact, error) {
	tmp, err := os.CreateTemp(dir, "build-*")
	if err != nil {
		return Artifact{}, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", tmp.Name(), ".")
	cmd.Dir = codeDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Artifact{}, fmt.Errorf("go build in %s: %w\n%s", codeDir, err, strings.TrimSpace(string(out)))
	}
	return store(tmp.Name(), dir)
}

// store moves a built file into dir under its sha256.
func store(tmp, dir string) (Artifact, error) {
	sum, err := fileSHA256(tmp)
	if err != nil {
		return Artifact{}, err
	}
	path := filepath.Join(dir, sum)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Artifact{}, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return Artifact{}, err
	}
	return Artifact{Path: path, SHA256: sum}, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

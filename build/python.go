package build

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/faasflow/faasflow-go/fn/python"
)

// pyMain runs the function's main module as a program.
const pyMain = "import runpy\nrunpy.run_module('main', run_name='__main__')\n"

// Python packs the Python function in codeDir (a main.py calling
// faasflow.run, and any other files beside it) with the faasflow SDK into
// one executable zip application in dir, named by its sha256. The same
// sources always give the same bytes.
func Python(codeDir, dir string) (Artifact, error) {
	if _, err := os.Stat(filepath.Join(codeDir, "main.py")); err != nil {
		return Artifact{}, fmt.Errorf("python function in %s has no main.py: write one that calls faasflow.run(handler)", codeDir)
	}
	files := map[string][]byte{"__main__.py": []byte(pyMain)}
	err := fs.WalkDir(python.SDK, "faasflow", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files[path], err = fs.ReadFile(python.SDK, path)
		return err
	})
	if err != nil {
		return Artifact{}, err
	}
	err = filepath.WalkDir(codeDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && (name == "__pycache__" || strings.HasPrefix(name, ".")) && path != codeDir {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(name, ".pyc") {
			return nil
		}
		rel, err := filepath.Rel(codeDir, path)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		return Artifact{}, fmt.Errorf("read python function in %s: %w", codeDir, err)
	}

	var buf bytes.Buffer
	const shebang = "#!/usr/bin/env python3\n"
	buf.WriteString(shebang)
	zw := zip.NewWriter(&buf)
	zw.SetOffset(int64(len(shebang)))
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return Artifact{}, err
		}
		if _, err := w.Write(files[name]); err != nil {
			return Artifact{}, err
		}
	}
	if err := zw.Close(); err != nil {
		return Artifact{}, err
	}
	tmp, err := os.CreateTemp(dir, "pyz-*")
	if err != nil {
		return Artifact{}, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return Artifact{}, err
	}
	if err := tmp.Close(); err != nil {
		return Artifact{}, err
	}
	return store(tmp.Name(), dir)
}

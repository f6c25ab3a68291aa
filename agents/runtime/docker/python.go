package docker

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/image"

	"github.com/faasflow/faasflow-go/agents/runtime"
)

// Python functions run on a base image made from this host's interpreter:
// the interpreter, the shared libraries it and its extension modules load
// (as ldd lists them) and its standard library, imported as one layer and
// tagged after the paths, sizes and times of those files. The function's
// image adds its zip application.

// pythonRepo is the repository of the Python base images.
const pythonRepo = "faasflow-python"

// stdlibSkip are directories of the standard library a function does not
// need (tests, GUI, installers, third-party packages, the static library).
var stdlibSkip = []string{"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "site-packages", "dist-packages"}

// pythonImage returns the image of a Python function and its command.
func (b *Backend) pythonImage(ctx context.Context, spec runtime.Spec) (string, []string, error) {
	if len(spec.Args) == 0 {
		return "", nil, fmt.Errorf("docker runtime: Python function %s has no zip application", spec.Function)
	}
	base, err := b.pythonBase(ctx, spec.Executable)
	if err != nil {
		return "", nil, fmt.Errorf("docker runtime: Python function %s: %w (the docker runtime runs Go functions without it; the process runtime runs Python ones)", spec.Function, err)
	}
	app := spec.Args[0]
	appSum, err := b.fileSHA256(app)
	if err != nil {
		return "", nil, fmt.Errorf("docker runtime: Python function %s: %w", spec.Function, err)
	}
	h := sha256.Sum256([]byte(base.ref + "\n" + appSum))
	ref := imageRepo + ":" + hex.EncodeToString(h[:])
	err = b.ensureImage(ctx, ref, func() error {
		entry, _ := json.Marshal([]string{base.interpreter, "/app.pyz"})
		dockerfile := fmt.Sprintf("FROM %s\nCOPY app.pyz /app.pyz\nENTRYPOINT %s\n", base.ref, entry)
		return b.buildImage(ctx, ref, "function", dockerfile, map[string]string{"app.pyz": app})
	})
	if err != nil {
		return "", nil, fmt.Errorf("docker runtime: image of %s: %w", spec.Function, err)
	}
	return ref, spec.Args[1:], nil
}

// pythonBaseImage is a base image and the interpreter's path in it.
type pythonBaseImage struct {
	ref, interpreter string
}

// pythonBase returns the base image for interpreter, making it if needed.
func (b *Backend) pythonBase(ctx context.Context, interpreter string) (pythonBaseImage, error) {
	if interpreter == "" {
		return pythonBaseImage{}, fmt.Errorf("no Python interpreter: install python3 or set the worker's --python")
	}
	// A virtual environment's interpreter is a link to the system's; the
	// image holds the system interpreter and its standard library (not the
	// environment's packages), under the system path.
	if real, err := filepath.EvalSymlinks(interpreter); err == nil {
		interpreter = real
	}
	b.mu.Lock()
	base, ok := b.pyBases[interpreter]
	b.mu.Unlock()
	if ok {
		return base, nil
	}
	files, err := pythonFiles(ctx, interpreter)
	if err != nil {
		return pythonBaseImage{}, err
	}
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00%s\n", f.path, f.src, f.size, f.mtime.UnixNano(), f.link)
	}
	base = pythonBaseImage{ref: pythonRepo + ":" + hex.EncodeToString(h.Sum(nil)), interpreter: interpreter}
	var libDirs []string
	for _, f := range files {
		if f.lib && !slices.Contains(libDirs, filepath.Dir(f.path)) {
			libDirs = append(libDirs, filepath.Dir(f.path))
		}
	}
	err = b.ensureImage(ctx, base.ref, func() error {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeRootfs(pw, files)) }()
		defer pr.Close()
		rc, err := b.cli.ImageImport(ctx, image.ImportSource{Source: pr, SourceName: "-"}, base.ref, image.ImportOptions{
			Changes: []string{
				"LABEL " + LabelImage + "=python",
				"ENV LD_LIBRARY_PATH=" + strings.Join(libDirs, ":"),
				"ENV PYTHONDONTWRITEBYTECODE=1",
				"ENV PYTHONUTF8=1",
			},
		})
		if err != nil {
			return fmt.Errorf("import the Python base image: %w", err)
		}
		defer rc.Close()
		if err := readJSONStream(rc); err != nil {
			return fmt.Errorf("import the Python base image: %w", err)
		}
		return nil
	})
	if err != nil {
		return pythonBaseImage{}, err
	}
	b.mu.Lock()
	b.pyBases[interpreter] = base
	b.mu.Unlock()
	return base, nil
}

// rootFile is one entry of the Python root file system: path in the image,
// and either src (a file on this host) or link (a symlink's target).
type rootFile struct {
	path, src, link string
	size            int64
	mtime           time.Time
	mode            fs.FileMode
	lib             bool // a shared library, whose directory goes on LD_LIBRARY_PATH
}

// pythonFiles lists what the Python base image holds, sorted by path.
func pythonFiles(ctx context.Context, interpreter string) ([]rootFile, error) {
	exe, err := filepath.EvalSymlinks(interpreter)
	if err != nil {
		return nil, fmt.Errorf("find the Python interpreter: %w", err)
	}
	const script = `import json, sysconfig; print(json.dumps({"stdlib": sysconfig.get_paths()["stdlib"], "dynload": sysconfig.get_config_var("DESTSHARED") or ""}))`
	out, err := exec.CommandContext(ctx, exe, "-c", script).Output()
	if err != nil {
		return nil, fmt.Errorf("ask %s where its standard library is: %w", exe, err)
	}
	var where struct{ Stdlib, Dynload string }
	if err := json.Unmarshal(out, &where); err != nil || where.Stdlib == "" {
		return nil, fmt.Errorf("ask %s where its standard library is: answer %q", exe, out)
	}
	files := map[string]rootFile{}
	addFile := func(p, src string, lib bool) error {
		fi, err := os.Stat(src)
		if err != nil {
			return err
		}
		files[p] = rootFile{path: p, src: src, size: fi.Size(), mtime: fi.ModTime(), mode: fi.Mode().Perm(), lib: lib}
		return nil
	}
	if err := addFile(exe, exe, false); err != nil {
		return nil, err
	}
	if interpreter != exe {
		files[interpreter] = rootFile{path: interpreter, link: exe}
	}
	var extensions []string
	walk := func(root string) error {
		return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				name := d.Name()
				if p != root && filepath.Dir(p) == where.Stdlib && (slices.Contains(stdlibSkip, name) || strings.HasPrefix(name, "config-")) {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				target, err := os.Readlink(p)
				if err != nil {
					return err
				}
				files[p] = rootFile{path: p, link: target}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			if strings.HasSuffix(p, ".so") {
				extensions = append(extensions, p)
			}
			return addFile(p, p, false)
		})
	}
	if err := walk(where.Stdlib); err != nil {
		return nil, fmt.Errorf("list the Python standard library: %w", err)
	}
	if where.Dynload != "" && !strings.HasPrefix(where.Dynload, where.Stdlib+string(filepath.Separator)) {
		if err := walk(where.Dynload); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("list the Python extension modules: %w", err)
		}
	}
	libs, err := sharedLibraries(ctx, append([]string{exe}, extensions...))
	if err != nil {
		return nil, err
	}
	for _, lib := range libs {
		if err := addFile(lib, lib, true); err != nil {
			return nil, fmt.Errorf("shared library %s: %w", lib, err)
		}
	}
	list := make([]rootFile, 0, len(files))
	for _, p := range slices.Sorted(maps.Keys(files)) {
		list = append(list, files[p])
	}
	return list, nil
}

// sharedLibraries lists the shared libraries (and the dynamic loader) that
// the programs load, by the paths ldd gives; libraries ldd cannot find are
// left out, which breaks only the extension modules that need them.
func sharedLibraries(ctx context.Context, programs []string) ([]string, error) {
	cmd := exec.CommandContext(ctx, "ldd", programs...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	// ldd exits non-zero when one of many files is not dynamic; its output
	// for the others is still good.
	if err := cmd.Run(); err != nil && stdout.Len() == 0 {
		return nil, fmt.Errorf("list the shared libraries of the Python interpreter with ldd: %w", err)
	}
	var libs []string
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "\t") {
			continue // "program:" headers
		}
		fields := strings.Fields(line)
		var p string
		if i := slices.Index(fields, "=>"); i >= 0 && i+1 < len(fields) {
			p = fields[i+1]
		} else if len(fields) > 0 {
			p = fields[0]
		}
		if strings.HasPrefix(p, "/") && !slices.Contains(libs, p) {
			libs = append(libs, p)
		}
	}
	slices.Sort(libs)
	return libs, nil
}

// writeRootfs writes files as a tar archive of a root file system, with
// the directories they need.
func writeRootfs(w io.Writer, files []rootFile) error {
	tw := tar.NewWriter(w)
	dirs := map[string]bool{"/": true}
	var mkdir func(dir string) error
	mkdir = func(dir string) error {
		if dirs[dir] {
			return nil
		}
		if err := mkdir(filepath.Dir(dir)); err != nil {
			return err
		}
		dirs[dir] = true
		return tw.WriteHeader(&tar.Header{Name: strings.TrimPrefix(dir, "/") + "/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: time.Unix(0, 0)})
	}
	for _, f := range files {
		if err := mkdir(filepath.Dir(f.path)); err != nil {
			return err
		}
		name := strings.TrimPrefix(f.path, "/")
		if f.link != "" {
			if err := tw.WriteHeader(&tar.Header{Name: name, Linkname: f.link, Typeflag: tar.TypeSymlink, Mode: 0o777, ModTime: time.Unix(0, 0)}); err != nil {
				return err
			}
			continue
		}
		src, err := os.Open(f.src)
		if err != nil {
			return err
		}
		err = tw.WriteHeader(&tar.Header{Name: name, Size: f.size, Mode: int64(f.mode), Typeflag: tar.TypeReg, ModTime: f.mtime})
		if err == nil {
			_, err = io.CopyN(tw, src, f.size)
		}
		src.Close()
		if err != nil {
			return fmt.Errorf("pack %s: %w", f.src, err)
		}
	}
	return tw.Close()
}

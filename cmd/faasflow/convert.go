package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/faasflow/faasflow-go/workflow"
)

// cmdConvert loads a workflow file in any supported format (native,
// DataFlower, FaaSFlow v1) and writes it in the native format, to stdout
// or to the -o file.
func cmdConvert(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	out := fs.String("o", "", "write the native YAML to this file instead of stdout")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("convert needs one workflow file")
	}
	wf, err := workflow.LoadFile(pos[0])
	if err != nil {
		return err
	}
	if *out != "" {
		// Code paths are absolute once loaded; those under the new file's
		// directory are written relative to it, so they keep working when
		// the tree moves.
		dir, err := filepath.Abs(filepath.Dir(*out))
		if err != nil {
			return fmt.Errorf("convert: %w", err)
		}
		for _, f := range wf.Functions {
			if f.Code == "" {
				continue
			}
			rel, err := filepath.Rel(dir, f.Code)
			if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				f.Code = "." + string(filepath.Separator) + rel
			}
		}
	}
	src, err := workflow.MarshalNative(wf)
	if err != nil {
		return fmt.Errorf("convert %s: %w", pos[0], err)
	}
	src = append([]byte(fmt.Sprintf("# Converted from %s by faasflow convert.\n", pos[0])), src...)
	if *out == "" {
		_, err = stdout.Write(src)
		return err
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	return nil
}

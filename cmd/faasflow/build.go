package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/faasflow/faasflow-go/agents/runtime"
	"github.com/faasflow/faasflow-go/agents/runtime/docker"
	"github.com/faasflow/faasflow-go/build"
	"github.com/faasflow/faasflow-go/workflow"
)

// cmdBuild builds a workflow's functions and, with a Docker daemon, their
// images, so that workers of the docker runtime find them ready.
func cmdBuild(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	host := fs.String("docker-host", os.Getenv("FAASFLOW_DOCKER_HOST"), "Docker daemon for the images (default $FAASFLOW_DOCKER_HOST; empty: build the functions only)")
	python := fs.String("python", "/usr/bin/python3", "interpreter the Python base image is made from")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("build needs one workflow file or directory")
	}
	wf, err := workflow.LoadFile(pos[0])
	if err != nil {
		return err
	}
	arts, err := build.Workflow(ctx, wf, filepath.Join(stateDir(), "build"))
	if err != nil {
		return err
	}
	var images *docker.Backend
	if *host != "" {
		images, err = docker.New(ctx, docker.Config{Host: *host, Cluster: "faasflow-build", Worker: "cli"}, slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		defer images.Close()
	}
	for _, f := range wf.Functions {
		a, ok := arts[f.Artifact]
		if !ok {
			fmt.Printf("%-20s %s runtime: nothing to build\n", f.Name, f.Runtime)
			continue
		}
		line := fmt.Sprintf("%-20s %s (sha256 %.12s)", f.Name, a.Path, a.SHA256)
		if images != nil {
			spec := runtime.Spec{Function: f.Name, Runtime: f.Runtime, Executable: a.Path}
			if f.Runtime == "python" {
				spec.Executable, spec.Args = *python, []string{a.Path}
			}
			ref, err := images.Image(ctx, spec)
			if err != nil {
				return err
			}
			line += " image " + ref
		}
		fmt.Println(line)
	}
	return nil
}

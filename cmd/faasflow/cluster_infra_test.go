package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClusterProviderArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		usage   bool
		wantErr string
	}{
		{"unknown provider", []string{"cluster", "up", "--provider", "gcp"}, true, `unknown provider "gcp"`},
		{"status with no cluster up", []string{"cluster", "status", "--provider", "docker", "--repo", "../..", "--var", "novalue"}, false, ""},
		{"check without config", []string{"cluster", "check", "--config", "/nonexistent/cluster.yaml"}, false, "read cluster config"},
		{"unknown infra action", []string{"cluster", "reboot", "--provider", "docker", "--repo", "../.."}, true, `unknown cluster command "reboot"`},
	}
	t.Setenv("FAASFLOW_HOME", t.TempDir())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			var ue usageError
			if errors.As(err, &ue) != tt.usage {
				t.Errorf("usage error: %v, want %v", !tt.usage, tt.usage)
			}
		})
	}
}

func TestRepoRoot(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "infra"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := repoRoot(dir)
	if err != nil || got != dir {
		t.Fatalf("repoRoot(%s) = %s, %v", dir, got, err)
	}
	if got, err := repoRoot("../.."); err != nil || !strings.HasSuffix(got, string(filepath.Separator)+filepath.Base(got)) {
		t.Fatalf("repoRoot(../..) = %s, %v", got, err)
	}
}

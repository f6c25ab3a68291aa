package worker

import (
	"log/slog"
	"strings"
	"testing"
)

func TestUnknownRuntimeIsRefused(t *testing.T) {
	_, err := New(Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Runtime: "vm"}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), `unknown runtime "vm"`) || !strings.Contains(err.Error(), "--runtime") {
		t.Errorf("New with runtime vm: %v, want an error naming the runtimes and the flag", err)
	}
}

func TestDockerRuntimeWithoutDaemon(t *testing.T) {
	_, err := New(Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Runtime: RuntimeDocker, DockerHost: "unix:///nonexistent/docker.sock"}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "docker.sh start") {
		t.Errorf("New with the docker runtime and no daemon: %v, want an error saying how to start one", err)
	}
}

package docker_test

import (
	"testing"

	"github.com/faasflow/faasflow-go/agents/runtime"
	"github.com/faasflow/faasflow-go/agents/runtime/runtimetest"
)

// backends are the runtimes the benchmarks compare; docker is skipped
// without a daemon.
var backends = []struct {
	name string
	new  func(b *testing.B) runtime.Backend
}{
	{name: "process", new: func(*testing.B) runtime.Backend { return runtime.ProcessBackend{} }},
	{name: "docker", new: func(b *testing.B) runtime.Backend { return newBackend(b, uniqueName("bench"), "w0") }},
}

// BenchmarkColdStart measures the first run of a noop Go function on a new
// instance: starting it (a process, or a container of its cached image),
// its hello and the run.
func BenchmarkColdStart(b *testing.B) {
	spec := runtimetest.Spec(binDir, "noop", 1)
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			backend := be.new(b)
			runtimetest.ColdStart(b, func(tb testing.TB) *runtime.Pool { return newPool(tb, runtime.PoolConfig{}, backend) }, spec)
		})
	}
}

// BenchmarkWarmRun measures a run of a noop Go function on an idle instance.
func BenchmarkWarmRun(b *testing.B) {
	spec := runtimetest.Spec(binDir, "noop", 1)
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			runtimetest.WarmRun(b, newPool(b, runtime.PoolConfig{}, be.new(b)), spec)
		})
	}
}

package docker_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/worker"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/testcluster"
	"github.com/faasflow/faasflow-go/workflow"
)

// prewarmChain is a 3-stage chain of synthetic functions that each run for
// 100 ms: long enough for the next stage's cold start to hide behind it.
func prewarmChain(t testing.TB, name string) *workflow.Workflow {
	src := `
name: ` + name + `
inputs: {x: a.x}
functions:
  a: {inputs: [x], outputs: {y: b.x}}
  b: {inputs: [x], outputs: {y: c.x}}
  c: {inputs: [x], outputs: {y: $result}}
`
	wf, err := workflow.ParseNative([]byte(src), name+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range wf.Functions {
		f.Runtime = "synthetic"
		f.Synthetic = &workflow.Synthetic{Seconds: 0.1}
		f.Outputs[0].Size = 100
	}
	return wf
}

// BenchmarkPrewarmChain measures the end-to-end latency of a 3-stage chain
// whose every instance starts cold (each iteration deploys the chain under
// a new name, so no instance can be reused), with pre-warming on and off,
// for each runtime, in one run. Pre-warming starts stage n+1's instance
// when stage n fires, so only the first cold start is on the path.
func BenchmarkPrewarmChain(b *testing.B) {
	host := dockerHost(b)
	for _, rt := range []string{worker.RuntimeProcess, worker.RuntimeDocker} {
		for _, off := range []bool{true, false} {
			name := fmt.Sprintf("%s/prewarm=%v", rt, !off)
			b.Run(name, func(b *testing.B) {
				c := testcluster.Start(b, testcluster.Options{
					Workers: 1, Runtime: rt, DockerHost: host, NoPrewarm: off,
					Data: worker.DataConfig{Namespace: uniqueName("prewarm")},
				})
				var lat []float64
				i := 0
				for b.Loop() {
					b.StopTimer()
					wf := prewarmChain(b, fmt.Sprintf("chain%d", i))
					i++
					c.DeployWorkflow(b, &api.DeployRequest{Workflow: wf})
					b.StartTimer()
					t0 := time.Now()
					inv := c.Invoke(b, wf.Name, map[string]string{"x": "1"})
					lat = append(lat, float64(time.Since(t0).Microseconds())/1000)
					if inv.Status != api.StatusSucceeded {
						b.Fatalf("%s: %s", inv.Status, inv.Error)
					}
				}
				sort.Float64s(lat)
				b.ReportMetric(lat[len(lat)/2], "p50-e2e-ms")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

package engine_test

import (
	"context"
	"testing"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/experiments"
	"github.com/faasflow/faasflow-go/internal/testcluster"
	"github.com/faasflow/faasflow-go/workflow"
)

// BenchmarkV1Overhead runs FaaSFlow v1 reference workflows as synthetic
// functions (run times × 0.01, outputs of size 0) on three in-process
// workers and reports the scheduling overhead, as `faasflow experiment
// overhead` measures it: end-to-end latency minus the run times along the
// critical path. Gateway and agents share the test process, so a CPU
// profile of this benchmark shows where their time goes:
//
//	go test -run '^$' -bench V1Overhead -benchtime 20x -cpuprofile cpu.out ./agents/engine/
func BenchmarkV1Overhead(b *testing.B) {
	for _, name := range []string{"cycles", "illgal_recognizer"} {
		for _, mode := range []string{"dataflow", "workersp"} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				wf, err := workflow.LoadFile("../../workflow/testdata/flatv1/" + name + ".flat_workflow.yaml")
				if err != nil {
					b.Fatal(err)
				}
				for _, f := range wf.Functions {
					if f.Synthetic != nil {
						f.Synthetic.Seconds *= 0.01
					}
					for _, o := range f.Outputs {
						o.Size = 0
					}
				}
				c := testcluster.Start(b, testcluster.Options{Workers: 3})
				c.DeployWorkflow(b, &api.DeployRequest{Workflow: wf, Mode: mode})
				ctx := context.Background()
				if _, err := experiments.MeasureOverhead(ctx, c.Client, wf, nil, 3, nil); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				s, err := experiments.MeasureOverhead(ctx, c.Client, wf, nil, b.N, nil)
				if err != nil {
					b.Fatal(err)
				}
				var o []float64
				for _, x := range s {
					o = append(o, x.Overhead)
				}
				b.ReportMetric(experiments.Median(o)*1e3, "overhead-ms")
			})
		}
	}
}

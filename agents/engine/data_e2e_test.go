package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/agents/worker"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/testcluster"
	"github.com/faasflow/faasflow-go/workflow"
)

// runLog keeps the run records of a cluster.
type runLog struct {
	mu   sync.Mutex
	runs []engine.RunRecord
}

func (l *runLog) Record(r *engine.RunRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs = append(l.runs, *r)
}

// inputBytes sums, over the runs of function fn in invocation inv, the
// input bytes by tier.
func (l *runLog) inputBytes(inv, fn string) map[string]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	sum := map[string]int64{}
	for _, r := range l.runs {
		if r.RequestID == inv && r.Function == fn {
			for tier, n := range r.Tiers {
				sum[tier] += n
			}
		}
	}
	return sum
}

// TestFullProfileWordcount runs wordcount with Redis as the local tier and
// Kafka as the remote one: the result is the embedded profile's, and the run
// records show which tier carried the texts — Kafka when start and count
// are on different workers, Redis when they share one.
func TestFullProfileWordcount(t *testing.T) {
	full := testcluster.FullProfile(t)
	const seed = 11
	embedded := testcluster.Start(t, testcluster.Options{})
	embedded.Deploy(t, "../../benchmarks/wordcount", api.DeployRequest{})
	want := embedded.Invoke(t, "wordcount", map[string]string{"seed": fmt.Sprint(seed)})
	if want.Status != api.StatusSucceeded {
		t.Fatalf("embedded profile: %s: %s", want.Status, want.Error)
	}

	log := &runLog{}
	c := testcluster.Start(t, testcluster.Options{Data: full, Observer: log})
	tests := []struct {
		name  string
		table map[string]string
		tier  string // the tier that carries start's texts to count
	}{
		{name: "across workers", table: map[string]string{"start": "worker-0", "count": "worker-1", "merge": "worker-2"}, tier: "kafka"},
		{name: "on one worker", table: map[string]string{"start": "worker-0", "count": "worker-0", "merge": "worker-1"}, tier: "redis"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.Deploy(t, "../../benchmarks/wordcount", api.DeployRequest{Placement: "static", Table: tt.table})
			inv := c.Invoke(t, "wordcount", map[string]string{"seed": fmt.Sprint(seed)})
			if inv.Status != api.StatusSucceeded {
				t.Fatalf("status %s: %s", inv.Status, inv.Error)
			}
			if !bytes.Equal(inv.Result["res"], want.Result["res"]) {
				t.Fatalf("result differs from the embedded profile's:\nfull:     %.200s\nembedded: %.200s", inv.Result["res"], want.Result["res"])
			}
			got := log.inputBytes(inv.RequestID, "count")
			var total int64
			for _, n := range got {
				total += n
			}
			if total == 0 || got[tt.tier] != total {
				t.Fatalf("count's input bytes by tier = %v, want all %d through %s", got, total, tt.tier)
			}
			// The same figures reach Prometheus and CouchDB.
			worker := c.Workers[1]
			if tt.tier == "redis" {
				worker = c.Workers[0]
			}
			if n := scrapeMetric(t, worker.URL(), `faasflow_bytes_total{tier="`+tt.tier+`"}`); n < float64(total) {
				t.Errorf("%s reports %v bytes through %s, want at least %d", worker.URL(), n, tt.tier, total)
			}
			waitCouchRecords(t, full.CouchDBURL, inv.RequestID, "count", tt.tier)
		})
	}
	waitFreed(t, c)
}

// scrapeMetric reads one sample from a /metrics endpoint.
func scrapeMetric(t *testing.T, base, series string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				t.Fatalf("metric line %q: %v", line, err)
			}
			return v
		}
	}
	t.Fatalf("%s/metrics has no %s", base, series)
	return 0
}

// waitCouchRecords waits until CouchDB's workflow_latency database holds
// the run records of fn in invocation inv, with tier as their main tier.
func waitCouchRecords(t *testing.T, couch, inv, fn, tier string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(couch + "/workflow_latency/_all_docs?include_docs=true")
		if err != nil {
			t.Fatal(err)
		}
		var all struct {
			Rows []struct {
				Doc engine.RunRecord `json:"doc"`
			} `json:"rows"`
		}
		err = json.NewDecoder(resp.Body).Decode(&all)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("read workflow_latency: %v", err)
		}
		found := 0
		for _, row := range all.Rows {
			d := row.Doc
			if d.RequestID == inv && d.BlockName == fn && d.TemplateName == "wordcount" {
				if d.Tier != tier {
					t.Fatalf("CouchDB record of %s has tier %q, want %q", fn, d.Tier, tier)
				}
				found++
			}
		}
		if found > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no record of %s in invocation %s reached CouchDB's workflow_latency within 10s", fn, inv)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestRemoteTiers runs wordcount across workers on each remote tier, in
// every mode: the result never depends on how the data travelled.
func TestRemoteTiers(t *testing.T) {
	full := testcluster.FullProfile(t)
	table := map[string]string{"start": "worker-0", "count": "worker-1", "merge": "worker-0"}
	for _, tier := range []string{"direct", "kafka", "couchdb"} {
		t.Run(tier, func(t *testing.T) {
			data := worker.DataConfig{Remote: tier, KafkaBrokers: full.KafkaBrokers, CouchDBURL: full.CouchDBURL}
			log := &runLog{}
			c := testcluster.Start(t, testcluster.Options{Workers: 2, Data: data, Observer: log})
			for i, mode := range api.Modes {
				c.Deploy(t, "../../benchmarks/wordcount", api.DeployRequest{Placement: "static", Table: table, Mode: mode})
				seed := uint64(20 + i)
				inv := c.Invoke(t, "wordcount", map[string]string{"seed": fmt.Sprint(seed)})
				if inv.Status != api.StatusSucceeded {
					t.Fatalf("%s mode: %s: %s", mode, inv.Status, inv.Error)
				}
				testcluster.CheckWordcount(t, inv, seed, tier+" "+mode)
				if got := log.inputBytes(inv.RequestID, "count"); got[tier] == 0 {
					t.Fatalf("%s mode: count's input bytes by tier = %v, want them through %s", mode, got, tier)
				}
			}
			waitFreed(t, c)
		})
	}
}

// TestPrewarmHidesConsumersColdStarts runs a 3-stage chain on one worker:
// with pre-warming, only the first stage starts cold (the next stage's
// instance starts while the one before runs); without, every stage does.
func TestPrewarmHidesConsumersColdStarts(t *testing.T) {
	src := `
name: warmchain
inputs: {x: a.x}
functions:
  a: {inputs: [x], outputs: {y: b.x}}
  b: {inputs: [x], outputs: {y: c.x}}
  c: {inputs: [x], outputs: {y: $result}}
`
	for _, off := range []bool{false, true} {
		t.Run(fmt.Sprintf("prewarm=%v", !off), func(t *testing.T) {
			wf, err := workflow.ParseNative([]byte(src), "warmchain.yaml")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range wf.Functions {
				f.Runtime = "synthetic"
				f.Synthetic = &workflow.Synthetic{Seconds: 0.2}
			}
			log := &runLog{}
			c := testcluster.Start(t, testcluster.Options{Workers: 1, NoPrewarm: off, Observer: log})
			c.DeployWorkflow(t, &api.DeployRequest{Workflow: wf})
			inv := c.Invoke(t, "warmchain", map[string]string{"x": "1"})
			if inv.Status != api.StatusSucceeded {
				t.Fatalf("%s: %s", inv.Status, inv.Error)
			}
			// A run's record is made after its outputs are sent: wait for c's.
			cold := map[string]bool{}
			for deadline := time.Now().Add(5 * time.Second); len(cold) < 3 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
				log.mu.Lock()
				for _, r := range log.runs {
					cold[r.Function] = r.ColdStart
				}
				log.mu.Unlock()
			}
			want := map[string]bool{"a": true, "b": off, "c": off}
			if !reflect.DeepEqual(cold, want) {
				t.Fatalf("cold starts by function = %v, want %v", cold, want)
			}
		})
	}
}

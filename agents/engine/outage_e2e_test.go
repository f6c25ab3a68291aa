package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/testcluster"
)

// privateService runs a service script with its own state directory and
// ports, so a test can stop and start it without touching the shared one.
type privateService struct {
	name   string
	script string
	env    []string
}

func startPrivate(t *testing.T, name string) (*privateService, string) {
	t.Helper()
	s := &privateService{name: name, script: "../../scripts/services/" + name + ".sh"}
	s.env = append(os.Environ(), "FAASFLOW_SERVICES_DIR="+t.TempDir())
	var addr string
	switch name {
	case "redis":
		port := freePort(t)
		s.env = append(s.env, "FAASFLOW_REDIS_PORT="+port)
		addr = "127.0.0.1:" + port
	case "kafka":
		port := freePort(t)
		s.env = append(s.env, "FAASFLOW_KAFKA_PORT="+port, "FAASFLOW_KAFKA_CONTROLLER_PORT="+freePort(t), "FAASFLOW_KAFKA_HEAP=256m")
		addr = "127.0.0.1:" + port
	}
	s.run(t, "start")
	t.Cleanup(func() { s.run(t, "stop") })
	return s, addr
}

func (s *privateService) run(t *testing.T, action string) {
	t.Helper()
	cmd := exec.Command("bash", s.script, action)
	cmd.Env = s.env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", s.name, action, err, out)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// TestServiceOutage stops Kafka, then Redis, under a full-profile cluster
// with invocations in flight: each of them succeeds or fails with an error
// naming the service, the agents stay up, and once the service is back
// invocations succeed again.
func TestServiceOutage(t *testing.T) {
	shared := testcluster.FullProfile(t)
	tests := []struct {
		service string
		table   map[string]string // placement that makes start's texts use the service
	}{
		{service: "kafka", table: map[string]string{"start": "worker-0", "count": "worker-1", "merge": "worker-0"}},
		{service: "redis", table: map[string]string{"start": "worker-0", "count": "worker-0", "merge": "worker-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			svc, addr := startPrivate(t, tt.service)
			data := shared
			if tt.service == "kafka" {
				data.KafkaBrokers = []string{addr}
			} else {
				data.RedisAddr = addr
			}
			c := testcluster.Start(t, testcluster.Options{Workers: 2, Data: data})
			c.Deploy(t, "../../benchmarks/wordcount", api.DeployRequest{Placement: "static", Table: tt.table})
			if inv := c.Invoke(t, "wordcount", map[string]string{"seed": "1"}); inv.Status != api.StatusSucceeded {
				t.Fatalf("before the outage: %s: %s", inv.Status, inv.Error)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var ids []string
			for i := 0; i < 3; i++ {
				inv, err := c.Client.Invoke(ctx, "wordcount", &api.InvokeRequest{
					Input: map[string]json.RawMessage{"seed": json.RawMessage(fmt.Sprint(i + 2))}, Async: true,
				})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, inv.RequestID)
			}
			svc.run(t, "stop")
			for _, id := range ids {
				inv, err := c.Client.Invocation(ctx, id, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				switch inv.Status {
				case api.StatusSucceeded:
				case api.StatusFailed:
					if !strings.Contains(strings.ToLower(inv.Error), tt.service) {
						t.Errorf("invocation failed during the %s outage with an error that does not name it: %s", tt.service, inv.Error)
					}
				default:
					t.Fatalf("invocation %s still %s a minute after %s stopped", id, inv.Status, tt.service)
				}
			}
			if n, err := c.Client.Health(ctx); err != nil || n != 2 {
				t.Fatalf("during the outage: %d workers healthy (%v), want 2", n, err)
			}

			svc.run(t, "start")
			deadline := time.Now().Add(time.Minute)
			for {
				inv := c.Invoke(t, "wordcount", map[string]string{"seed": "7"})
				if inv.Status == api.StatusSucceeded {
					testcluster.CheckWordcount(t, inv, 7, "after the outage")
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("a minute after %s came back, invocations still fail: %s", tt.service, inv.Error)
				}
				time.Sleep(500 * time.Millisecond)
			}
		})
	}
}

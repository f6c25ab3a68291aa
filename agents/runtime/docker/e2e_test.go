package docker_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/faasflow/faasflow-go/agents/runtime/docker"
	"github.com/faasflow/faasflow-go/agents/worker"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/testcluster"
)

// TestWordcountInDocker runs wordcount on a test cluster whose workers run
// instances as containers: in every mode, and with its count step in
// Python, the result equals a direct count. No container is left after the
// cluster stops.
func TestWordcountInDocker(t *testing.T) {
	host := dockerHost(t)
	cli := testClient(t)
	ns := uniqueName("wordcount")
	ours := filters.NewArgs(filters.Arg("label", docker.LabelCluster+"="+ns))
	// Registered before the cluster's own cleanup, so it runs after it.
	t.Cleanup(func() {
		left, err := cli.ContainerList(context.Background(), container.ListOptions{All: true, Filters: ours})
		if err != nil {
			t.Error(err)
			return
		}
		for _, c := range left {
			t.Errorf("container %s %v is left after the cluster stopped", c.ID[:12], c.Names)
		}
	})
	c := testcluster.Start(t, testcluster.Options{Runtime: worker.RuntimeDocker, DockerHost: host, Data: worker.DataConfig{Namespace: ns}})

	for _, mode := range api.Modes {
		c.Deploy(t, "../../../benchmarks/wordcount", api.DeployRequest{Mode: mode})
		seed := uint64(len(mode)) // a different text per mode
		inv := c.Invoke(t, "wordcount", map[string]string{"seed": fmt.Sprint(seed)})
		if inv.Status != api.StatusSucceeded {
			t.Fatalf("%s, seed %d: status %s: %s", mode, seed, inv.Status, inv.Error)
		}
		testcluster.CheckWordcount(t, inv, seed, mode)
	}
	list, err := cli.ContainerList(context.Background(), container.ListOptions{Filters: ours})
	if err != nil {
		t.Fatal(err)
	}
	functions := map[string]bool{}
	for _, c := range list {
		functions[c.Labels[docker.LabelFunction]] = true
	}
	for _, f := range []string{"start", "count", "merge"} {
		if !functions[f] {
			t.Errorf("no running container of function %s; containers found for %v", f, functions)
		}
	}

	t.Run("count in Python", func(t *testing.T) {
		c.Deploy(t, "../../../benchmarks/wordcount/workflow-python.yaml", api.DeployRequest{})
		inv := c.Invoke(t, "wordcount-py", map[string]string{"seed": "5"})
		if inv.Status != api.StatusSucceeded {
			t.Fatalf("status %s: %s", inv.Status, inv.Error)
		}
		testcluster.CheckWordcount(t, inv, 5, "count in Python")
	})
}

package e2e

import (
	"fmt"
	"strings"
	"testing"

	"kubegene.io/kubegene/test/e2e/framework"
)

// scaleClusterCgroup names the cgroup KUBEGENE_SCALE_CLUSTER_CPUS confines
// the cluster to (framework.CPUCgroup).
const scaleClusterCgroup = "kubegene-scale-cluster"

// scaleReleaseCluster frees the cluster from the group a run killed before
// its cleanup may have left it in: a later run would otherwise measure a
// throttled cluster without knowing. Where this machine has no such group
// to look at, only a run that confines the cluster fails for it.
func scaleReleaseCluster(b *testing.B, confining bool) {
	pids, err := framework.ReleaseCPUCgroup(scaleClusterCgroup)
	switch {
	case err != nil && confining:
		b.Fatalf("releasing the cgroup %s an earlier run left: %v", scaleClusterCgroup, err)
	case err != nil:
		b.Logf("not looking for a cgroup %s an earlier run left: %v", scaleClusterCgroup, err)
	}
	if len(pids) > 0 {
		b.Logf("WARNING: an earlier run left processes %v confined in cgroup %s: released", pids, scaleClusterCgroup)
	}
}

// scaleConfineCluster moves the stack's processes but the
// execution-apiserver into a cgroup limited to cpus, for the rest of the
// benchmark.
func scaleConfineCluster(b *testing.B, s *framework.Stack, cpus float64) *framework.CPUCgroup {
	g, err := framework.NewCPUCgroup(scaleClusterCgroup, cpus)
	if err != nil {
		b.Fatalf("KUBEGENE_SCALE_CLUSTER_CPUS: %v", err)
	}
	b.Cleanup(func() {
		if err := g.Remove(); err != nil {
			b.Errorf("removing the cluster's cgroup: %v", err)
		}
	})
	var confined []string
	for _, component := range framework.ClusterComponents {
		pid, err := scaleComponentPID(s, component)
		if err != nil {
			b.Fatalf("KUBEGENE_SCALE_CLUSTER_CPUS: %s: %v", component, err)
		}
		if err := g.Add(pid); err != nil {
			b.Fatalf("KUBEGENE_SCALE_CLUSTER_CPUS: %v", err)
		}
		confined = append(confined, fmt.Sprintf("%s (%d)", component, pid))
	}
	b.Logf("cluster confined to %.2f CPUs in cgroup %s: %s; the execution-apiserver and this test run outside it",
		cpus, g.Dir, strings.Join(confined, ", "))
	return g
}

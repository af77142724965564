package framework

// A CPU cgroup for the cluster's processes (the scale benchmark's
// KUBEGENE_SCALE_CLUSTER_CPUS). On a machine where the cluster saturates
// every core, whatever feeds it Jobs takes its CPU from the cluster: the
// controller's own work (its watch, its creations, its status writes) then
// lengthens the Execution's wall time though it feeds the cluster as the
// plain client does. Confining etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok to a fixed share of the
// cores, with the feeders (the execution-apiserver and the benchmark's
// process) outside it, gives the cluster the same CPU in every variant, as
// a control plane on machines of its own has: what is left between the
// variants is how each feeds the cluster.

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupPeriod is the CFS bandwidth period the quota is a share of.
const cgroupPeriod = 100 * time.Millisecond

// CPUCgroup is a cgroup of the cpu controller with a CPU quota. The
// processes added to it go back to the cgroups they came from when it is
// removed.
type CPUCgroup struct {
	// Dir is the group's directory.
	Dir   string
	mount cgroupMount
	// origins are the cgroup directories the added processes came from;
	// own is this process' cgroup, where any other process goes back.
	origins map[int]string
	own     string
}

// cgroupMount is where the cpu controller's hierarchy is mounted, and the
// hierarchy's root as this mount shows it.
type cgroupMount struct {
	point, root string
	v2          bool
}

// cpuCgroupMount finds the cpu controller's hierarchy in mountinfo: cgroup
// v1's hierarchy with the cpu controller if there is one, else cgroup v2's.
func cpuCgroupMount(mountinfo string) (cgroupMount, error) {
	var v2 *cgroupMount
	for line := range strings.Lines(mountinfo) {
		// ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPEROPTIONS
		before, after, ok := strings.Cut(strings.TrimSpace(line), " - ")
		if !ok {
			continue
		}
		fields, tail := strings.Fields(before), strings.Fields(after)
		if len(fields) < 5 || len(tail) < 3 {
			continue
		}
		m := cgroupMount{point: fields[4], root: fields[3]}
		switch tail[0] {
		case "cgroup":
			if slices.Contains(strings.Split(tail[2], ","), "cpu") {
				return m, nil
			}
		case "cgroup2":
			if v2 == nil {
				m.v2 = true
				v2 = &m
			}
		}
	}
	if v2 != nil {
		return *v2, nil
	}
	return cgroupMount{}, fmt.Errorf("no cgroup hierarchy with the cpu controller is mounted: %w", errors.ErrUnsupported)
}

// dirOf is the directory of a process' cgroup in the hierarchy m, from its
// /proc/PID/cgroup: the line naming cpu (v1), or the "0::" line (v2).
func (m cgroupMount) dirOf(procCgroup string) (string, error) {
	for line := range strings.Lines(procCgroup) {
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if m.v2 && parts[0] == "0" && parts[1] == "" || !m.v2 && slices.Contains(strings.Split(parts[1], ","), "cpu") {
			rel, ok := strings.CutPrefix(parts[2], strings.TrimSuffix(m.root, "/"))
			if !ok || rel != "" && rel[0] != '/' {
				return "", fmt.Errorf("cgroup %s is outside the hierarchy mounted at %s (root %s)", parts[2], m.point, m.root)
			}
			return filepath.Join(m.point, rel), nil
		}
	}
	return "", fmt.Errorf("no cpu controller in %q", procCgroup)
}

// cgroupBase is where a benchmark's group goes: beside this process' own
// cgroup, or under the hierarchy's root when this process is in the root.
// Beside, not under: in cgroup v2 a cgroup with processes (this one) cannot
// also hand controllers to children — which still fails where this process
// is in the root of a cgroup namespace that has processes.
func cgroupBase(mountinfo, procCgroup string) (mount cgroupMount, base, own string, err error) {
	if mount, err = cpuCgroupMount(mountinfo); err != nil {
		return mount, "", "", err
	}
	if own, err = mount.dirOf(procCgroup); err != nil {
		return mount, "", "", err
	}
	base = own
	if own != filepath.Clean(mount.point) {
		base = filepath.Dir(own)
	}
	return mount, base, own, nil
}

// thisCgroupBase is cgroupBase for this process.
func thisCgroupBase() (mount cgroupMount, base, own string, err error) {
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return mount, "", "", err
	}
	procCgroup, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return mount, "", "", err
	}
	return cgroupBase(string(mountinfo), string(procCgroup))
}

// NewCPUCgroup makes the cgroup name (see cgroupBase), limited to cpus of
// CPU time per second of wall time (at least 0.01: the kernel's least
// quota is 1 ms a period).
func NewCPUCgroup(name string, cpus float64) (*CPUCgroup, error) {
	period := cgroupPeriod.Microseconds()
	quota := int64(math.Round(cpus * float64(period)))
	if !(cpus >= 0.01) || quota < 1000 {
		return nil, fmt.Errorf("a CPU quota of %v CPUs: want at least 0.01", cpus)
	}
	mount, base, own, err := thisCgroupBase()
	if err != nil {
		return nil, err
	}
	if mount.v2 {
		if err := os.WriteFile(filepath.Join(base, "cgroup.subtree_control"), []byte("+cpu"), 0o644); err != nil {
			return nil, fmt.Errorf("enabling the cpu controller below %s: %w", base, err)
		}
	}
	g := &CPUCgroup{Dir: filepath.Join(base, name), mount: mount, origins: map[int]string{}, own: own}
	if err := os.Mkdir(g.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("making cgroup %s: %w", g.Dir, err)
	}
	if mount.v2 {
		err = os.WriteFile(filepath.Join(g.Dir, "cpu.max"), fmt.Appendf(nil, "%d %d", quota, period), 0o644)
	} else {
		err = errors.Join(
			os.WriteFile(filepath.Join(g.Dir, "cpu.cfs_period_us"), strconv.AppendInt(nil, period, 10), 0o644),
			os.WriteFile(filepath.Join(g.Dir, "cpu.cfs_quota_us"), strconv.AppendInt(nil, quota, 10), 0o644))
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("setting the quota of %s: %w", g.Dir, err), os.Remove(g.Dir))
	}
	return g, nil
}

// Add moves process pid, all its threads, into the group.
func (g *CPUCgroup) Add(pid int) error {
	procCgroup, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return err
	}
	origin, err := g.mount.dirOf(string(procCgroup))
	if err != nil {
		return fmt.Errorf("pid %d: %w", pid, err)
	}
	if err := os.WriteFile(filepath.Join(g.Dir, "cgroup.procs"), strconv.AppendInt(nil, int64(pid), 10), 0o644); err != nil {
		return fmt.Errorf("moving pid %d into %s: %w", pid, g.Dir, err)
	}
	g.origins[pid] = origin
	return nil
}

// Throttled is the time the quota held the group's processes back, summed
// over the CPUs (cpu.stat's throttled_time, or throttled_usec in v2): it
// can exceed the wall time.
func (g *CPUCgroup) Throttled() (time.Duration, error) {
	raw, err := os.ReadFile(filepath.Join(g.Dir, "cpu.stat"))
	if err != nil {
		return 0, err
	}
	return cgroupThrottled(string(raw), g.mount.v2)
}

// cgroupThrottled reads the throttled time out of a cpu.stat.
func cgroupThrottled(stat string, v2 bool) (time.Duration, error) {
	key, unit := "throttled_time", time.Nanosecond
	if v2 {
		key, unit = "throttled_usec", time.Microsecond
	}
	for line := range strings.Lines(stat) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && k == key {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("cpu.stat %s %q: %w", key, v, err)
			}
			return time.Duration(n) * unit, nil
		}
	}
	return 0, fmt.Errorf("cpu.stat has no %s", key)
}

// Remove moves the group's processes back where they came from and deletes
// the group.
func (g *CPUCgroup) Remove() error {
	return removeCgroup(g.Dir, func(pid int) string {
		if origin, ok := g.origins[pid]; ok {
			return origin
		}
		return g.own // a child of a process added
	})
}

// ReleaseCPUCgroup removes the group name that a run killed before its
// cleanup left behind (see cgroupBase), its processes moved to this
// process' cgroup, and returns them: nil when there was no such group.
func ReleaseCPUCgroup(name string) ([]int, error) {
	_, base, own, err := thisCgroupBase()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(base, name)
	pids, err := cgroupProcs(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return pids, removeCgroup(dir, func(int) string { return own })
}

// removeCgroup moves every process of cgroup dir to the cgroup directory
// dest names for it, then deletes dir. A process that exited meanwhile is
// no error.
func removeCgroup(dir string, dest func(pid int) string) error {
	pids, err := cgroupProcs(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, pid := range pids {
		to := dest(pid)
		err := os.WriteFile(filepath.Join(to, "cgroup.procs"), strconv.AppendInt(nil, int64(pid), 10), 0o644)
		if err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("moving pid %d back to %s: %w", pid, to, err))
		}
	}
	if err := os.Remove(dir); err != nil {
		errs = append(errs, fmt.Errorf("removing cgroup %s: %w", dir, err))
	}
	return errors.Join(errs...)
}

// cgroupProcs are the processes in cgroup dir.
func cgroupProcs(dir string) ([]int, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(raw)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s/cgroup.procs: %q", dir, f)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

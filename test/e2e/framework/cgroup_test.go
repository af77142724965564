package framework

import (
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestCPUCgroupMount(t *testing.T) {
	for _, tc := range []struct {
		name, mountinfo string
		want            cgroupMount
		err             bool
	}{{
		name: "v1 with cpu alone, beside cpuacct and v2",
		mountinfo: `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
`,
		want: cgroupMount{point: "/sys/fs/cgroup/cpu", root: "/"},
	}, {
		name:      "v1 cpu,cpuacct with optional fields and a nested root",
		mountinfo: "27 21 0:24 /kubepods /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 master:2 - cgroup cgroup rw,cpu,cpuacct\n",
		want:      cgroupMount{point: "/sys/fs/cgroup/cpu,cpuacct", root: "/kubepods"},
	}, {
		name:      "v2 only",
		mountinfo: "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n",
		want:      cgroupMount{point: "/sys/fs/cgroup", root: "/", v2: true},
	}, {
		name:      "no cpu controller",
		mountinfo: "33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n",
		err:       true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cpuCgroupMount(tc.mountinfo)
			if tc.err {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestCgroupBase(t *testing.T) {
	const v1Mounts = "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	const v2Container = "29 23 0:26 /kubepods/pod1 /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw\n"
	for _, tc := range []struct {
		name, mountinfo, procCgroup string
		base, own                   string
		err                         bool
	}{{
		name:      "v1, in the root: under the root",
		mountinfo: v1Mounts, procCgroup: "9:name=systemd:/\n2:cpuacct:/acct\n1:cpu:/\n",
		base: "/sys/fs/cgroup/cpu", own: "/sys/fs/cgroup/cpu",
	}, {
		name:      "v1, nested: beside this process' cgroup",
		mountinfo: v1Mounts, procCgroup: "1:cpu:/user.slice/session-3.scope\n",
		base: "/sys/fs/cgroup/cpu/user.slice", own: "/sys/fs/cgroup/cpu/user.slice/session-3.scope",
	}, {
		name:      "v2 in a container whose mount shows a subtree",
		mountinfo: v2Container, procCgroup: "0::/kubepods/pod1/c1\n",
		base: "/sys/fs/cgroup", own: "/sys/fs/cgroup/c1",
	}, {
		name:      "a cgroup that only shares a prefix with the mounted root",
		mountinfo: v2Container, procCgroup: "0::/kubepods/pod12/c1\n",
		err: true,
	}, {
		name:      "no cpu line",
		mountinfo: v1Mounts, procCgroup: "2:cpuacct:/acct\n",
		err: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, base, own, err := cgroupBase(tc.mountinfo, tc.procCgroup)
			if tc.err {
				if err == nil {
					t.Fatalf("got base %q, own %q; want an error", base, own)
				}
				return
			}
			if err != nil || base != tc.base || own != tc.own {
				t.Fatalf("got base %q, own %q, %v; want %q, %q", base, own, err, tc.base, tc.own)
			}
		})
	}
}

func TestNewCPUCgroupRefusesATooSmallQuota(t *testing.T) {
	for _, cpus := range []float64{0, -1, 0.001, math.NaN()} {
		if g, err := NewCPUCgroup("kubegene-test-refused", cpus); err == nil {
			_ = g.Remove()
			t.Errorf("%v CPUs: made %s, want an error", cpus, g.Dir)
		}
	}
}

func TestCgroupThrottled(t *testing.T) {
	v1 := "nr_periods 33\nnr_throttled 30\nthrottled_time 1501018529\nnr_bursts 0\n"
	if got, err := cgroupThrottled(v1, false); err != nil || got != 1501018529*time.Nanosecond {
		t.Errorf("v1: got %v, %v", got, err)
	}
	v2 := "usage_usec 900\nnr_throttled 3\nthrottled_usec 2500\n"
	if got, err := cgroupThrottled(v2, true); err != nil || got != 2500*time.Microsecond {
		t.Errorf("v2: got %v, %v", got, err)
	}
	if _, err := cgroupThrottled(v2, false); err == nil {
		t.Error("v1 key missing: want an error")
	}
	if _, err := cgroupThrottled("throttled_time x\n", false); err == nil {
		t.Error("a value that is no number: want an error")
	}
}

// newTestCPUCgroup makes a group for a test, removed at its end. It needs
// what the benchmark's KUBEGENE_SCALE_CLUSTER_CPUS needs: a cgroup
// hierarchy with the cpu controller that this process may write (root on
// the machines this project builds and tests on).
func newTestCPUCgroup(t *testing.T, cpus float64) *CPUCgroup {
	t.Helper()
	name := "kubegene-test-" + strconv.Itoa(os.Getpid())
	g, err := NewCPUCgroup(name, cpus)
	if err != nil {
		t.Fatalf("making a cgroup of the cpu controller (this test needs one it may write, as root): %v", err)
	}
	t.Cleanup(func() {
		if _, err := os.Stat(g.Dir); err == nil {
			if err := g.Remove(); err != nil {
				t.Error(err)
			}
		}
	})
	return g
}

// startLoop starts a shell spinning, killed at the test's end.
func startLoop(t *testing.T) *exec.Cmd {
	t.Helper()
	loop := exec.Command("sh", "-c", "while :; do :; done")
	if err := loop.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if loop.ProcessState == nil {
			_ = loop.Process.Kill()
			_ = loop.Wait()
		}
	})
	return loop
}

// TestCPUCgroupHoldsAProcessToItsQuota runs a busy loop in a group of 0.05
// CPUs for a second: the loop gets about that much CPU, is throttled, and is
// back in this process' cgroup once the group is removed.
func TestCPUCgroupHoldsAProcessToItsQuota(t *testing.T) {
	g := newTestCPUCgroup(t, 0.05)
	loop := startLoop(t)
	pid := loop.Process.Pid
	if err := g.Add(pid); err != nil {
		t.Fatal(err)
	}
	cpu0, _, err := ProcTimes(strconv.Itoa(pid))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	time.Sleep(time.Second)
	cpu1, _, err := ProcTimes(strconv.Itoa(pid))
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start).Seconds()
	throttled, err := g.Throttled()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there after Remove: %v", g.Dir, err)
	}
	own, _ := os.ReadFile("/proc/self/cgroup")
	theirs, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cgroup"))
	if err != nil {
		t.Fatal(err)
	}
	if string(own) != string(theirs) {
		t.Errorf("after Remove the loop is in\n%s\nnot in this process' cgroups\n%s", theirs, own)
	}
	// 0.05 CPU-s a second in the group, plus a period and a clock tick of
	// slack; unconfined, the loop would have used up to 1 CPU-s a second.
	if used := cpu1 - cpu0; used > 0.05*elapsed+0.15 {
		t.Errorf("the loop used %.2f CPU-s in %.1f s in a group of 0.05 CPUs", used, elapsed)
	}
	if throttled <= 0 {
		t.Errorf("the loop was never throttled (cpu.stat of %s)", g.Dir)
	}
}

// TestReleaseCPUCgroup: a group left behind by a run killed before its
// cleanup is removed, and its process moved back to this process' cgroup.
func TestReleaseCPUCgroup(t *testing.T) {
	g := newTestCPUCgroup(t, 0.5)
	loop := startLoop(t)
	if err := g.Add(loop.Process.Pid); err != nil {
		t.Fatal(err)
	}
	pids, err := ReleaseCPUCgroup(filepath.Base(g.Dir))
	if err != nil || !slices.Equal(pids, []int{loop.Process.Pid}) {
		t.Fatalf("released %v, %v; want [%d]", pids, err, loop.Process.Pid)
	}
	if _, err := os.Stat(g.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there: %v", g.Dir, err)
	}
	own, _ := os.ReadFile("/proc/self/cgroup")
	theirs, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(loop.Process.Pid), "cgroup"))
	if string(own) != string(theirs) {
		t.Errorf("the released loop is in\n%s\nnot in this process' cgroups\n%s", theirs, own)
	}
	if pids, err := ReleaseCPUCgroup(filepath.Base(g.Dir)); pids != nil || err != nil {
		t.Errorf("releasing it again: %v, %v; want nothing", pids, err)
	}
}

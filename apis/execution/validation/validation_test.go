package validation

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"kubegene.io/kubegene/apis/execution"
)

// seedWhole is the seed's exec-whole: the valid base every case mutates.
func seedWhole() *execution.Execution {
	return &execution.Execution{
		ObjectMeta: metav1.ObjectMeta{Name: "exec-whole", Namespace: "default"},
		Spec: execution.ExecutionSpec{Tasks: []execution.Task{
			{Name: "a", Type: execution.TaskTypeJob, Image: "ubuntu", Commands: []string{"echo a1", "echo a2"}},
			{Name: "b", Type: execution.TaskTypeJob, Image: "ubuntu", Commands: []string{"echo b1", "echo b2"},
				Dependents: []execution.Dependent{{Target: "a", Type: execution.DependTypeWhole}}},
		}},
	}
}

func task(name string, commands int, deps ...execution.Dependent) execution.Task {
	t := execution.Task{Name: name, Type: execution.TaskTypeJob, Image: "ubuntu", Dependents: deps}
	for i := 0; i < commands; i++ {
		t.Commands = append(t.Commands, fmt.Sprintf("echo %s%d", name, i))
	}
	return t
}

func dep(target string, typ execution.DependType) execution.Dependent {
	return execution.Dependent{Target: target, Type: typ}
}

type wantErr struct {
	typ    field.ErrorType
	field  string
	detail string // substring of the error's text
}

func TestValidateExecution(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(e *execution.Execution)
		opts   func(o *Options)
		want   []wantErr
	}{
		{name: "seed exec-whole is valid", mutate: func(e *execution.Execution) {}},
		{name: "seed exec-iterate is valid", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[1].Dependents[0].Type = execution.DependTypeIterate
		}},
		{name: "seed exec-volume is valid", mutate: func(e *execution.Execution) {
			for i := range e.Spec.Tasks {
				e.Spec.Tasks[i].Volumes = map[string]execution.Volume{"volumec": {MountPath: "/tmp/hostvolume", MountFrom: execution.VolumeSource{PVC: "exec-pvc"}}}
			}
		}},
		{name: "execution name not a DNS label", mutate: func(e *execution.Execution) { e.Name = "Exec.Whole" },
			want: []wantErr{{field.ErrorTypeInvalid, "metadata.name", "RFC 1123"}}},
		{name: "no tasks", mutate: func(e *execution.Execution) { e.Spec.Tasks = nil },
			want: []wantErr{{field.ErrorTypeRequired, "spec.tasks", "at least one task"}}},
		{name: "task name missing", mutate: func(e *execution.Execution) { e.Spec.Tasks[0].Name = "" },
			want: []wantErr{
				{field.ErrorTypeRequired, "spec.tasks[0].name", "needs a name"},
				{field.ErrorTypeNotFound, "spec.tasks[1].dependents[0].target", `unknown task "a"`},
			}},
		{name: "task name with uppercase and dot", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[1].Name = "B.x"
		}, want: []wantErr{{field.ErrorTypeInvalid, "spec.tasks[1].name", "RFC 1123"}}},
		{name: "duplicate task names", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[1].Name = "a"
			e.Spec.Tasks[1].Dependents = nil
		}, want: []wantErr{{field.ErrorTypeDuplicate, "spec.tasks[1].name", `"a"`}}},
		{name: "unsupported task type", mutate: func(e *execution.Execution) { e.Spec.Tasks[0].Type = "Pod" },
			want: []wantErr{{field.ErrorTypeNotSupported, "spec.tasks[0].type", `"Job"`}}},
		{name: "image missing", mutate: func(e *execution.Execution) { e.Spec.Tasks[0].Image = " " },
			want: []wantErr{{field.ErrorTypeRequired, "spec.tasks[0].image", "container image"}}},
		{name: "no commands", mutate: func(e *execution.Execution) { e.Spec.Tasks[0].Commands = nil },
			want: []wantErr{{field.ErrorTypeRequired, "spec.tasks[0].commands", "at least one command"}}},
		{name: "empty command", mutate: func(e *execution.Execution) { e.Spec.Tasks[0].Commands[1] = "" },
			want: []wantErr{{field.ErrorTypeRequired, "spec.tasks[0].commands[1]", "may not be empty"}}},
		{name: "command over the length cap", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0].Commands[0] = strings.Repeat("x", 101)
		}, opts: func(o *Options) { o.MaxCommandLength = 100 },
			want: []wantErr{{field.ErrorTypeTooLong, "spec.tasks[0].commands[0]", "may not be more than 100 bytes"}}},
		{name: "jobs over the per-execution cap", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0] = task("a", 3)
		}, opts: func(o *Options) { o.MaxJobs = 4 },
			want: []wantErr{{field.ErrorTypeTooMany, "spec.tasks", "the execution has 5 jobs (commands in all tasks), at most 4 are allowed"}}},
		{name: "one task over the cap", mutate: func(e *execution.Execution) {
			e.Spec.Tasks = []execution.Task{task("a", 5)}
		}, opts: func(o *Options) { o.MaxJobs = 4 },
			want: []wantErr{
				{field.ErrorTypeTooMany, "spec.tasks[0].commands", "the task has 5 commands"},
				{field.ErrorTypeTooMany, "spec.tasks", "at most 4 are allowed"},
			}},
		{name: "unknown target", mutate: func(e *execution.Execution) { e.Spec.Tasks[1].Dependents[0].Target = "x" },
			want: []wantErr{{field.ErrorTypeNotFound, "spec.tasks[1].dependents[0].target", `task "b" depends on unknown task "x"`}}},
		{name: "self dependency", mutate: func(e *execution.Execution) { e.Spec.Tasks[1].Dependents[0].Target = "b" },
			want: []wantErr{{field.ErrorTypeInvalid, "spec.tasks[1].dependents[0].target", `task "b" depends on itself`}}},
		{name: "duplicate dependency", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[1].Dependents = append(e.Spec.Tasks[1].Dependents, dep("a", execution.DependTypeIterate))
		}, want: []wantErr{{field.ErrorTypeDuplicate, "spec.tasks[1].dependents[1].target", `"a"`}}},
		{name: "unsupported dependency type", mutate: func(e *execution.Execution) { e.Spec.Tasks[1].Dependents[0].Type = "some" },
			want: []wantErr{{field.ErrorTypeNotSupported, "spec.tasks[1].dependents[0].type", `"whole", "iterate"`}}},
		{name: "two-task cycle names the cycle", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0].Dependents = []execution.Dependent{dep("b", execution.DependTypeWhole)}
		}, want: []wantErr{{field.ErrorTypeInvalid, "spec.tasks[", "dependency cycle: "}}},
		{name: "three-task cycle names every task", mutate: func(e *execution.Execution) {
			e.Spec.Tasks = []execution.Task{
				task("a", 1, dep("c", execution.DependTypeWhole)),
				task("b", 1, dep("a", execution.DependTypeWhole)),
				task("c", 1, dep("b", execution.DependTypeWhole)),
			}
		}, want: []wantErr{{field.ErrorTypeInvalid, "spec.tasks[", "-> "}}},
		{name: "iterate length mismatch names both tasks and counts", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[1] = task("b", 3, dep("a", execution.DependTypeIterate))
		}, want: []wantErr{{field.ErrorTypeInvalid, "spec.tasks[1].dependents[0].target",
			`iterate dependency requires equal job counts: task "b" has 3 jobs, task "a" has 2`}}},
		{name: "job name too long", mutate: func(e *execution.Execution) {
			e.Name = strings.Repeat("e", 40)
			e.Spec.Tasks[1].Name = strings.Repeat("b", 22) // 40+1+22+1+1 = 65
		}, want: []wantErr{{field.ErrorTypeInvalid, "spec.tasks[1].name", "would be 65 characters, 2 more than the 63 allowed"}}},
		{name: "volume with relative path, bad pvc and bad name", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0].Volumes = map[string]execution.Volume{
				"Vol_1": {MountPath: "data", MountFrom: execution.VolumeSource{PVC: "Bad PVC"}},
			}
		}, want: []wantErr{
			{field.ErrorTypeInvalid, "spec.tasks[0].volumes[Vol_1]", "volume name"},
			{field.ErrorTypeInvalid, "spec.tasks[0].volumes[Vol_1].mountPath", "absolute path"},
			{field.ErrorTypeInvalid, "spec.tasks[0].volumes[Vol_1].mountFrom.pvc", "RFC 1123"},
		}},
		{name: "commandsIter is valid", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0].Commands = nil
			e.Spec.Tasks[0].CommandsIter = &execution.CommandsIter{Command: "bwa mem ${1} ${2} # $${3}", VarsIter: [][]string{{"s1"}, {"c1", "c2"}}}
		}},
		{name: "commands and commandsIter", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0].CommandsIter = &execution.CommandsIter{Command: "echo ${1}", VarsIter: [][]string{{"a", "b"}}}
		}, want: []wantErr{{field.ErrorTypeForbidden, "spec.tasks[0].commandsIter", "either commands or commandsIter"}}},
		{name: "commandsIter mistakes", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0].Commands = nil
			e.Spec.Tasks[0].CommandsIter = &execution.CommandsIter{Command: "echo ${1} ${3} ${3}", VarsIter: [][]string{{"a"}, {}}}
		}, want: []wantErr{
			{field.ErrorTypeRequired, "spec.tasks[0].commandsIter.varsIter[1]", "may not be empty"},
			{field.ErrorTypeInvalid, "spec.tasks[0].commandsIter.command", "${3} has no list: varsIter has 2 (write $${3} for a literal ${3})"},
		}},
		{name: "commandsIter without lists or command", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0].Commands = nil
			e.Spec.Tasks[0].CommandsIter = &execution.CommandsIter{Command: " "}
		}, want: []wantErr{
			{field.ErrorTypeRequired, "spec.tasks[0].commandsIter.command", "may not be empty"},
			{field.ErrorTypeRequired, "spec.tasks[0].commandsIter.varsIter", "at least one list"},
		}},
		{name: "commandsIter over the job cap, without overflow", mutate: func(e *execution.Execution) {
			big := make([]string, 100000)
			for i := range big {
				big[i] = "v"
			}
			e.Spec.Tasks[0].Commands = nil
			e.Spec.Tasks[0].CommandsIter = &execution.CommandsIter{Command: "echo ${1} ${2} ${3}", VarsIter: [][]string{big, big, big}}
		}, want: []wantErr{
			{field.ErrorTypeTooMany, "spec.tasks[0].commandsIter.varsIter", "the lists (of 100000 × 100000 × 100000 values) make more than 2147483647 jobs"},
			{field.ErrorTypeTooMany, "spec.tasks", "at most 100000 are allowed"},
		}},
		{name: "commandsIter commands too long", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0].Commands = nil
			e.Spec.Tasks[0].CommandsIter = &execution.CommandsIter{Command: "echo ${1}", VarsIter: [][]string{{"a", strings.Repeat("x", 40000)}}}
		}, want: []wantErr{{field.ErrorTypeInvalid, "spec.tasks[0].commandsIter.command", "the command is 40005 bytes"}}},
		{name: "commandsIter job count in iterate and job names", mutate: func(e *execution.Execution) {
			e.Name = "exec-" + strings.Repeat("n", 54)
			e.Spec.Tasks[0].Commands = nil
			e.Spec.Tasks[0].CommandsIter = &execution.CommandsIter{Command: "echo ${1}${2}", VarsIter: [][]string{{"a", "b", "c"}, {"x", "y", "z", "w"}}}
			e.Spec.Tasks[1].Dependents[0].Type = execution.DependTypeIterate
		}, want: []wantErr{
			{field.ErrorTypeInvalid, "spec.tasks[0].name", "would be 64 characters"},
			{field.ErrorTypeInvalid, "spec.tasks[1].dependents[0].target", `task "b" has 2 jobs, task "a" has 12`},
		}},
		{name: "control fields", mutate: func(e *execution.Execution) {
			e.Spec.FailurePolicy = "KeepGoing"
			e.Spec.ActiveDeadlineSeconds = ptr.To[int64](0)
			e.Spec.TTLSecondsAfterFinished = ptr.To[int32](-1)
			e.Spec.JobCleanup = "Always"
		}, want: []wantErr{
			{field.ErrorTypeNotSupported, "spec.failurePolicy", `"FailFast", "ContinueIndependent"`},
			{field.ErrorTypeNotSupported, "spec.jobCleanup", `"Never", "OnJobSuccess"`},
			{field.ErrorTypeInvalid, "spec.activeDeadlineSeconds", "greater than zero"},
			{field.ErrorTypeInvalid, "spec.ttlSecondsAfterFinished", "greater than or equal to 0"},
		}},
		{name: "control fields set", mutate: func(e *execution.Execution) {
			e.Spec.Suspend = ptr.To(true)
			e.Spec.FailurePolicy = execution.ContinueIndependent
			e.Spec.ActiveDeadlineSeconds = ptr.To[int64](60)
			e.Spec.TTLSecondsAfterFinished = ptr.To[int32](0)
			e.Spec.JobCleanup = execution.JobCleanupOnJobSuccess
		}},
		{name: "volume missing path and pvc", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0].Volumes = map[string]execution.Volume{"v": {}}
		}, want: []wantErr{
			{field.ErrorTypeRequired, "spec.tasks[0].volumes[v].mountPath", "mount path"},
			{field.ErrorTypeRequired, "spec.tasks[0].volumes[v].mountFrom.pvc", "PersistentVolumeClaim"},
		}},
		{name: "two volumes on one mount path", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0].Volumes = map[string]execution.Volume{
				"v1": {MountPath: "/data", MountFrom: execution.VolumeSource{PVC: "p"}},
				"v2": {MountPath: "/data/", MountFrom: execution.VolumeSource{PVC: "p"}},
			}
		}, want: []wantErr{{field.ErrorTypeInvalid, "spec.tasks[0].volumes[v2].mountPath", `already the mount path of volume "v1"`}}},
		{name: "negative resources", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0].Resources = &execution.ResourceRequirements{CPU: ptr.To(resource.MustParse("-1")), Memory: ptr.To(resource.MustParse("1Gi"))}
		}, want: []wantErr{{field.ErrorTypeInvalid, "spec.tasks[0].resources.cpu", "greater than or equal to 0"}}},
		{name: "negative parallelism and backoff, zero deadline", mutate: func(e *execution.Execution) {
			e.Spec.Parallelism = ptr.To[int64](-1)
			e.Spec.Tasks[0].Parallelism = ptr.To[int64](-2)
			e.Spec.Tasks[0].BackoffLimit = ptr.To[int32](-1)
			e.Spec.Tasks[0].ActiveDeadlineSeconds = ptr.To[int64](0)
		}, want: []wantErr{
			{field.ErrorTypeInvalid, "spec.parallelism", "greater than or equal to 0"},
			{field.ErrorTypeInvalid, "spec.tasks[0].parallelism", "greater than or equal to 0"},
			{field.ErrorTypeInvalid, "spec.tasks[0].backoffLimit", "greater than or equal to 0"},
			{field.ErrorTypeInvalid, "spec.tasks[0].activeDeadlineSeconds", "greater than zero"},
		}},
		{name: "bad node selector and tolerations", mutate: func(e *execution.Execution) {
			e.Spec.NodeSelector = map[string]string{"bad key!": "v"}
			e.Spec.Tasks[0].Tolerations = []corev1.Toleration{
				{Operator: "Maybe"},
				{Key: "k", Operator: corev1.TolerationOpExists, Value: "v", Effect: "Sometimes"},
			}
		}, want: []wantErr{
			{field.ErrorTypeInvalid, "spec.nodeSelector", "bad key!"},
			{field.ErrorTypeNotSupported, "spec.tasks[0].tolerations[0].operator", `"Exists"`},
			{field.ErrorTypeInvalid, "spec.tasks[0].tolerations[1].value", "empty when operator is Exists"},
			{field.ErrorTypeNotSupported, "spec.tasks[0].tolerations[1].effect", `"NoSchedule"`},
		}},
		{name: "every problem is reported at once", mutate: func(e *execution.Execution) {
			e.Spec.Tasks[0].Image = ""
			e.Spec.Tasks[1] = task("b", 3, dep("a", execution.DependTypeIterate), dep("zz", execution.DependTypeWhole))
		}, want: []wantErr{
			{field.ErrorTypeRequired, "spec.tasks[0].image", ""},
			{field.ErrorTypeInvalid, "spec.tasks[1].dependents[0].target", "equal job counts"},
			{field.ErrorTypeNotFound, "spec.tasks[1].dependents[1].target", `unknown task "zz"`},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := seedWhole()
			tc.mutate(e)
			opts := DefaultOptions()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			assertErrors(t, ValidateExecution(e, opts), tc.want)
		})
	}
}

// restricted is a security context Pod Security "restricted" accepts.
func restricted() *execution.SecurityContext {
	return &execution.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		RunAsUser:                ptr.To[int64](1000),
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// TestValidateSecurityContext: spec.securityContext and
// spec.tasks[i].securityContext refuse what Pod Security "restricted" could
// never accept, or what is malformed, at the exact field.
func TestValidateSecurityContext(t *testing.T) {
	const baselineList = `supported values: "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"`
	cases := []struct {
		name   string
		mutate func(e *execution.Execution)
		want   []wantErr
	}{
		{name: "restricted on the spec, overridden by a task", mutate: func(e *execution.Execution) {
			e.Spec.SecurityContext = restricted()
			e.Spec.Tasks[1].SecurityContext = &execution.SecurityContext{
				RunAsUser:              ptr.To[int64](2000),
				RunAsGroup:             ptr.To[int64](0),
				FSGroup:                ptr.To[int64](3000),
				SupplementalGroups:     []int64{0, 4000},
				ReadOnlyRootFilesystem: ptr.To(true),
				Capabilities:           &corev1.Capabilities{Add: []corev1.Capability{"NET_BIND_SERVICE", "CHOWN"}, Drop: []corev1.Capability{"ALL"}},
				SeccompProfile:         &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("profiles/audit.json")},
			}
		}},
		{name: "empty security contexts", mutate: func(e *execution.Execution) {
			e.Spec.SecurityContext = &execution.SecurityContext{}
			e.Spec.Tasks[0].SecurityContext = &execution.SecurityContext{}
		}},
		{name: "runAsUser 0 alone is for admission to judge", mutate: func(e *execution.Execution) {
			e.Spec.SecurityContext = &execution.SecurityContext{RunAsUser: ptr.To[int64](0), RunAsNonRoot: ptr.To(false)}
		}},
		{name: "negative IDs", mutate: func(e *execution.Execution) {
			e.Spec.SecurityContext = &execution.SecurityContext{
				RunAsUser: ptr.To[int64](-1), RunAsGroup: ptr.To[int64](-2), FSGroup: ptr.To[int64](-3), SupplementalGroups: []int64{1, -4},
			}
			e.Spec.Tasks[1].SecurityContext = &execution.SecurityContext{SupplementalGroups: []int64{-5}}
		}, want: []wantErr{
			{field.ErrorTypeInvalid, "spec.securityContext.runAsUser", "greater than or equal to 0"},
			{field.ErrorTypeInvalid, "spec.securityContext.runAsGroup", "greater than or equal to 0"},
			{field.ErrorTypeInvalid, "spec.securityContext.fsGroup", "greater than or equal to 0"},
			{field.ErrorTypeInvalid, "spec.securityContext.supplementalGroups[1]", "greater than or equal to 0"},
			{field.ErrorTypeInvalid, "spec.tasks[1].securityContext.supplementalGroups[0]", "greater than or equal to 0"},
		}},
		{name: "seccomp Unconfined, unknown and empty types", mutate: func(e *execution.Execution) {
			e.Spec.SecurityContext = &execution.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}}
			e.Spec.Tasks[0].SecurityContext = &execution.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: "Strict"}}
			e.Spec.Tasks[1].SecurityContext = &execution.SecurityContext{SeccompProfile: &corev1.SeccompProfile{}}
		}, want: []wantErr{
			{field.ErrorTypeNotSupported, "spec.securityContext.seccompProfile.type", `supported values: "RuntimeDefault", "Localhost"`},
			{field.ErrorTypeNotSupported, "spec.tasks[0].securityContext.seccompProfile.type", `"Strict": supported values: "RuntimeDefault", "Localhost"`},
			{field.ErrorTypeRequired, "spec.tasks[1].securityContext.seccompProfile.type", "RuntimeDefault or Localhost"},
		}},
		{name: "seccomp localhostProfile only with Localhost, relative, descending", mutate: func(e *execution.Execution) {
			e.Spec.SecurityContext = &execution.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault, LocalhostProfile: ptr.To("p.json")}}
			e.Spec.Tasks[0].SecurityContext = &execution.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost}}
			e.Spec.Tasks[1].SecurityContext = &execution.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("/etc/p.json")}}
		}, want: []wantErr{
			{field.ErrorTypeForbidden, "spec.securityContext.seccompProfile.localhostProfile", "only be set when type is Localhost"},
			{field.ErrorTypeRequired, "spec.tasks[0].securityContext.seccompProfile.localhostProfile", "when type is Localhost"},
			{field.ErrorTypeInvalid, "spec.tasks[1].securityContext.seccompProfile.localhostProfile", "relative path"},
		}},
		{name: "seccomp localhostProfile going up", mutate: func(e *execution.Execution) {
			e.Spec.SecurityContext = &execution.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("a/../../p.json")}}
		}, want: []wantErr{{field.ErrorTypeInvalid, "spec.securityContext.seccompProfile.localhostProfile", "must not contain '..'"}}},
		{name: "capabilities beyond baseline", mutate: func(e *execution.Execution) {
			e.Spec.SecurityContext = &execution.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_RAW"}}}
			e.Spec.Tasks[0].SecurityContext = &execution.SecurityContext{Capabilities: &corev1.Capabilities{
				Add: []corev1.Capability{"CHOWN", "SYS_ADMIN", "KILL", "CAP_KILL"}, Drop: []corev1.Capability{"ALL"},
			}}
		}, want: []wantErr{
			{field.ErrorTypeNotSupported, "spec.securityContext.capabilities.add[0]", `"NET_RAW": ` + baselineList},
			{field.ErrorTypeNotSupported, "spec.tasks[0].securityContext.capabilities.add[1]", `"SYS_ADMIN": ` + baselineList},
			{field.ErrorTypeNotSupported, "spec.tasks[0].securityContext.capabilities.add[3]", `"CAP_KILL": ` + baselineList},
		}},
		{name: "runAsNonRoot with runAsUser 0", mutate: func(e *execution.Execution) {
			e.Spec.SecurityContext = &execution.SecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](0)}
			// Within the task too; and since it sets both, the spec's do not count.
			e.Spec.Tasks[1].SecurityContext = &execution.SecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](0)}
		}, want: []wantErr{
			{field.ErrorTypeInvalid, "spec.securityContext.runAsNonRoot", "may not be true when runAsUser is 0"},
			{field.ErrorTypeInvalid, "spec.tasks[1].securityContext.runAsNonRoot", "may not be true when runAsUser is 0"},
		}},
		{name: "a task's runAsUser 0 under the spec's runAsNonRoot", mutate: func(e *execution.Execution) {
			e.Spec.SecurityContext = restricted()
			e.Spec.Tasks[0].SecurityContext = &execution.SecurityContext{RunAsUser: ptr.To[int64](0)}
			// Overriding runAsNonRoot too is fine (admission judges).
			e.Spec.Tasks[1].SecurityContext = &execution.SecurityContext{RunAsUser: ptr.To[int64](0), RunAsNonRoot: ptr.To(false)}
		}, want: []wantErr{
			{field.ErrorTypeInvalid, "spec.tasks[0].securityContext.runAsUser", "may not be 0 (root) when spec.securityContext.runAsNonRoot is true"},
		}},
		{name: "a task's runAsNonRoot under the spec's runAsUser 0", mutate: func(e *execution.Execution) {
			e.Spec.SecurityContext = &execution.SecurityContext{RunAsUser: ptr.To[int64](0)}
			e.Spec.Tasks[0].SecurityContext = &execution.SecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](1000)}
			e.Spec.Tasks[1].SecurityContext = &execution.SecurityContext{RunAsNonRoot: ptr.To(true)}
		}, want: []wantErr{
			{field.ErrorTypeInvalid, "spec.tasks[1].securityContext.runAsNonRoot", "may not be true when spec.securityContext.runAsUser is 0"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := seedWhole()
			tc.mutate(e)
			got := ValidateExecution(e, DefaultOptions())
			assertErrors(t, got, tc.want)
			for i, w := range tc.want {
				if got[i].Field != w.field {
					t.Errorf("error %d is on %s, want exactly %s", i, got[i].Field, w.field)
				}
			}
		})
	}
}

func assertErrors(t *testing.T, got field.ErrorList, want []wantErr) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(got), len(want), got.ToAggregate())
	}
	for i, w := range want {
		g := got[i]
		if g.Type != w.typ || !strings.HasPrefix(g.Field, w.field) || !strings.Contains(g.Error(), w.detail) {
			t.Errorf("error %d = %q (type %s), want type %s, field %s…, containing %q", i, g.Error(), g.Type, w.typ, w.field, w.detail)
		}
	}
}

func TestValidateExecutionUpdate(t *testing.T) {
	old := seedWhole()
	old.ResourceVersion = "1"

	same := old.DeepCopy()
	same.Labels = map[string]string{"team": "genomics"}
	assertErrors(t, ValidateExecutionUpdate(same, old), nil)

	changed := old.DeepCopy()
	changed.Spec.Tasks[0].Commands[0] = "echo changed"
	assertErrors(t, ValidateExecutionUpdate(changed, old), []wantErr{{field.ErrorTypeForbidden, "spec", "immutable"}})

	// spec.suspend is the one mutable field of the spec.
	suspended := old.DeepCopy()
	suspended.Spec.Suspend = ptr.To(true)
	assertErrors(t, ValidateExecutionUpdate(suspended, old), nil)
	resumed := suspended.DeepCopy()
	resumed.Spec.Suspend = ptr.To(false)
	assertErrors(t, ValidateExecutionUpdate(resumed, suspended), nil)
	suspendedAndChanged := suspended.DeepCopy()
	suspendedAndChanged.Spec.ActiveDeadlineSeconds = ptr.To[int64](5)
	assertErrors(t, ValidateExecutionUpdate(suspendedAndChanged, old), []wantErr{{field.ErrorTypeForbidden, "spec", "except spec.suspend"}})
}

func TestValidateExecutionStatusUpdate(t *testing.T) {
	old := seedWhole()
	old.ResourceVersion = "1"
	cases := []struct {
		name   string
		status execution.ExecutionStatus
		want   []wantErr
	}{
		{name: "valid progress", status: execution.ExecutionStatus{Phase: execution.PhaseRunning, Tasks: []execution.TaskStatus{
			{Name: "a", Created: "0-1", Succeeded: "0-1"}, {Name: "b", Created: "0", Failed: "1"},
		}}},
		{name: "unknown phase", status: execution.ExecutionStatus{Phase: "Done"},
			want: []wantErr{{field.ErrorTypeNotSupported, "status.phase", `"Succeeded"`}}},
		{name: "unknown task", status: execution.ExecutionStatus{Tasks: []execution.TaskStatus{{Name: "x"}}},
			want: []wantErr{{field.ErrorTypeNotFound, "status.tasks[0].name", `"x"`}}},
		{name: "duplicate task", status: execution.ExecutionStatus{Tasks: []execution.TaskStatus{{Name: "a"}, {Name: "a"}}},
			want: []wantErr{{field.ErrorTypeDuplicate, "status.tasks[1].name", `"a"`}}},
		{name: "malformed set", status: execution.ExecutionStatus{Tasks: []execution.TaskStatus{{Name: "a", Created: "1-0"}}},
			want: []wantErr{{field.ErrorTypeInvalid, "status.tasks[0].created", ""}}},
		{name: "index out of range", status: execution.ExecutionStatus{Tasks: []execution.TaskStatus{{Name: "b", Succeeded: "0-2"}}},
			want: []wantErr{{field.ErrorTypeInvalid, "status.tasks[0].succeeded", "index 2 is out of range: the task has 2 jobs"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := old.DeepCopy()
			e.Status = tc.status
			assertErrors(t, ValidateExecutionStatusUpdate(e, old), tc.want)
		})
	}
}

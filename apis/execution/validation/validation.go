// Package validation checks Executions at admission, so that a workflow that
// could never run (a cycle, an unknown target, an iterate dependency between
// tasks of different sizes, a job name Kubernetes would refuse) is refused by
// `kubectl apply` with field paths, instead of failing later in the controller.
package validation

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/pkg/dag"
	"kubegene.io/kubegene/pkg/indexset"
)

const (
	// DefaultMaxJobs is the default cap on the number of jobs (commands) of
	// one Execution.
	DefaultMaxJobs = 100000
	// DefaultMaxCommandLength is the default cap on the length of one command,
	// in bytes. Each command ends up in a Job and its Pod.
	DefaultMaxCommandLength = 32 * 1024
	// maxJobNameLength is the longest Job name whose `job-name` pod label
	// value and container name are still valid: a DNS-1123 label.
	maxJobNameLength = utilvalidation.DNS1123LabelMaxLength
)

// Options are the limits that the server operator may configure.
type Options struct {
	// MaxJobs caps the number of jobs of one Execution.
	MaxJobs int
	// MaxCommandLength caps the length of one command, in bytes.
	MaxCommandLength int
}

// DefaultOptions returns the default limits.
func DefaultOptions() Options {
	return Options{MaxJobs: DefaultMaxJobs, MaxCommandLength: DefaultMaxCommandLength}
}

// ValidateExecutionName checks that an Execution name is a DNS-1123 label: it
// is the first segment of every Job name, which may not contain more dots.
func ValidateExecutionName(name string, prefix bool) []string {
	return apimachineryvalidation.NameIsDNSLabel(name, prefix)
}

// ValidateExecution checks a new Execution and reports every problem at once.
func ValidateExecution(e *execution.Execution, opts Options) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&e.ObjectMeta, true, ValidateExecutionName, field.NewPath("metadata"))
	allErrs = append(allErrs, validateSpec(e.Name, &e.Spec, opts, field.NewPath("spec"))...)
	return allErrs
}

// ValidateExecutionUpdate checks an update of the main resource: of the
// spec, only suspend may change; metadata may.
func ValidateExecutionUpdate(newE, oldE *execution.Execution) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newE.ObjectMeta, &oldE.ObjectMeta, field.NewPath("metadata"))
	newSpec, oldSpec := newE.Spec, oldE.Spec
	newSpec.Suspend, oldSpec.Suspend = nil, nil
	if !apiequality.Semantic.DeepEqual(newSpec, oldSpec) {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("spec"), "spec is immutable after the execution is created, except spec.suspend"))
	}
	return allErrs
}

// ValidateExecutionStatusUpdate checks a write to the status subresource: the
// stored task states must name tasks of the spec and hold well-formed index
// sets within each task's job count.
func ValidateExecutionStatusUpdate(newE, oldE *execution.Execution) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newE.ObjectMeta, &oldE.ObjectMeta, field.NewPath("metadata"))
	statusPath := field.NewPath("status")
	switch newE.Status.Phase {
	case "", execution.PhasePending, execution.PhaseRunning, execution.PhaseSucceeded, execution.PhaseFailed:
	default:
		allErrs = append(allErrs, field.NotSupported(statusPath.Child("phase"), newE.Status.Phase,
			[]string{string(execution.PhasePending), string(execution.PhaseRunning), string(execution.PhaseSucceeded), string(execution.PhaseFailed)}))
	}
	jobs := make(map[string]int, len(newE.Spec.Tasks))
	for _, t := range execution.GraphTasks(&newE.Spec) {
		jobs[t.Name] = t.Jobs
	}
	seen := sets.New[string]()
	for i, ts := range newE.Status.Tasks {
		p := statusPath.Child("tasks").Index(i)
		n, ok := jobs[ts.Name]
		if !ok {
			allErrs = append(allErrs, field.NotFound(p.Child("name"), ts.Name))
			continue
		}
		if seen.Has(ts.Name) {
			allErrs = append(allErrs, field.Duplicate(p.Child("name"), ts.Name))
		}
		seen.Insert(ts.Name)
		for _, s := range []struct {
			name, value string
		}{{"created", ts.Created}, {"succeeded", ts.Succeeded}, {"failed", ts.Failed}, {"retrying", ts.Retrying}} {
			allErrs = append(allErrs, validateIndexSet(s.value, n, p.Child(s.name))...)
		}
	}
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(newE.Status.Attempts), statusPath.Child("attempts"))...)
	allErrs = append(allErrs, metav1validation.ValidateConditions(newE.Status.Conditions, statusPath.Child("conditions"))...)
	return allErrs
}

func validateIndexSet(value string, jobs int, fldPath *field.Path) field.ErrorList {
	set, err := indexset.Parse(value)
	if err != nil {
		return field.ErrorList{field.Invalid(fldPath, value, err.Error())}
	}
	last := -1
	set.EachInterval(func(_, l int) bool { last = l; return true })
	if last >= jobs {
		return field.ErrorList{field.Invalid(fldPath, value, fmt.Sprintf("index %d is out of range: the task has %d jobs", last, jobs))}
	}
	return nil
}

func validateSpec(name string, spec *execution.ExecutionSpec, opts Options, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	tasksPath := fldPath.Child("tasks")
	if len(spec.Tasks) == 0 {
		allErrs = append(allErrs, field.Required(tasksPath, "an execution needs at least one task"))
	}
	allErrs = append(allErrs, validatePlacement(spec.NodeSelector, spec.Tolerations, fldPath)...)
	if spec.Parallelism != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(*spec.Parallelism, fldPath.Child("parallelism"))...)
	}
	allErrs = append(allErrs, validateControl(spec, fldPath)...)
	allErrs = append(allErrs, validateSecurityContext(spec.SecurityContext, fldPath.Child("securityContext"))...)

	tasks := execution.GraphTasks(spec)
	totalJobs := 0
	for i := range spec.Tasks {
		allErrs = append(allErrs, validateTask(name, &spec.Tasks[i], opts, tasksPath.Index(i))...)
		allErrs = append(allErrs, validateInheritedRunAsNonRoot(spec.SecurityContext, spec.Tasks[i].SecurityContext, tasksPath.Index(i).Child("securityContext"))...)
		totalJobs += tasks[i].Jobs
	}
	if totalJobs > opts.MaxJobs {
		allErrs = append(allErrs, &field.Error{Type: field.ErrorTypeTooMany, Field: tasksPath.String(), BadValue: totalJobs,
			Detail: fmt.Sprintf("the execution has %d jobs (commands in all tasks), at most %d are allowed", totalJobs, opts.MaxJobs)})
		// The graph of an over-sized execution is not worth building.
		return allErrs
	}
	_, problems := dag.Build(name, tasks)
	for _, p := range problems {
		if p.Kind == dag.InvalidJobCount {
			// Empty and over-sized tasks are reported above, on their commands.
			continue
		}
		allErrs = append(allErrs, problemToFieldError(spec, p, tasksPath))
	}
	return allErrs
}

var (
	supportedFailurePolicies = []string{string(execution.FailFast), string(execution.ContinueIndependent)}
	supportedJobCleanups     = []string{string(execution.JobCleanupNever), string(execution.JobCleanupOnJobSuccess)}
)

// validateControl checks the fields that steer a run.
func validateControl(spec *execution.ExecutionSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch spec.FailurePolicy {
	case "", execution.FailFast, execution.ContinueIndependent: // unset is defaulted to FailFast
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("failurePolicy"), spec.FailurePolicy, supportedFailurePolicies))
	}
	switch spec.JobCleanup {
	case "", execution.JobCleanupNever, execution.JobCleanupOnJobSuccess: // unset is defaulted to Never
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("jobCleanup"), spec.JobCleanup, supportedJobCleanups))
	}
	if d := spec.ActiveDeadlineSeconds; d != nil && *d <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("activeDeadlineSeconds"), *d, "must be greater than zero"))
	}
	if ttl := spec.TTLSecondsAfterFinished; ttl != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*ttl), fldPath.Child("ttlSecondsAfterFinished"))...)
	}
	return allErrs
}

// problemToFieldError locates a graph problem on the field that causes it.
func problemToFieldError(spec *execution.ExecutionSpec, p dag.Problem, tasksPath *field.Path) *field.Error {
	taskPath := tasksPath.Index(p.Task)
	if p.Dependency < 0 {
		switch p.Kind {
		case dag.DuplicateTask:
			return field.Duplicate(taskPath.Child("name"), spec.Tasks[p.Task].Name)
		}
		return field.Invalid(taskPath, spec.Tasks[p.Task].Name, p.Message)
	}
	depPath := taskPath.Child("dependents").Index(p.Dependency)
	dep := spec.Tasks[p.Task].Dependents[p.Dependency]
	switch p.Kind {
	case dag.UnknownTarget:
		return &field.Error{Type: field.ErrorTypeNotFound, Field: depPath.Child("target").String(), BadValue: dep.Target, Detail: p.Message}
	case dag.InvalidDependencyType:
		return field.NotSupported(depPath.Child("type"), dep.Type, []string{string(execution.DependTypeWhole), string(execution.DependTypeIterate)})
	case dag.DuplicateDependency:
		return field.Duplicate(depPath.Child("target"), dep.Target)
	}
	return field.Invalid(depPath.Child("target"), dep.Target, p.Message)
}

func validateTask(executionName string, t *execution.Task, opts Options, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	namePath := fldPath.Child("name")
	if t.Name == "" {
		allErrs = append(allErrs, field.Required(namePath, "a task needs a name"))
	} else {
		for _, msg := range utilvalidation.IsDNS1123Label(t.Name) {
			allErrs = append(allErrs, field.Invalid(namePath, t.Name, msg))
		}
	}
	if t.Type != execution.TaskTypeJob {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("type"), t.Type, []string{string(execution.TaskTypeJob)}))
	}
	if strings.TrimSpace(t.Image) == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("image"), "a task needs a container image"))
	}

	jobs, errs := validateCommands(t, opts, fldPath)
	allErrs = append(allErrs, errs...)
	if jobs > 0 && t.Name != "" && executionName != "" {
		longest := dag.JobName(executionName, t.Name, jobs-1)
		if over := len(longest) - maxJobNameLength; over > 0 {
			allErrs = append(allErrs, field.Invalid(namePath, t.Name, fmt.Sprintf(
				"job name %q would be %d characters, %d more than the %d allowed: shorten the execution or task name",
				longest, len(longest), over, maxJobNameLength)))
		}
	}

	allErrs = append(allErrs, validateVolumes(t.Volumes, fldPath.Child("volumes"))...)
	allErrs = append(allErrs, validateResources(t.Resources, fldPath.Child("resources"))...)
	allErrs = append(allErrs, validatePlacement(t.NodeSelector, t.Tolerations, fldPath)...)
	if t.Parallelism != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(*t.Parallelism, fldPath.Child("parallelism"))...)
	}
	if t.BackoffLimit != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*t.BackoffLimit), fldPath.Child("backoffLimit"))...)
	}
	if t.ActiveDeadlineSeconds != nil && *t.ActiveDeadlineSeconds <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("activeDeadlineSeconds"), *t.ActiveDeadlineSeconds, "must be greater than zero"))
	}
	allErrs = append(allErrs, validateSecurityContext(t.SecurityContext, fldPath.Child("securityContext"))...)
	return allErrs
}

var (
	supportedSeccompProfileTypes = []string{string(corev1.SeccompProfileTypeRuntimeDefault), string(corev1.SeccompProfileTypeLocalhost)}
	// baselineCapabilities are the capabilities Pod Security "baseline" lets
	// a container add (k8s.io/pod-security-admission, policy
	// check_capabilities_baseline.go); "restricted" allows NET_BIND_SERVICE
	// of them, and admission judges that.
	baselineCapabilities = []string{"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
		"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
	baselineCapabilitySet = sets.New(baselineCapabilities...)
)

// validateSecurityContext refuses what a job's security context could never
// be under Pod Security "restricted", or what is malformed: negative IDs, an
// Unconfined or unknown seccomp profile, a Localhost profile without its
// path, capabilities beyond "baseline", runAsNonRoot with runAsUser 0.
// Pod Security admission stays the judge of the rest (e.g. a missing
// runAsNonRoot), in the namespace's own level.
func validateSecurityContext(sc *execution.SecurityContext, fldPath *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var allErrs field.ErrorList
	if sc.RunAsUser != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(*sc.RunAsUser, fldPath.Child("runAsUser"))...)
	}
	if sc.RunAsGroup != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(*sc.RunAsGroup, fldPath.Child("runAsGroup"))...)
	}
	if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot && sc.RunAsUser != nil && *sc.RunAsUser == 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("runAsNonRoot"), true, "may not be true when runAsUser is 0 (root): no job could start"))
	}
	if sp := sc.SeccompProfile; sp != nil {
		allErrs = append(allErrs, validateSeccompProfile(sp, fldPath.Child("seccompProfile"))...)
	}
	if c := sc.Capabilities; c != nil {
		for i, name := range c.Add {
			if !baselineCapabilitySet.Has(string(name)) {
				allErrs = append(allErrs, field.NotSupported(fldPath.Child("capabilities", "add").Index(i), name, baselineCapabilities))
			}
		}
	}
	if sc.FSGroup != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(*sc.FSGroup, fldPath.Child("fsGroup"))...)
	}
	for i, g := range sc.SupplementalGroups {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(g, fldPath.Child("supplementalGroups").Index(i))...)
	}
	return allErrs
}

// validateSeccompProfile accepts RuntimeDefault, and Localhost with a
// relative path below the kubelet's seccomp directory, as core validation
// of pods does.
func validateSeccompProfile(sp *corev1.SeccompProfile, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	profilePath := fldPath.Child("localhostProfile")
	switch sp.Type {
	case corev1.SeccompProfileTypeLocalhost:
		switch {
		case sp.LocalhostProfile == nil || *sp.LocalhostProfile == "":
			allErrs = append(allErrs, field.Required(profilePath, "the profile's path when type is Localhost"))
		case path.IsAbs(*sp.LocalhostProfile):
			allErrs = append(allErrs, field.Invalid(profilePath, *sp.LocalhostProfile, "must be a relative path"))
		case slices.Contains(strings.Split(*sp.LocalhostProfile, "/"), ".."):
			allErrs = append(allErrs, field.Invalid(profilePath, *sp.LocalhostProfile, "must not contain '..'"))
		}
		return allErrs
	case "":
		allErrs = append(allErrs, field.Required(fldPath.Child("type"), "RuntimeDefault or Localhost"))
	case corev1.SeccompProfileTypeRuntimeDefault:
	default: // Unconfined too: Pod Security "restricted" refuses it
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("type"), sp.Type, supportedSeccompProfileTypes))
	}
	if sp.LocalhostProfile != nil {
		allErrs = append(allErrs, field.Forbidden(profilePath, "may only be set when type is Localhost"))
	}
	return allErrs
}

// validateInheritedRunAsNonRoot refuses a task whose effective security
// context — its own fields over the Execution's — has runAsNonRoot true and
// runAsUser 0 when the two come from different levels (each level alone is
// checked by validateSecurityContext). The error is on the task's field.
func validateInheritedRunAsNonRoot(specSC, taskSC *execution.SecurityContext, fldPath *field.Path) field.ErrorList {
	if specSC == nil || taskSC == nil {
		return nil
	}
	switch {
	case taskSC.RunAsUser != nil && *taskSC.RunAsUser == 0 && taskSC.RunAsNonRoot == nil &&
		specSC.RunAsNonRoot != nil && *specSC.RunAsNonRoot:
		return field.ErrorList{field.Invalid(fldPath.Child("runAsUser"), int64(0),
			"may not be 0 (root) when spec.securityContext.runAsNonRoot is true: no job could start")}
	case taskSC.RunAsNonRoot != nil && *taskSC.RunAsNonRoot && taskSC.RunAsUser == nil &&
		specSC.RunAsUser != nil && *specSC.RunAsUser == 0:
		return field.ErrorList{field.Invalid(fldPath.Child("runAsNonRoot"), true,
			"may not be true when spec.securityContext.runAsUser is 0 (root): no job could start")}
	}
	return nil
}

// validateCommands checks a task's commands or commandsIter and returns
// its number of jobs when they are valid (0 otherwise).
func validateCommands(t *execution.Task, opts Options, fldPath *field.Path) (int, field.ErrorList) {
	commandsPath, iterPath := fldPath.Child("commands"), fldPath.Child("commandsIter")
	if t.CommandsIter != nil {
		if len(t.Commands) > 0 {
			return 0, field.ErrorList{field.Forbidden(iterPath, "a task has either commands or commandsIter, not both")}
		}
		return validateCommandsIter(t.CommandsIter, opts, iterPath)
	}
	var allErrs field.ErrorList
	switch n := len(t.Commands); {
	case n == 0:
		return 0, field.ErrorList{field.Required(commandsPath, "a task needs at least one command, or commandsIter")}
	case n > opts.MaxJobs:
		return 0, field.ErrorList{&field.Error{Type: field.ErrorTypeTooMany, Field: commandsPath.String(), BadValue: n,
			Detail: fmt.Sprintf("the task has %d commands, at most %d jobs are allowed per execution", n, opts.MaxJobs)}}
	}
	for i, c := range t.Commands {
		switch {
		case strings.TrimSpace(c) == "":
			allErrs = append(allErrs, field.Required(commandsPath.Index(i), "a command may not be empty"))
		case len(c) > opts.MaxCommandLength:
			allErrs = append(allErrs, field.TooLong(commandsPath.Index(i), c, opts.MaxCommandLength))
		}
	}
	if len(allErrs) > 0 {
		return 0, allErrs
	}
	return len(t.Commands), nil
}

// validateCommandsIter checks a command template and its lists of values:
// every ${k} has a list, no list is empty, the number of combinations (jobs)
// is within the cap, and the longest command it can generate too.
func validateCommandsIter(it *execution.CommandsIter, opts Options, fldPath *field.Path) (int, field.ErrorList) {
	var allErrs field.ErrorList
	commandPath, varsPath := fldPath.Child("command"), fldPath.Child("varsIter")
	if strings.TrimSpace(it.Command) == "" {
		allErrs = append(allErrs, field.Required(commandPath, "the command template may not be empty"))
	}
	if len(it.VarsIter) == 0 {
		allErrs = append(allErrs, field.Required(varsPath, "commandsIter needs at least one list of values"))
	}
	for i, list := range it.VarsIter {
		if len(list) == 0 {
			allErrs = append(allErrs, field.Required(varsPath.Index(i), "a list of values may not be empty: it would make no job"))
		}
	}
	commands := dag.Commands{Iteration: &dag.Iteration{Template: it.Command, Vars: it.VarsIter}}
	seen := sets.New[int]()
	for _, k := range commands.Iteration.References() {
		if k > len(it.VarsIter) && !seen.Has(k) {
			seen.Insert(k)
			allErrs = append(allErrs, field.Invalid(commandPath, it.Command, fmt.Sprintf(
				"${%d} has no list: varsIter has %d (write $${%d} for a literal ${%d})", k, len(it.VarsIter), k, k)))
		}
	}
	if len(allErrs) > 0 {
		return 0, allErrs
	}
	jobs := commands.Len()
	if jobs > opts.MaxJobs {
		sizes := make([]string, len(it.VarsIter))
		for i, list := range it.VarsIter {
			sizes[i] = strconv.Itoa(len(list))
		}
		product := fmt.Sprintf("%d", jobs)
		if jobs > dag.MaxJobs {
			product = fmt.Sprintf("more than %d", dag.MaxJobs)
		}
		return 0, field.ErrorList{&field.Error{Type: field.ErrorTypeTooMany, Field: varsPath.String(), BadValue: jobs,
			Detail: fmt.Sprintf("the lists (of %s values) make %s jobs, at most %d are allowed per execution", strings.Join(sizes, " × "), product, opts.MaxJobs)}}
	}
	if longest := commands.MaxLen(); longest > opts.MaxCommandLength {
		return 0, field.ErrorList{field.Invalid(commandPath, it.Command, fmt.Sprintf(
			"with the longest values the command is %d bytes, more than the %d allowed", longest, opts.MaxCommandLength))}
	}
	return jobs, nil
}

func validateVolumes(volumes map[string]execution.Volume, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	mountPaths := make(map[string]string, len(volumes))
	for _, name := range sets.List(sets.KeySet(volumes)) {
		v := volumes[name]
		p := fldPath.Key(name)
		for _, msg := range utilvalidation.IsDNS1123Label(name) {
			allErrs = append(allErrs, field.Invalid(p, name, "volume name: "+msg))
		}
		mp := p.Child("mountPath")
		switch {
		case v.MountPath == "":
			allErrs = append(allErrs, field.Required(mp, "a volume needs a mount path"))
		case !path.IsAbs(v.MountPath):
			allErrs = append(allErrs, field.Invalid(mp, v.MountPath, "must be an absolute path"))
		default:
			clean := path.Clean(v.MountPath)
			if other, dup := mountPaths[clean]; dup {
				allErrs = append(allErrs, field.Invalid(mp, v.MountPath, fmt.Sprintf("already the mount path of volume %q", other)))
			}
			mountPaths[clean] = name
		}
		pvc := p.Child("mountFrom", "pvc")
		if v.MountFrom.PVC == "" {
			allErrs = append(allErrs, field.Required(pvc, "the name of a PersistentVolumeClaim"))
		} else {
			for _, msg := range utilvalidation.IsDNS1123Subdomain(v.MountFrom.PVC) {
				allErrs = append(allErrs, field.Invalid(pvc, v.MountFrom.PVC, msg))
			}
		}
	}
	return allErrs
}

func validateResources(r *execution.ResourceRequirements, fldPath *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var allErrs field.ErrorList
	for _, q := range []struct {
		name  string
		value *resource.Quantity
	}{{"cpu", r.CPU}, {"memory", r.Memory}} {
		if q.value != nil && q.value.Sign() < 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child(q.name), q.value.String(), "must be greater than or equal to 0"))
		}
	}
	return allErrs
}

var supportedTolerationOperators = []string{string(corev1.TolerationOpExists), string(corev1.TolerationOpEqual)}
var supportedTaintEffects = []string{string(corev1.TaintEffectNoSchedule), string(corev1.TaintEffectPreferNoSchedule), string(corev1.TaintEffectNoExecute)}

// validatePlacement checks node selectors and tolerations, which are copied
// into every Job; errors here would otherwise surface as Job creation failures.
func validatePlacement(nodeSelector map[string]string, tolerations []corev1.Toleration, fldPath *field.Path) field.ErrorList {
	allErrs := metav1validation.ValidateLabels(nodeSelector, fldPath.Child("nodeSelector"))
	for i, t := range tolerations {
		p := fldPath.Child("tolerations").Index(i)
		if t.Key != "" {
			allErrs = append(allErrs, metav1validation.ValidateLabelName(t.Key, p.Child("key"))...)
		}
		switch t.Operator {
		case "", corev1.TolerationOpEqual:
			if t.Key == "" {
				allErrs = append(allErrs, field.Invalid(p.Child("operator"), t.Operator, "must be Exists when key is empty"))
			}
		case corev1.TolerationOpExists:
			if t.Value != "" {
				allErrs = append(allErrs, field.Invalid(p.Child("value"), t.Value, "must be empty when operator is Exists"))
			}
		default:
			allErrs = append(allErrs, field.NotSupported(p.Child("operator"), t.Operator, supportedTolerationOperators))
		}
		switch t.Effect {
		case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			allErrs = append(allErrs, field.NotSupported(p.Child("effect"), t.Effect, supportedTaintEffects))
		}
	}
	return allErrs
}

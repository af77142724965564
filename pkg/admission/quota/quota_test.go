package quota

import (
	"testing"

	"k8s.io/apiserver/pkg/admission"
	quota "k8s.io/apiserver/pkg/quota/v1"

	"kubegene.io/kubegene/apis/execution"
)

// The configuration counts Executions, under the name ResourceQuotas use.
func TestConfigurationCountsExecutions(t *testing.T) {
	var found bool
	for _, e := range Configuration().Evaluators() {
		if e.GroupResource() == execution.Resource("executions") {
			found = true
			if !e.Handles(admission.NewAttributesRecord(nil, nil, execution.Kind("Execution").WithVersion("v1alpha1"), "ns", "x",
				execution.Resource("executions").WithVersion("v1alpha1"), "", admission.Create, nil, false, nil)) {
				t.Error("the evaluator does not handle the create of an Execution")
			}
		}
	}
	if !found {
		t.Fatal("no evaluator for executions.execution.kubegene.io")
	}
}

type wantsConfig struct {
	admission.Interface
	got quota.Configuration
}

func (w *wantsConfig) SetQuotaConfiguration(c quota.Configuration) { w.got = c }
func (w *wantsConfig) ValidateInitialization() error               { return nil }

func TestInitializerSetsConfiguration(t *testing.T) {
	p := &wantsConfig{}
	Initializer{}.Initialize(p)
	if p.got == nil || len(p.got.Evaluators()) != 1 {
		t.Errorf("configuration handed over: %v", p.got)
	}
}

package execution

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metatable "k8s.io/apimachinery/pkg/api/meta/table"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"kubegene.io/kubegene/apis/execution"
)

// tableConvertor prints Executions for `kubectl get executions`.
type tableConvertor struct{}

var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "Name of the execution."},
	{Name: "Phase", Type: "string", Description: "Pending, Running, Succeeded or Failed."},
	{Name: "Progress", Type: "string", Description: "Succeeded jobs out of all jobs."},
	{Name: "Age", Type: "string", Description: "Time since the execution was created."},
	{Name: "Tasks", Type: "integer", Priority: 1, Description: "Number of tasks."},
	{Name: "Suspended", Type: "boolean", Priority: 1, Description: "Whether spec.suspend holds new Jobs back."},
	{Name: "Message", Type: "string", Priority: 1, Description: "Summary of the execution's state."},
}

func (tableConvertor) ConvertToTable(ctx context.Context, obj runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	if opts, ok := tableOptions.(*metav1.TableOptions); !ok || !opts.NoHeaders {
		table.ColumnDefinitions = columns
	}
	rows, err := metatable.MetaToTableRow(obj, func(obj runtime.Object, _ metav1.Object, name, age string) ([]interface{}, error) {
		e, ok := obj.(*execution.Execution)
		if !ok {
			return nil, fmt.Errorf("cannot print %T as an execution", obj)
		}
		succeeded, total := progressSummary(e)
		suspended := e.Spec.Suspend != nil && *e.Spec.Suspend
		return []interface{}{name, string(e.Status.Phase), fmt.Sprintf("%d/%d", succeeded, total), age, int64(len(e.Spec.Tasks)), suspended, e.Status.Message}, nil
	})
	if err != nil {
		return nil, err
	}
	table.Rows = rows
	if m, err := meta.ListAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
		table.Continue = m.GetContinue()
		table.RemainingItemCount = m.GetRemainingItemCount()
	} else if m, err := meta.CommonAccessor(obj); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
	}
	return table, nil
}

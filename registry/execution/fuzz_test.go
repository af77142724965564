package execution

import (
	"testing"

	"kubegene.io/kubegene/apis/execution"
	"kubegene.io/kubegene/apis/execution/validation"
	"kubegene.io/kubegene/test/seed"
)

// FuzzAdmitAndRender feeds arbitrary bodies through what the server does
// with them: decode, default, convert, validate, build the graph, and render
// status. None of it may panic; a body that validates must have a graph.
func FuzzAdmitAndRender(f *testing.F) {
	for _, name := range seed.Examples {
		data, err := seed.Read(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"apiVersion":"execution.kubegene.io/v1alpha1","kind":"Execution","metadata":{"name":"x"},"spec":{"tasks":[{"name":"a","image":"i","commands":["c"],"dependents":[{"target":"a"}]}]}}`))
	f.Add([]byte(`{"apiVersion":"execution.kubegene.io/v1alpha1","kind":"Execution","metadata":{"name":"x"},"spec":{"tasks":null},"status":{"tasks":[{"name":"a","succeeded":"0-3,2"}]}}`))
	f.Add([]byte(`{"apiVersion":"execution.kubegene.io/v1alpha1","kind":"Execution","metadata":{"name":"x"},"spec":{"tasks":[{"name":"a","image":"i","commands":["c","d"]},{"name":"b","image":"i","commands":["e"],"dependents":[{"target":"a","type":"iterate"}]}]}}`))
	f.Add([]byte("apiVersion: execution.kubegene.io/v1alpha1\nkind: Execution\nmetadata: {name: x}\nspec: {tasks: [{name: a, image: i, commands: [c], volumes: {v: {mountPath: /x, mountFrom: {pvc: p}}}}]}\n"))
	f.Add([]byte(`{"apiVersion":"execution.kubegene.io/v1alpha1","kind":"Execution","metadata":{"name":"x"},"spec":{"tasks":[{"name":"a","image":"i","commandsIter":{"command":"echo ${1} ${2} $${3}","varsIter":[["s1","s2"],["c1","c2","c3"]]}},{"name":"b","image":"i","commands":["e","f","g","h","i","j"],"dependents":[{"target":"a","type":"iterate"}]}]}}`))
	f.Add([]byte(`{"apiVersion":"execution.kubegene.io/v1alpha1","kind":"Execution","metadata":{"name":"x"},"spec":{"tasks":[{"name":"a","image":"i","commands":["c"],"commandsIter":{"command":"${9}","varsIter":[[],["v"]]}}]}}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))

	decoder := testCodecs.UniversalDecoder(execution.SchemeGroupVersion)
	opts := validation.DefaultOptions()
	opts.MaxJobs = 1000
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, _, err := decoder.Decode(data, nil, nil)
		if err != nil {
			return
		}
		e, ok := obj.(*execution.Execution)
		if !ok {
			return
		}
		valid := len(validation.ValidateExecution(e, opts)) == 0
		g, problems := execution.BuildGraph(e)
		if valid && g == nil {
			t.Fatalf("valid execution without a graph: %v", problems)
		}
		_ = validation.ValidateExecutionStatusUpdate(e, e)
		r := newRenderer(DefaultRenderLimits())
		out := r.object(readOne, e).(*execution.Execution)
		if valid && g.TotalJobs() <= DefaultRenderLimits().MaxVertices && g.NumEdges() <= int64(DefaultRenderLimits().MaxEdges) &&
			len(out.Status.Vertices) != g.TotalJobs() {
			t.Fatalf("rendered %d vertices for %d jobs", len(out.Status.Vertices), g.TotalJobs())
		}
	})
}

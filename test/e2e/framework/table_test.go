package framework

import (
	"reflect"
	"testing"
)

func TestParseTable(t *testing.T) {
	out := "NAME           PHASE       PROGRESS   AGE   TASKS   MESSAGE\n" +
		"exec-iterate   Succeeded   4/4        38s   2       execution has run successfully\n" +
		"exec-volume    Pending     0/4        0s    2       \n" +
		"x              Running     1/4        1s\n"
	table, err := ParseTable(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"NAME", "PHASE", "PROGRESS", "AGE", "TASKS", "MESSAGE"}; !reflect.DeepEqual(table.Columns, want) {
		t.Errorf("columns %v", table.Columns)
	}
	want := []map[string]string{
		{"NAME": "exec-iterate", "PHASE": "Succeeded", "PROGRESS": "4/4", "AGE": "38s", "TASKS": "2", "MESSAGE": "execution has run successfully"},
		{"NAME": "exec-volume", "PHASE": "Pending", "PROGRESS": "0/4", "AGE": "0s", "TASKS": "2", "MESSAGE": ""},
		{"NAME": "x", "PHASE": "Running", "PROGRESS": "1/4", "AGE": "1s", "TASKS": "", "MESSAGE": ""},
	}
	if !reflect.DeepEqual(table.Rows, want) {
		t.Errorf("rows\n%v\nwant\n%v", table.Rows, want)
	}
	if r := table.Row("NAME", "exec-volume"); r == nil || r["PHASE"] != "Pending" {
		t.Errorf("Row: %v", r)
	}
	if _, err := ParseTable(""); err == nil {
		t.Error("empty output parsed")
	}
}

func TestExecutionManifest(t *testing.T) {
	got := ExecutionManifest("e", []string{"a", "b"}, map[string][]string{"a": {"echo a"}, "b": {`echo "b"`}}, map[string][]string{"b": {"a:iterate"}})
	want := `apiVersion: execution.kubegene.io/v1alpha1
kind: Execution
metadata:
  name: e
spec:
  tasks:
  - name: a
    type: Job
    image: busybox
    commands:
    - "echo a"
  - name: b
    type: Job
    image: busybox
    commands:
    - "echo \"b\""
    dependents:
    - target: a
      type: iterate
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

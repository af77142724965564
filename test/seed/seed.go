// Package seed holds what the user guide (the seed document) shows of its
// example Executions, so that every test compares against one copy of it.
package seed

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// Examples are the user guide's Executions, in artifacts/examples.
var Examples = []string{"exec-whole", "exec-iterate", "exec-volume"}

// Children are the children of every vertex as the user guide shows them
// (exec-volume's tasks depend like exec-whole's).
var Children = map[string][]string{
	"exec-whole.a.0":   {"exec-whole.b.0", "exec-whole.b.1"},
	"exec-whole.a.1":   {"exec-whole.b.0", "exec-whole.b.1"},
	"exec-whole.b.0":   nil,
	"exec-whole.b.1":   nil,
	"exec-iterate.a.0": {"exec-iterate.b.0"},
	"exec-iterate.a.1": {"exec-iterate.b.1"},
	"exec-iterate.b.0": nil,
	"exec-iterate.b.1": nil,
	"exec-volume.a.0":  {"exec-volume.b.0", "exec-volume.b.1"},
	"exec-volume.a.1":  {"exec-volume.b.0", "exec-volume.b.1"},
	"exec-volume.b.0":  nil,
	"exec-volume.b.1":  nil,
}

// Read returns the YAML of the named example, artifacts/examples/NAME.yaml,
// whatever the directory of the test that asks.
func Read(name string) ([]byte, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return nil, fmt.Errorf("locating the examples of %s: no caller information", name)
	}
	return os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "artifacts", "examples", name+".yaml"))
}

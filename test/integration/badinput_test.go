package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// badCase is one entry of test/testdata/bad/cases.yaml.
type badCase struct {
	File            string `json:"file"`
	Generate        string `json:"generate"`
	ContentType     string `json:"contentType"`
	FieldValidation string `json:"fieldValidation"`
	Code            int    `json:"code"`
	Message         string `json:"message"`
}

const badDir = "../testdata/bad"

func loadBadCases(t *testing.T) []badCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(badDir, "cases.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []badCase
	if err := yaml.UnmarshalStrict(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

// generatedBody builds the bodies too large to keep in the repository.
func generatedBody(t *testing.T, kind string) []byte {
	t.Helper()
	withCommands := func(name string, commands []string) []byte {
		quoted := make([]string, len(commands))
		for i, c := range commands {
			quoted[i] = fmt.Sprintf("%q", c)
		}
		return []byte(fmt.Sprintf(`{"apiVersion":"execution.kubegene.io/v1alpha1","kind":"Execution","metadata":{"name":%q},"spec":{"tasks":[{"name":"a","image":"ubuntu","commands":[%s]}]}}`,
			name, strings.Join(quoted, ",")))
	}
	switch kind {
	case "commands-100001":
		commands := make([]string, 100001)
		for i := range commands {
			commands[i] = fmt.Sprintf("echo %d", i)
		}
		return withCommands("many-commands", commands)
	case "command-40KiB":
		return withCommands("long-command", []string{"echo " + strings.Repeat("x", 40*1024)})
	case "body-4MiB":
		return withCommands("huge-body", []string{strings.Repeat("x", 4<<20)})
	case "nesting-20000":
		return []byte(`{"apiVersion":"execution.kubegene.io/v1alpha1","kind":"Execution","metadata":{"name":"deep"},"spec":{"tasks":[{"name":"a","image":"ubuntu","commands":["x"],"volumes":` +
			strings.Repeat(`{"v":`, 20000) + "1" + strings.Repeat("}", 20000) + `}]}}`)
	}
	t.Fatalf("unknown generated body %q", kind)
	return nil
}

// Every body of the bad input corpus gets the 4xx the corpus expects, with
// a clear message, nothing is stored, and memory stays bounded over rounds.
func TestBadInputCorpus(t *testing.T) {
	ts := startServer(t, "", nil)
	ctx := context.Background()
	cases := loadBadCases(t)
	bodies := make([][]byte, len(cases))
	for i, c := range cases {
		if c.Generate != "" {
			bodies[i] = generatedBody(t, c.Generate)
			continue
		}
		data, err := os.ReadFile(filepath.Join(badDir, c.File))
		if err != nil {
			t.Fatal(err)
		}
		bodies[i] = data
	}

	post := func(c badCase, body []byte) (int, string) {
		contentType := c.ContentType
		if contentType == "" {
			contentType = "application/json"
		}
		req := restClient(t, ts).Post().Namespace("default").Resource("executions").
			SetHeader("Content-Type", contentType).Body(body)
		if c.FieldValidation != "" {
			req = req.Param("fieldValidation", c.FieldValidation)
		}
		res := req.Do(ctx)
		var code int
		res.StatusCode(&code)
		raw, _ := res.Raw()
		// Compare with the Status message as a user reads it, unescaped.
		var status metav1.Status
		if err := json.Unmarshal(raw, &status); err == nil && status.Message != "" {
			return code, status.Message
		}
		return code, string(raw)
	}

	for i, c := range cases {
		name := c.File + c.Generate
		t.Run(name, func(t *testing.T) {
			code, body := post(c, bodies[i])
			if code != c.Code || !strings.Contains(body, c.Message) {
				t.Errorf("got %d %.400s\nwant %d containing %q", code, body, c.Code, c.Message)
			}
			if code >= 500 {
				t.Errorf("server error on user input")
			}
		})
	}

	// Memory: the whole corpus again, several times; the heap must not grow
	// with the number of bad requests.
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for round := 0; round < 5; round++ {
		for i, c := range cases {
			if code, body := post(c, bodies[i]); code >= 500 {
				t.Fatalf("round %d %s%s: %d %.300s", round, c.File, c.Generate, code, body)
			}
		}
	}
	if after := heap(); after > before+64<<20 {
		t.Errorf("heap grew from %d MiB to %d MiB over 5 rounds of bad input", before>>20, after>>20)
	}

	list, err := ts.Client.ExecutionV1alpha1().Executions("default").List(ctx, metav1.ListOptions{})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("bad input was stored: %v %d", err, len(list.Items))
	}
}

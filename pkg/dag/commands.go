package dag

import (
	"strconv"
	"strings"
)

// Commands says what the jobs of a task run: either a list, one command per
// job, or a template expanded over the combinations of lists of values
// (KubeGene's commandsIter). Job i's command is computed on demand by At:
// nothing holds all the commands of a 100,000-job task.
type Commands struct {
	// List is one command per job, when there is no Iteration.
	List []string
	// Iteration generates the commands instead of List.
	Iteration *Iteration
}

// Iteration is a command template expanded over lists of values.
type Iteration struct {
	// Template is the command with ${k} standing for a value of Vars[k-1];
	// $${k} is a literal ${k}.
	Template string
	// Vars are the lists of values; the first varies fastest with the job
	// index.
	Vars [][]string
}

// Iterated reports whether the commands come from a template.
func (c Commands) Iterated() bool { return c.Iteration != nil }

// Len is the number of jobs: the length of the list, or the product of the
// lengths of the lists of values, computed without overflow: a product
// above MaxJobs is reported as MaxJobs+1.
func (c Commands) Len() int {
	if !c.Iterated() {
		return len(c.List)
	}
	if len(c.Iteration.Vars) == 0 {
		return 0
	}
	n := int64(1)
	for _, v := range c.Iteration.Vars {
		n *= int64(len(v))
		if n > MaxJobs {
			return MaxJobs + 1
		}
	}
	return int(n)
}

// At returns the command of job i, or "" if there is none.
func (c Commands) At(i int) string {
	if !c.Iterated() {
		if i < 0 || i >= len(c.List) {
			return ""
		}
		return c.List[i]
	}
	if i < 0 || i >= c.Len() {
		return ""
	}
	vars := c.Iteration.Vars
	values := make([]string, len(vars))
	for k, v := range vars {
		values[k] = v[i%len(v)]
		i /= len(v)
	}
	var b strings.Builder
	for _, p := range parseTemplate(c.Iteration.Template) {
		if p.ref > 0 && p.ref <= len(values) {
			b.WriteString(values[p.ref-1])
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// MaxLen is the length of the longest command any job can get, without
// computing them: the template's text plus the longest value of each
// reference.
func (c Commands) MaxLen() int {
	if !c.Iterated() {
		longest := 0
		for _, s := range c.List {
			longest = max(longest, len(s))
		}
		return longest
	}
	n := 0
	vars := c.Iteration.Vars
	for _, p := range parseTemplate(c.Iteration.Template) {
		if p.ref > 0 && p.ref <= len(vars) {
			longest := 0
			for _, v := range vars[p.ref-1] {
				longest = max(longest, len(v))
			}
			n += longest
		} else {
			n += len(p.text)
		}
	}
	return n
}

// References lists the ${k} of the template, in order, with repeats.
func (it *Iteration) References() []int {
	var refs []int
	for _, p := range parseTemplate(it.Template) {
		if p.ref > 0 {
			refs = append(refs, p.ref)
		}
	}
	return refs
}

// templatePart is literal text, or a reference ${ref} when ref > 0.
type templatePart struct {
	text string
	ref  int
}

// parseTemplate splits a template into text and ${k} references. $${k} is
// the text ${k}; a "${" not followed by digits and "}" is text.
func parseTemplate(t string) []templatePart {
	var parts []templatePart
	var text strings.Builder
	for i := 0; i < len(t); {
		if strings.HasPrefix(t[i:], "$${") {
			if ref, n := parseRef(t[i+1:]); ref > 0 {
				text.WriteString(t[i+1 : i+1+n])
				i += 1 + n
				continue
			}
		}
		if strings.HasPrefix(t[i:], "${") {
			if ref, n := parseRef(t[i:]); ref > 0 {
				if text.Len() > 0 {
					parts = append(parts, templatePart{text: text.String()})
					text.Reset()
				}
				parts = append(parts, templatePart{text: t[i : i+n], ref: ref})
				i += n
				continue
			}
		}
		text.WriteByte(t[i])
		i++
	}
	if text.Len() > 0 {
		parts = append(parts, templatePart{text: text.String()})
	}
	return parts
}

// parseRef reads "${k}" at the start of s: k >= 1 and its length, or 0.
func parseRef(s string) (ref, n int) {
	end := strings.IndexByte(s, '}')
	if !strings.HasPrefix(s, "${") || end < 3 || end > 12 {
		return 0, 0
	}
	k, err := strconv.Atoi(s[2:end])
	if err != nil || k < 1 || s[2] == '0' || s[2] == '+' || s[2] == '-' {
		return 0, 0
	}
	return k, end + 1
}

package framework

import (
	"fmt"
	"strings"
)

// Table is kubectl's human-readable output (`get`, `api-resources`, ...):
// a header line of upper-case column names and one row per object, columns
// left-aligned by tabwriter.
type Table struct {
	Columns []string
	Rows    []map[string]string
}

// ParseTable splits kubectl's column output by the positions of the header's
// column names, so that empty cells and cells with spaces (MESSAGE) are read
// correctly; the last column takes the rest of the line.
func ParseTable(out string) (*Table, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		return nil, fmt.Errorf("no header line in %q", out)
	}
	header := lines[0]
	var starts []int
	t := &Table{}
	for i := 0; i < len(header); i++ {
		if header[i] != ' ' && (i == 0 || header[i-1] == ' ') {
			starts = append(starts, i)
			end := strings.IndexByte(header[i:], ' ')
			if end < 0 {
				end = len(header) - i
			}
			t.Columns = append(t.Columns, header[i:i+end])
		}
	}
	for _, line := range lines[1:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		row := map[string]string{}
		for c, start := range starts {
			if start >= len(line) {
				row[t.Columns[c]] = ""
				continue
			}
			end := len(line)
			if c+1 < len(starts) && starts[c+1] < end {
				end = starts[c+1]
			}
			row[t.Columns[c]] = strings.TrimSpace(line[start:end])
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// Row returns the row whose column col is value, or nil.
func (t *Table) Row(col, value string) map[string]string {
	for _, r := range t.Rows {
		if r[col] == value {
			return r
		}
	}
	return nil
}

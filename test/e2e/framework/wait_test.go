package framework

import (
	"math"
	"slices"
	"testing"
)

const sampleMetrics = `# HELP rest_client_request_duration_seconds [ALPHA] Request latency.
# TYPE rest_client_request_duration_seconds histogram
rest_client_request_duration_seconds_bucket{host="a:1",verb="POST",le="0.1"} 3
rest_client_request_duration_seconds_bucket{host="a:1",verb="POST",le="1"} 9
rest_client_request_duration_seconds_bucket{host="a:1",verb="POST",le="+Inf"} 10
rest_client_request_duration_seconds_sum{host="a:1",verb="POST"} 4.5
rest_client_request_duration_seconds_count{host="a:1",verb="POST"} 10
rest_client_request_duration_seconds_bucket{host="b:2",verb="POST",le="0.1"} 1
rest_client_request_duration_seconds_bucket{host="b:2",verb="POST",le="1"} 1
rest_client_request_duration_seconds_bucket{host="b:2",verb="POST",le="+Inf"} 2
rest_client_request_duration_seconds_sum{host="b:2",verb="POST"} 3
rest_client_request_duration_seconds_count{host="b:2",verb="POST"} 2
rest_client_request_duration_seconds_bucket{host="a:1",verb="GET",le="0.1"} 7
rest_client_request_duration_seconds_bucket{host="a:1",verb="GET",le="1"} 7
rest_client_request_duration_seconds_bucket{host="a:1",verb="GET",le="+Inf"} 7
rest_client_request_duration_seconds_sum{host="a:1",verb="GET"} 0.2
rest_client_request_duration_seconds_count{host="a:1",verb="GET"} 7
process_cpu_seconds_total 12.5
`

func TestParseHistogramSelectsAndAddsSeries(t *testing.T) {
	const name = "rest_client_request_duration_seconds"
	for _, tc := range []struct {
		match        map[string]string
		counts       []float64
		sum, count   float64
		wantQuantile float64
	}{
		{map[string]string{"verb": "POST", "host": "a:1"}, []float64{3, 9, 10}, 4.5, 10, 0.1 + 0.9*(5-3)/6.0},
		{map[string]string{"verb": "POST"}, []float64{4, 10, 12}, 7.5, 12, 0.1 + 0.9*(6-4)/6.0},
		{nil, []float64{11, 17, 19}, 7.7, 19, 0.1 * 9.5 / 11},
	} {
		h, err := ParseHistogram(sampleMetrics, name, tc.match)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(h.Bounds, []float64{0.1, 1, math.Inf(1)}) || !slices.Equal(h.Counts, tc.counts) || h.Sum != tc.sum || h.Count != tc.count {
			t.Errorf("match %v: %+v, want counts %v, sum %v, count %v", tc.match, h, tc.counts, tc.sum, tc.count)
		}
		if q := h.Quantile(0.5); math.Abs(q-tc.wantQuantile) > 1e-9 {
			t.Errorf("match %v: median %v, want %v", tc.match, q, tc.wantQuantile)
		}
	}
	a, _ := ParseHistogram(sampleMetrics, name, map[string]string{"host": "a:1"})
	b, _ := ParseHistogram(sampleMetrics, name, map[string]string{"host": "b:2"})
	all, _ := ParseHistogram(sampleMetrics, name, nil)
	if sum := a.Add(b); !slices.Equal(sum.Counts, all.Counts) || sum.Count != all.Count || sum.Sum != all.Sum {
		t.Errorf("a.Add(b) = %+v, want %+v", sum, all)
	}
	if got := (*Histogram)(nil).Add(a); got != a {
		t.Errorf("nil.Add(a) = %+v, want a", got)
	}
	if got := SumSeries(sampleMetrics, "process_cpu_seconds_total", nil); got != 12.5 {
		t.Errorf("SumSeries of an unlabelled sample = %v, want 12.5", got)
	}
	if got := SumSeries(sampleMetrics, name+"_count", map[string]string{"host": "a:1"}); got != 17 {
		t.Errorf("SumSeries of two labelled samples = %v, want 17", got)
	}
	// FindSeries tells a missing metric from one at 0, and a name that only
	// begins another's is missing.
	if got, err := FindSeries(sampleMetrics, "process_cpu_seconds_total", nil); err != nil || got != 12.5 {
		t.Errorf("FindSeries of an unlabelled sample = %v, %v; want 12.5", got, err)
	}
	for _, missing := range []string{"process_cpu_seconds", "no_such_metric"} {
		if got, err := FindSeries(sampleMetrics, missing, nil); err == nil || got != 0 {
			t.Errorf("FindSeries(%q) = %v, %v; want 0 and an error", missing, got, err)
		}
	}
	if _, err := FindSeries(sampleMetrics, name+"_count", map[string]string{"host": "nowhere"}); err == nil {
		t.Errorf("FindSeries with labels no sample has: no error")
	}
}

package framework

// Helpers for the controller, fault and benchmark tests: reading the
// execution-apiserver's own /metrics, histogram quantiles from Prometheus
// text, and telling whether a background kubectl has exited.

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Exited reports whether the background kubectl has exited (e.g. a watch
// whose connection dropped when kube-apiserver restarted).
func (s *Stream) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// ExecutionServerMetrics fetches the execution-apiserver's /metrics
// directly, as the admin: its client certificate is signed by the cluster
// CA, which the server trusts through delegated authentication, and the
// server's serving certificate is signed by the same CA.
func (s *Stack) ExecutionServerMetrics() (string, error) {
	pki := filepath.Join(s.LocalDir, "pki")
	caPEM, err := os.ReadFile(filepath.Join(pki, "ca.crt"))
	if err != nil {
		return "", err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return "", fmt.Errorf("no certificate in %s", filepath.Join(pki, "ca.crt"))
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(pki, "admin.crt"), filepath.Join(pki, "admin.key"))
	if err != nil {
		return "", err
	}
	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: pool, Certificates: []tls.Certificate{cert}, ServerName: "127.0.0.1",
		}},
	}
	defer client.CloseIdleConnections()
	resp, err := client.Get(s.ExecutionAPIServerURL() + "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /metrics: %s: %s", resp.Status, truncate(string(body), 500))
	}
	return string(body), nil
}

// Histogram is one unlabelled Prometheus histogram: cumulative counts per
// upper bound (the last bound is +Inf), plus sum and count.
type Histogram struct {
	Bounds []float64
	Counts []float64
	Sum    float64
	Count  float64
}

// ParseHistogram reads the histogram name (without _bucket) from metrics in
// the Prometheus text format. A histogram that is not there yet (no
// observation since the process started, for a lazily registered metric)
// is returned empty, not as an error.
func ParseHistogram(metrics, name string) (*Histogram, error) {
	h := &Histogram{}
	type bucket struct{ le, n float64 }
	var buckets []bucket
	sc := bufio.NewScanner(strings.NewReader(metrics))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		series, value := line[:sp], line[sp+1:]
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(series, name+"_bucket{"):
			i := strings.Index(series, `le="`)
			if i < 0 {
				return nil, fmt.Errorf("bucket without le: %q", line)
			}
			rest := series[i+4:]
			le, err := strconv.ParseFloat(rest[:strings.IndexByte(rest, '"')], 64)
			if err != nil {
				return nil, fmt.Errorf("bucket bound of %q: %v", line, err)
			}
			buckets = append(buckets, bucket{le, v})
		case series == name+"_sum":
			h.Sum = v
		case series == name+"_count":
			h.Count = v
		}
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].le < buckets[j].le })
	for _, b := range buckets {
		h.Bounds = append(h.Bounds, b.le)
		h.Counts = append(h.Counts, b.n)
	}
	return h, sc.Err()
}

// Sub returns h minus an earlier reading of the same histogram (the
// observations made in between). An earlier reading from a process that
// has since restarted (counts went down) cannot be subtracted: then h is
// returned as it is, i.e. the observations since the restart.
func (h *Histogram) Sub(before *Histogram) *Histogram {
	if before == nil || len(before.Counts) == 0 {
		return h
	}
	if len(before.Counts) != len(h.Counts) || before.Count > h.Count {
		return h
	}
	out := &Histogram{Bounds: h.Bounds, Sum: h.Sum - before.Sum, Count: h.Count - before.Count}
	for i := range h.Counts {
		out.Counts = append(out.Counts, h.Counts[i]-before.Counts[i])
	}
	return out
}

// Quantile estimates the q-quantile (0 < q < 1) like PromQL's
// histogram_quantile: linear interpolation within the bucket that holds it.
// NaN when there are no observations; the largest finite bound when the
// quantile falls into the +Inf bucket.
func (h *Histogram) Quantile(q float64) float64 {
	if len(h.Counts) == 0 || h.Counts[len(h.Counts)-1] == 0 {
		return math.NaN()
	}
	total := h.Counts[len(h.Counts)-1]
	rank := q * total
	for i, c := range h.Counts {
		if c < rank {
			continue
		}
		if math.IsInf(h.Bounds[i], 1) {
			if i == 0 {
				return math.NaN()
			}
			return h.Bounds[i-1]
		}
		lower, prev := 0.0, 0.0
		if i > 0 {
			lower, prev = h.Bounds[i-1], h.Counts[i-1]
		}
		if c == prev {
			return h.Bounds[i]
		}
		return lower + (h.Bounds[i]-lower)*(rank-prev)/(c-prev)
	}
	return h.Bounds[len(h.Bounds)-1]
}

// UpperBound is the upper bound of the bucket that holds the q-quantile: a
// conservative value that does not depend on interpolation.
func (h *Histogram) UpperBound(q float64) float64 {
	if len(h.Counts) == 0 || h.Counts[len(h.Counts)-1] == 0 {
		return math.NaN()
	}
	rank := q * h.Counts[len(h.Counts)-1]
	for i, c := range h.Counts {
		if c >= rank {
			return h.Bounds[i]
		}
	}
	return math.Inf(1)
}

// SumSeries adds up the samples of metric name (exact series name, e.g.
// apiserver_request_total) whose labels include every pair in match, from
// metrics in the Prometheus text format.
func SumSeries(metrics, name string, match map[string]string) float64 {
	total := 0.0
	sc := bufio.NewScanner(strings.NewReader(metrics))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		rest := line[len(name):]
		labels := ""
		switch {
		case strings.HasPrefix(rest, "{"):
			end := strings.LastIndexByte(rest, '}')
			if end < 0 {
				continue
			}
			labels, rest = rest[1:end], rest[end+1:]
		case strings.HasPrefix(rest, " "):
		default:
			continue // another metric whose name starts with name
		}
		ok := true
		for k, v := range match {
			if !strings.Contains(","+labels+",", ","+k+`="`+v+`",`) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
			total += v
		}
	}
	return total
}

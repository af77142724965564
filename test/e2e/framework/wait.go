package framework

// Helpers for the controller, fault and benchmark tests: reading the
// execution-apiserver's own /metrics, histogram quantiles from Prometheus
// text, and telling whether a background kubectl has exited.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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
	return getText(context.Background(), client, s.ExecutionAPIServerURL()+"/metrics")
}

// ClusterEtcdMetrics fetches the cluster's etcd's /metrics (plain http on
// localhost).
func (s *Stack) ClusterEtcdMetrics(ctx context.Context) (string, error) {
	return getText(ctx, http.DefaultClient, s.ClusterEtcdURL()+"/metrics")
}

// getText GETs url with client: the body, or an error for any status but
// 200 OK.
func getText(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, truncate(string(body), 500))
	}
	return string(body), nil
}

// Histogram is one Prometheus histogram, or the sum of several series of
// one: cumulative counts per upper bound (the last bound is +Inf), plus sum
// and count.
type Histogram struct {
	Bounds []float64
	Counts []float64
	Sum    float64
	Count  float64
}

// ParseHistogram reads the histogram name (without _bucket) from metrics in
// the Prometheus text format, adding up the series whose labels include
// every pair in match. A histogram that is not there yet (no observation
// since the process started, for a lazily registered metric) is returned
// empty, not as an error.
func ParseHistogram(metrics, name string, match map[string]string) (*Histogram, error) {
	h := &Histogram{}
	buckets := map[float64]float64{}
	err := eachSample(metrics, func(series, labels string, v float64) error {
		if !labelsMatch(labels, match) {
			return nil
		}
		switch series {
		case name + "_bucket":
			i := strings.Index(labels, `le="`)
			if i < 0 {
				return fmt.Errorf("bucket of %s without le: {%s}", name, labels)
			}
			rest := labels[i+4:]
			le, err := strconv.ParseFloat(rest[:strings.IndexByte(rest, '"')], 64)
			if err != nil {
				return fmt.Errorf("bucket bound of %s {%s}: %v", name, labels, err)
			}
			buckets[le] += v
		case name + "_sum":
			h.Sum += v
		case name + "_count":
			h.Count += v
		}
		return nil
	})
	for _, le := range slices.Sorted(maps.Keys(buckets)) {
		h.Bounds = append(h.Bounds, le)
		h.Counts = append(h.Counts, buckets[le])
	}
	return h, err
}

// eachSample calls f with the series name, the labels (without braces) and
// the value of every sample in metrics, in the Prometheus text format.
func eachSample(metrics string, f func(series, labels string, value float64) error) error {
	sc := bufio.NewScanner(strings.NewReader(metrics))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		series, labels, rest := line, "", ""
		if i := strings.IndexByte(line, '{'); i >= 0 {
			end := strings.LastIndexByte(line, '}')
			if end < i {
				continue
			}
			series, labels, rest = line[:i], line[i+1:end], line[end+1:]
		} else if i := strings.IndexByte(line, ' '); i >= 0 {
			series, rest = line[:i], line[i:]
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err != nil {
			continue
		}
		if err := f(series, labels, v); err != nil {
			return err
		}
	}
	return sc.Err()
}

func labelsMatch(labels string, match map[string]string) bool {
	for k, v := range match {
		if !strings.Contains(","+labels+",", ","+k+`="`+v+`",`) {
			return false
		}
	}
	return true
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

// Add returns the observations of h and o together; either may be nil or
// empty. Histograms with different buckets cannot be added: then h is
// returned.
func (h *Histogram) Add(o *Histogram) *Histogram {
	switch {
	case h == nil || len(h.Counts) == 0:
		return o
	case o == nil || len(o.Counts) == 0 || !slices.Equal(h.Bounds, o.Bounds):
		return h
	}
	out := &Histogram{Bounds: h.Bounds, Sum: h.Sum + o.Sum, Count: h.Count + o.Count}
	for i := range h.Counts {
		out.Counts = append(out.Counts, h.Counts[i]+o.Counts[i])
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
	_ = eachSample(metrics, func(series, labels string, v float64) error {
		if series == name && labelsMatch(labels, match) {
			total += v
		}
		return nil
	})
	return total
}

// FindSeries is SumSeries for a reader that must tell a metric at 0 from
// one that is not there (renamed by a new release, or served by another
// process): an error when no sample matched or metrics could not be read
// to its end.
func FindSeries(metrics, name string, match map[string]string) (float64, error) {
	total, found := 0.0, false
	err := eachSample(metrics, func(series, labels string, v float64) error {
		if series == name && labelsMatch(labels, match) {
			total += v
			found = true
		}
		return nil
	})
	switch {
	case err != nil:
		return 0, fmt.Errorf("reading %s: %w", name, err)
	case !found:
		return 0, fmt.Errorf("no sample of %s", name)
	}
	return total, nil
}

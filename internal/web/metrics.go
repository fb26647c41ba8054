package web

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/merlonsec/merlon/internal/store"
)

// metrics are what /metrics exposes besides the Go runtime's own.
type metrics struct {
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	scansStarted prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, st store.ScanStore) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "merlon_http_requests_total",
			Help: "HTTP requests served, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "merlon_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		scansStarted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "merlon_web_scans_started_total",
			Help: "Scans queued from the dashboard or the API by this process.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.scansStarted, newScanCollector(st)} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// scanCollector reads scans by status and the durations of finished scans
// from the store at scrape time, so the numbers hold whichever process ran
// the scans. A scrape within cacheFor of the last reuses its result.
type scanCollector struct {
	st       store.ScanStore
	byStatus *prometheus.Desc
	dur      *prometheus.Desc

	mu       sync.Mutex
	at       time.Time
	counts   map[store.ScanStatus]int
	durs     []float64
	cacheFor time.Duration
}

var durationBuckets = []float64{10, 30, 60, 120, 300, 600, 1800, 3600}

func newScanCollector(st store.ScanStore) *scanCollector {
	return &scanCollector{
		st:       st,
		byStatus: prometheus.NewDesc("merlon_scans", "Stored scans, by status.", []string{"status"}, nil),
		dur:      prometheus.NewDesc("merlon_scan_duration_seconds", "Run time of finished scans, from start to finish.", nil, nil),
		cacheFor: 15 * time.Second,
	}
}

func (c *scanCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.byStatus
	ch <- c.dur
}

func (c *scanCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) > c.cacheFor || c.counts == nil {
		if err := c.refresh(); err != nil {
			ch <- prometheus.NewInvalidMetric(c.byStatus, err)
			return
		}
	}
	for _, st := range []store.ScanStatus{store.StatusQueued, store.StatusRunning, store.StatusDone, store.StatusFailed, store.StatusCancelled} {
		ch <- prometheus.MustNewConstMetric(c.byStatus, prometheus.GaugeValue, float64(c.counts[st]), string(st))
	}
	buckets := map[float64]uint64{}
	var sum float64
	for _, d := range c.durs {
		sum += d
		for _, b := range durationBuckets {
			if d <= b {
				buckets[b]++
			}
		}
	}
	ch <- prometheus.MustNewConstHistogram(c.dur, uint64(len(c.durs)), sum, buckets)
}

func (c *scanCollector) refresh() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	counts := map[store.ScanStatus]int{}
	var durs []float64
	const page = 1000
	for off := 0; ; off += page {
		scans, err := c.st.ListScans(ctx, 0, store.Page{Limit: page, Offset: off})
		if err != nil {
			return err
		}
		for _, sc := range scans {
			counts[sc.Status]++
			if sc.StartedAt != nil && sc.FinishedAt != nil {
				durs = append(durs, sc.FinishedAt.Sub(*sc.StartedAt).Seconds())
			}
		}
		if len(scans) < page {
			break
		}
	}
	c.counts, c.durs, c.at = counts, durs, time.Now()
	return nil
}

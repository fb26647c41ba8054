// Package web is Merlon's dashboard and REST API: server-rendered pages for
// people, JSON under /api/ for tools, /api/openapi.json describing that
// JSON, and /metrics for Prometheus. It keeps no state of its own: every
// record lives in a store.Store, and scans run elsewhere (internal/jobs)
// through the Enqueuer, so one process or many can serve the same database.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/merlonsec/merlon/internal/store"
)

// Enqueuer hands a queued scan to whatever runs scans. The scan row exists
// (status queued) before EnqueueScan is called; the runner moves it on.
type Enqueuer interface {
	EnqueueScan(ctx context.Context, scanID int64) error
}

// Options are what a Server needs. Store and Jobs are required.
type Options struct {
	Store store.Store
	Jobs  Enqueuer
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// AllowPrivateTargets lets targets, specs and webhooks resolve to
	// loopback, private, link-local or cloud-metadata addresses. Leave it
	// off when the server is shared: otherwise any user can make Merlon
	// probe the network it runs in.
	AllowPrivateTargets bool
	// Registry receives the server's metrics; nil makes a new one.
	Registry *prometheus.Registry
	// Version is shown in the footer and the OpenAPI document.
	Version string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server serves the dashboard and the API.
type Server struct {
	store   store.Store
	jobs    Enqueuer
	log     *slog.Logger
	private bool
	version string
	now     func() time.Time

	pages   map[string]*template.Template
	static  *staticFiles
	reg     *prometheus.Registry
	metrics *metrics

	// lookup resolves a host name; tests replace it to point names at
	// chosen addresses.
	lookup func(ctx context.Context, host string) ([]net.IPAddr, error)
	// fetchClient fetches verification files; its dialer re-checks every
	// address it connects to, so a name that changes its answer between
	// the check and the request cannot slip through.
	fetchClient *http.Client
}

// New builds a Server. It parses the embedded templates and hashes the
// static assets, so a broken template fails here, not on a request. It does
// no I/O.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("new web server: no store")
	}
	if opts.Jobs == nil {
		return nil, errors.New("new web server: no job queue")
	}
	s := &Server{
		store:   opts.Store,
		jobs:    opts.Jobs,
		log:     opts.Logger,
		private: opts.AllowPrivateTargets,
		version: opts.Version,
		now:     opts.Now,
		reg:     opts.Registry,
		lookup:  net.DefaultResolver.LookupIPAddr,
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.version == "" {
		s.version = "dev"
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
	}
	var err error
	if s.static, err = loadStatic(); err != nil {
		return nil, fmt.Errorf("new web server: %w", err)
	}
	if s.pages, err = s.parseTemplates(); err != nil {
		return nil, fmt.Errorf("new web server: %w", err)
	}
	if s.metrics, err = newMetrics(s.reg, s.store); err != nil {
		return nil, fmt.Errorf("new web server: %w", err)
	}
	s.fetchClient = s.newFetchClient()
	return s, nil
}

// Handler returns the server's routes wrapped in its middleware: security
// headers, request logs and metrics on every response.
func (s *Server) Handler() http.Handler {
	return s.wrap(s.routes())
}

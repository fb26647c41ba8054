// Package checktest runs a check the way a scan does — through the real
// engine client, against a real HTTP server — so that check tests exercise
// scope, redaction and evidence recording too, not a stand-in.
package checktest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/scan"
)

// Option changes the target or client Run builds.
type Option func(*config)

type config struct {
	ops        []*scan.Operation
	profile    scan.Profile
	active     bool
	values     map[string]string
	identities []scan.Identity
	header     http.Header
	callbacks  scan.Callbacks
	stack      scan.Stack
	tls        bool
	observer   func(*scan.Exchange)
}

// WithOperations sets the target's inventory; without it the target has
// none, as when discovery found nothing.
func WithOperations(ops ...*scan.Operation) Option {
	return func(c *config) { c.ops = append(c.ops, ops...) }
}

// WithProfile sets the scan profile; the default is standard.
func WithProfile(p scan.Profile) Option { return func(c *config) { c.profile = p } }

// WithActive allows state-changing requests.
func WithActive() Option { return func(c *config) { c.active = true } }

// WithValues puts harvested values, by parameter name, in the target's
// value bank.
func WithValues(v map[string]string) Option { return func(c *config) { c.values = v } }

// WithIdentities gives the target identities, whose headers the engine
// sends for requests made on their behalf.
func WithIdentities(ids ...scan.Identity) Option {
	return func(c *config) { c.identities = append(c.identities, ids...) }
}

// WithHeader sets global headers, as -H does: the engine sends them on
// every request but anonymous ones, and the target lists them.
func WithHeader(h http.Header) Option { return func(c *config) { c.header = h } }

// WithCallbacks gives the target a callback listener, as an active scan
// has.
func WithCallbacks(cb scan.Callbacks) Option { return func(c *config) { c.callbacks = cb } }

// WithStack sets what fingerprinting is taken to have learned.
func WithStack(st scan.Stack) Option { return func(c *config) { c.stack = st } }

// WithTLS serves the handler over HTTPS (with the test server's
// self-signed certificate, which the client is told to accept).
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithObserver sees every exchange the engine completes, for tests that
// count or inspect requests.
func WithObserver(f func(*scan.Exchange)) Option { return func(c *config) { c.observer = f } }

// Op returns an operation with a path parameter entry for each {name} in
// path, as the spec loader would make it.
func Op(method, path string, params ...scan.Parameter) *scan.Operation {
	op := &scan.Operation{
		ID:     strings.ToUpper(method) + " " + path,
		Method: strings.ToUpper(method),
		Path:   path,
		Source: "spec",
	}
	named := make(map[string]bool)
	for _, p := range params {
		named[p.In+":"+p.Name] = true
	}
	for _, n := range scan.PathParams(path) {
		if !named["path:"+n] {
			op.Parameters = append(op.Parameters, scan.Parameter{Name: n, In: "path", Required: true})
		}
	}
	op.Parameters = append(op.Parameters, params...)
	return op
}

// Run serves h on a fresh 127.0.0.1 test server, runs c against it through
// the engine's client, and returns the findings. It fails the test when
// the check returns an error or a finding breaks the rules every finding
// must keep (see Validate).
func Run(t testing.TB, c scan.Check, h http.Handler, opts ...Option) []scan.Finding {
	t.Helper()
	cfg := config{profile: scan.Standard}
	for _, o := range opts {
		o(&cfg)
	}
	srv := httptest.NewUnstartedServer(h)
	if cfg.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatalf("parse test server URL: %v", err)
	}
	var bank scan.ValueBank
	for k, v := range cfg.values {
		bank.Add(k, v)
	}
	target := &scan.Target{
		BaseURL:    u,
		Operations: cfg.ops,
		Identities: cfg.identities,
		Header:     cfg.header,
		Callbacks:  cfg.callbacks,
		Active:     cfg.active,
		Profile:    cfg.profile,
		Stack:      cfg.stack,
		Values:     &bank,
	}
	client := engine.New(engine.Config{
		BaseURL:    u,
		Active:     cfg.active,
		Timeout:    5 * time.Second,
		Identities: cfg.identities,
		Header:     cfg.header,
		Insecure:   cfg.tls,
		Observer:   cfg.observer,
	})
	// The runner never starts an active check on a passive scan
	// (engine.RunChecks); a test that calls Run directly keeps that rule.
	if c.Meta().Active && !cfg.active {
		return nil
	}
	findings, err := c.Run(t.Context(), target, client)
	var skip *scan.SkipError
	switch {
	case errors.As(err, &skip):
		// Not applicable to this target: a legitimate outcome, reported
		// as skipped. Findings must then be empty.
		if len(findings) > 0 {
			t.Errorf("%s skipped (%s) yet returned %d findings", c.Meta().ID, skip.Reason, len(findings))
		}
	case err != nil:
		t.Fatalf("%s.Run: %v", c.Meta().ID, err)
	}
	for _, msg := range Validate(c.Meta(), findings) {
		t.Errorf("%s: %s", c.Meta().ID, msg)
	}
	return findings
}

// Validate returns what is wrong with findings reported by the check m
// describes: each must carry the check's ID, category and CWE, a severity
// no higher than the check's, a title, a description, a fingerprint unique
// among them, and evidence with a recorded request.
func Validate(m scan.Meta, findings []scan.Finding) []string {
	var bad []string
	seen := make(map[string]bool)
	for i, f := range findings {
		where := fmt.Sprintf("finding %d (%s %q)", i, f.Operation, f.Location)
		switch {
		case f.CheckID != m.ID:
			bad = append(bad, fmt.Sprintf("%s: CheckID = %q, want %q", where, f.CheckID, m.ID))
		case f.Category != m.Category:
			bad = append(bad, fmt.Sprintf("%s: Category = %q, want %q", where, f.Category, m.Category))
		case f.CWE != m.CWE:
			bad = append(bad, fmt.Sprintf("%s: CWE = %d, want %d", where, f.CWE, m.CWE))
		case f.Severity > m.Severity:
			bad = append(bad, fmt.Sprintf("%s: Severity = %v, above the check's %v", where, f.Severity, m.Severity))
		case f.Title == "" || f.Description == "":
			bad = append(bad, where+": empty title or description")
		case f.Fingerprint == "":
			bad = append(bad, where+": no fingerprint")
		case seen[f.Fingerprint]:
			bad = append(bad, where+": fingerprint repeated")
		case len(f.Evidence) == 0 || f.Evidence[0].Request.URL == "":
			bad = append(bad, where+": no evidence")
		}
		seen[f.Fingerprint] = true
	}
	return bad
}

// Only fails the test unless there is at least one finding and every one
// is from checkID. It returns findings, for further assertions.
func Only(t testing.TB, findings []scan.Finding, checkID string) []scan.Finding {
	t.Helper()
	if len(findings) == 0 {
		t.Fatalf("no findings, want some from %s", checkID)
	}
	for _, f := range findings {
		if f.CheckID != checkID {
			t.Errorf("finding from %s (%s), want only %s", f.CheckID, f.Title, checkID)
		}
	}
	return findings
}

// None fails the test when there are findings, listing them.
func None(t testing.TB, findings []scan.Finding) {
	t.Helper()
	for _, f := range findings {
		t.Errorf("unexpected finding: %s", Describe(f))
	}
}

// At returns the finding at location, failing the test when there is none.
func At(t testing.TB, findings []scan.Finding, location string) scan.Finding {
	t.Helper()
	for _, f := range findings {
		if f.Location == location {
			return f
		}
	}
	var have []string
	for _, f := range findings {
		have = append(have, Describe(f))
	}
	t.Fatalf("no finding at %q; have %v", location, have)
	return scan.Finding{}
}

// Locations returns the findings' locations in order, for comparing a
// whole result at once.
func Locations(findings []scan.Finding) []string {
	var locs []string
	for _, f := range findings {
		locs = append(locs, f.Location)
	}
	return locs
}

// Describe renders a finding in one line for test messages.
func Describe(f scan.Finding) string {
	return fmt.Sprintf("%s [%v/%v] %q at %q %q", f.CheckID, f.Severity, f.Confidence, f.Title, f.Operation, f.Location)
}

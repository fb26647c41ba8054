// Package pipeline runs one scan from start to finish: it checks the target
// is reachable, builds the operation inventory (from a spec, a discovered
// spec or a crawl), probes the inventory, runs the selected checks through
// the engine, then fingerprints the stack, attaches remediation and scores
// the result. The CLI, the demo and (later) the server all scan through it.
package pipeline

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/merlonsec/merlon/internal/callback"
	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/fingerprint"
	"github.com/merlonsec/merlon/internal/remedy"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
	"github.com/merlonsec/merlon/internal/spec"
)

// InputError is an error caused by what the user gave (a malformed URL, a
// spec that does not parse): the CLI maps it to the usage exit code.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func badInput(format string, args ...any) error {
	return &InputError{Err: fmt.Errorf(format, args...)}
}

// ErrUnreachable marks a target that gave no HTTP answer at all.
var ErrUnreachable = errors.New("target unreachable")

// Config is one scan's settings. The zero value of each limit takes the
// profile's default (see Defaults).
type Config struct {
	// Target is the URL given on the command line. Its scheme, host and
	// port are the scope of the scan.
	Target *url.URL
	// BaseURL, when set, is the URL operation paths are joined onto; it
	// must share Target's origin. See docs/usage.md for the precedence.
	BaseURL *url.URL
	// Spec is a file path or URL; empty means look for one, then crawl.
	Spec string

	Profile    scan.Profile
	Active     bool
	Headers    http.Header
	Identities []scan.Identity
	// Auth gives identities, by name, a login flow and a check request;
	// see docs/identities.md.
	Auth map[string]Auth
	// SpecAuth sends the -H headers and the default identity's static
	// credentials to a --spec URL; without it a spec URL gets none.
	SpecAuth    bool
	Rate        float64
	Concurrency int
	Timeout     time.Duration
	MaxRequests int
	MaxTime     time.Duration
	Insecure    bool
	// CallbackListen is the address the out-of-band callback listener of
	// an active scan binds (default 127.0.0.1:0, reachable only from this
	// machine); CallbackURL is the URL the target should use to reach it,
	// when that is not the listening address (a proxy, NAT).
	CallbackListen string
	CallbackURL    string

	// Checks are the checks to run, already selected.
	Checks []scan.Check
	// Logger receives write-request logs and debug detail; nil discards.
	Logger *slog.Logger
	// Progress, when set, is called from the scan's goroutines as it advances.
	Progress func(Progress)
	// OnWrite, when set, is called from the scan's goroutines with each
	// state-changing request (anything but GET, HEAD and OPTIONS) that got
	// an answer, so that an --active scan can show every write it made.
	OnWrite func(Write)
	// ToolVersion goes into the report.
	ToolVersion string
}

// Progress is a snapshot of a running scan.
type Progress struct {
	Phase       string // "preflight", "inventory", "checks", "done"
	Requests    int64
	ChecksDone  int
	ChecksTotal int
}

// Write is one state-changing request the scan sent and its answer. URL is
// as recorded in evidence, with secrets redacted.
type Write struct {
	Method string
	URL    string
	Status int
	// Err is set, and Status 0, for a write that got no complete answer:
	// the target may still have applied it.
	Err error
}

// Limits are a profile's defaults.
type Limits struct {
	MaxRequests int
	MaxTime     time.Duration
	// InventoryOps caps the operations probed in the inventory pass.
	InventoryOps int
	// CrawlPages caps discovery when there is no spec.
	CrawlPages int
}

// Defaults returns the limits of a profile. Quick is meant to finish well
// under a minute on a typical API; deep sends much more.
func Defaults(p scan.Profile) Limits {
	switch p {
	case scan.Quick:
		return Limits{MaxRequests: 1000, MaxTime: 45 * time.Second, InventoryOps: 150, CrawlPages: 30}
	case scan.Deep:
		return Limits{MaxRequests: 50000, MaxTime: 30 * time.Minute, InventoryOps: 1 << 30, CrawlPages: 500}
	default:
		return Limits{MaxRequests: 10000, MaxTime: 10 * time.Minute, InventoryOps: 2000, CrawlPages: 100}
	}
}

// ParseTarget checks a URL given as a scan target. It must be absolute
// http or https with a host.
func ParseTarget(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, badInput("empty target URL")
	}
	if hostOnly(strings.TrimSpace(raw)) {
		return nil, badInput("target URL %q has no scheme; use http://%s or https://%s", raw, strings.TrimSpace(raw), strings.TrimSpace(raw))
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, badInput("invalid target URL %q: %v", raw, unwrapURLError(err))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return nil, badInput("target URL %q has no scheme; use http:// or https://", raw)
	default:
		return nil, badInput("unsupported scheme %q in %q; Merlon scans http:// and https:// APIs", u.Scheme, raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, badInput("target URL %q has no host", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return nil, badInput("invalid port %q in %q", p, raw)
		}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Fragment = ""
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// hostOnly reports whether raw is a host with an optional port and path
// but no scheme, such as "127.0.0.1:8080" or "localhost:8080/api", which
// url.Parse would reject or read as a scheme named after the host.
func hostOnly(raw string) bool {
	if strings.Contains(raw, "://") {
		return false
	}
	hostport, _, _ := strings.Cut(raw, "/")
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	if host == "" || strings.Contains(host, "@") || strings.Contains(host, ":") && !strings.HasPrefix(hostport, "[") {
		return false
	}
	if port != "" {
		_, err := parsePort(port)
		return err == nil
	}
	return host == "localhost" || strings.Contains(host, ".")
}

func parsePort(p string) (int, error) {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, errors.New("not a number")
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, errors.New("out of range")
		}
	}
	return n, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Run performs one scan. It returns a report whenever the scan got as far
// as running checks, even when ctx was cancelled midway (the report is then
// marked Interrupted); it returns an error when the scan could not start.
func Run(ctx context.Context, cfg Config) (*scan.Report, error) {
	if cfg.Target == nil {
		return nil, badInput("no target URL")
	}
	if cfg.Profile == "" {
		cfg.Profile = scan.Standard
	}
	lim := Defaults(cfg.Profile)
	if cfg.MaxRequests == 0 {
		cfg.MaxRequests = lim.MaxRequests
	}
	if cfg.MaxTime == 0 {
		cfg.MaxTime = lim.MaxTime
	}
	started := time.Now()
	rep := &scan.Report{
		SchemaVersion: scan.SchemaVersion,
		Tool:          scan.Tool{Name: "merlon", Version: cfg.ToolVersion},
		Target:        cfg.Target.String(),
		Profile:       cfg.Profile,
		Active:        cfg.Active,
		StartedAt:     started.UTC(),
		Findings:      []scan.Finding{},
	}

	// The wall-clock budget covers everything after the start.
	ctx, cancel := context.WithTimeout(ctx, cfg.MaxTime)
	defer cancel()

	det := &fingerprint.Detector{}
	values := &scan.ValueBank{}
	var requests atomic.Int64
	var progressMu sync.Mutex
	prog := Progress{Phase: "preflight"}
	report := func(update func(*Progress)) {
		if cfg.Progress == nil {
			return
		}
		progressMu.Lock()
		update(&prog)
		prog.Requests = requests.Load()
		p := prog
		progressMu.Unlock()
		cfg.Progress(p)
	}
	var answers answerCounts
	observe := func(ex *scan.Exchange) {
		requests.Add(1)
		det.Observe(ex)
		answers.count(ex.Response.Status)
		if cfg.OnWrite != nil && needsActive(ex.Request.Method) {
			cfg.OnWrite(Write{Method: ex.Request.Method, URL: ex.Request.URL, Status: ex.Response.Status})
		}
		if isJSON(ex.Response.Header) {
			fill.Harvest(values, ex.Response.Raw)
		}
		report(func(*Progress) {})
	}

	logins := make(map[string]engine.Login)
	for name, a := range cfg.Auth {
		if a.Login != nil {
			logins[name] = *a.Login
		}
	}
	client := engine.New(engine.Config{
		BaseURL:     cfg.Target,
		Active:      cfg.Active,
		Rate:        cfg.Rate,
		Concurrency: cfg.Concurrency,
		Timeout:     cfg.Timeout,
		MaxRequests: cfg.MaxRequests,
		Header:      cfg.Headers,
		Identities:  cfg.Identities,
		Logins:      logins,
		UserAgent:   "merlon/" + cfg.ToolVersion,
		Insecure:    cfg.Insecure,
		Logger:      cfg.Logger,
		Observer:    observe,
		WriteUnanswered: func(method, url string, err error) {
			if cfg.OnWrite != nil {
				cfg.OnWrite(Write{Method: method, URL: url, Err: err})
			}
		},
	})

	// A spec file the user named is read first: a bad spec is the user's
	// to fix, and says so without a single request sent. A spec URL is
	// fetched and parsed while the preflight request is out, since both
	// send requests anyway; its error still comes first.
	var given *spec.Spec
	var specErr error
	var loading sync.WaitGroup
	if cfg.Spec != "" {
		if isURL(cfg.Spec) {
			loading.Go(func() { given, specErr = loadSpec(ctx, cfg) })
		} else if given, specErr = loadSpec(ctx, cfg); specErr != nil {
			return nil, specErr
		}
	}
	pfErr := preflight(ctx, client, cfg.Target)
	loading.Wait()
	if specErr != nil {
		return nil, specErr
	}
	if pfErr != nil {
		return nil, pfErr
	}
	undecided, err := preflightIdentities(ctx, client, cfg)
	if err != nil {
		return nil, err
	}

	report(func(p *Progress) { p.Phase = "inventory" })
	inv, err := inventory(ctx, cfg, given, client, values, lim)
	if err != nil {
		return nil, err
	}
	rep.Spec = inv.spec
	rep.Warnings = append(rep.Warnings, inv.warnings...)
	unverified, err := confirmIdentities(ctx, client.WithBase(inv.base), inv.ops, values, undecided)
	if err != nil {
		return nil, err
	}
	rep.Warnings = append(rep.Warnings, unverified...)

	target := &scan.Target{
		BaseURL:    inv.base,
		Operations: inv.ops,
		Spec:       inv.spec,
		Identities: client.Identities(),
		Header:     cfg.Headers.Clone(),
		Active:     cfg.Active,
		Profile:    cfg.Profile,
		Values:     values,
		Notes:      &scan.Notes{},
	}
	if cfg.Active {
		cb, err := callback.Start(ctx, cfg.CallbackListen, cfg.CallbackURL)
		if err != nil {
			return nil, badInput("%v", err)
		}
		defer cb.Close()
		target.Callbacks = cb
	}
	// The checks talk to a client rooted at the API base, which may carry
	// a path prefix from the spec's servers.
	checkClient := client
	if inv.base.String() != cfg.Target.String() {
		checkClient = client.WithBase(inv.base)
	}

	// Only answers to the probes and checks tell why a scan proved
	// nothing; spec discovery's 404s are expected.
	answers.start()
	probeInventory(ctx, checkClient, target, lim.InventoryOps, cfg.Concurrency)
	target.Stack = det.Stack()

	report(func(p *Progress) { p.Phase = "checks"; p.ChecksTotal = len(cfg.Checks) })
	// Every check starts at once: most send their requests one or a few
	// at a time, and a check that waited for a slot would make its chain
	// of round trips the tail of the scan. The engine still caps the
	// requests in flight at cfg.Concurrency.
	findings, results := engine.RunChecks(ctx, target, cfg.Checks, checkClient, engine.RunOptions{
		Parallel: max(len(cfg.Checks), 1),
		OnDone:   func(scan.CheckResult) { report(func(p *Progress) { p.ChecksDone++ }) },
	})

	rep.Stack = det.Stack()
	// One text per check: a large API has hundreds of findings of the
	// same few checks, and each text is expanded from a template.
	remediation := make(map[string]string)
	for i := range findings {
		if findings[i].Remediation == "" {
			id := findings[i].CheckID
			text, ok := remediation[id]
			if !ok {
				text = remedy.For(id, rep.Stack)
				remediation[id] = text
			}
			findings[i].Remediation = text
		}
	}
	rep.Findings = findings
	rep.Checks = results
	rep.Warnings = append(rep.Warnings, target.Notes.All()...)
	rep.Coverage = client.Coverage(target.Operations)
	rep.Warnings = append(rep.Warnings, misbehaviour(client.Stats(), client.Limits())...)
	rep.Warnings = append(rep.Warnings, loginWarnings(client.LoginFailures())...)
	if ctx.Err() != nil {
		rep.Interrupted = true
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("the time budget (--max-time %s) ran out before every check finished", cfg.MaxTime))
		}
	}
	if rep.Coverage.BudgetExhausted {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the request budget (--max-requests %d) ran out; some checks saw only part of the API", cfg.MaxRequests))
	}
	rep.Score = score.Compute(rep.Findings, rep.Coverage)
	rep.Score.Partial = score.Partial(rep)
	if w := ungradedWarning(rep.Coverage, &answers); w != "" {
		rep.Warnings = append([]string{w}, rep.Warnings...)
	}
	rep.FinishedAt = time.Now().UTC()
	report(func(p *Progress) { p.Phase = "done" })
	return rep, nil
}

// needsActive reports whether the engine sends a method only with --active:
// anything but GET, HEAD and OPTIONS (TRACE included, which scan.IsWrite
// does not count as a write).
func needsActive(method string) bool {
	switch strings.ToUpper(method) {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// answerCounts tallies the statuses the target answered with once counting
// has started, from the scan's goroutines.
type answerCounts struct {
	on                   atomic.Bool
	all, denied, missing atomic.Int64
}

func (a *answerCounts) start() { a.on.Store(true) }

func (a *answerCounts) count(status int) {
	if !a.on.Load() || status == 0 {
		return
	}
	a.all.Add(1)
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		a.denied.Add(1)
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		a.missing.Add(1)
	}
}

// ungradedWarning is the report's first warning when the scan proves
// nothing (score.Inconclusive), or "". When most answers were 401/403 or
// most were 404/405, it names that cause alone, since the user then knows
// which of credentials or the URL to fix.
func ungradedWarning(cov scan.Coverage, a *answerCounts) string {
	why := score.Inconclusive(cov)
	if why == "" {
		return ""
	}
	all, denied, missing := a.all.Load(), a.denied.Load(), a.missing.Load()
	if cov.Reached > 0 && cov.Succeeded == 0 && all > 0 {
		switch {
		case 2*denied > all:
			return fmt.Sprintf("not graded: none of the %d operations answered 2xx and %d of %d answers were 401 or 403; "+
				"the API wants credentials Merlon did not have: pass them with -H 'Authorization: …' or --identity",
				cov.Operations, denied, all)
		case 2*missing > all:
			return fmt.Sprintf("not graded: none of the %d operations answered 2xx and %d of %d answers were 404 or 405; "+
				"the operations are not at this URL: check the target URL, --base-url and the spec's servers",
				cov.Operations, missing, all)
		}
	}
	return "not graded: " + why
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func isJSON(h http.Header) bool {
	ct := strings.ToLower(h.Get("Content-Type"))
	return strings.Contains(ct, "json")
}

// preflight proves the target answers HTTP at all, so that a typo in the
// URL is an error and not an empty report.
func preflight(ctx context.Context, c *engine.Client, target *url.URL) error {
	_, err := c.Do(ctx, &scan.Request{Method: http.MethodGet, Path: target.String(), NoRedirect: true})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w: %s", ErrUnreachable, describeNetError(target, err))
}

// describeNetError turns a transport error into one line that says what
// went wrong and what to try.
func describeNetError(target *url.URL, err error) string {
	host := target.Host
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr), errors.As(err, &invalid):
		return fmt.Sprintf("TLS certificate of %s is not trusted (%v); fix the certificate or pass --insecure to scan anyway", host, rootCause(err))
	case errors.As(err, &recordErr):
		return fmt.Sprintf("%s does not speak TLS; did you mean http:// instead of https://?", host)
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("cannot resolve host %q; check the target URL", target.Hostname())
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Sprintf("%s did not answer in time; is the API running? (raise --timeout for slow APIs)", host)
	case errors.As(err, &opErr):
		return fmt.Sprintf("cannot connect to %s (%v); is the API running and the port right?", host, rootCause(err))
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Sprintf("%s answers plain HTTP; use http:// instead of https://", host)
	}
	return fmt.Sprintf("cannot reach %s: %v", host, rootCause(err))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// probeInventory sends one request to each GET operation (collections
// first, so their IDs fill the item paths), bounded by limit. It harvests
// values for the checks and measures how much of the API answers.
func probeInventory(ctx context.Context, h scan.Requester, t *scan.Target, limit, concurrency int) {
	var gets []*scan.Operation
	for _, op := range t.Operations {
		if op.Method == http.MethodGet {
			gets = append(gets, op)
		}
	}
	sort.SliceStable(gets, func(i, j int) bool {
		return len(scan.PathParams(gets[i].Path)) < len(scan.PathParams(gets[j].Path))
	})
	if len(gets) > limit {
		gets = gets[:limit]
	}
	if concurrency <= 0 {
		concurrency = 8
	}
	// Collections go first, in their own wave, so item paths can use the
	// IDs they return.
	split := len(gets)
	for i, op := range gets {
		if len(scan.PathParams(op.Path)) > 0 {
			split = i
			break
		}
	}
	for _, wave := range [][]*scan.Operation{gets[:split], gets[split:]} {
		// Twice as many probes run as requests may be in flight: the
		// engine holds the requests to the limit, and the spare probes
		// keep it busy while others read their answers (the observer
		// harvests values and fingerprints every response).
		sem := make(chan struct{}, 2*concurrency)
		var wg sync.WaitGroup
		for _, op := range wave {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Add(1)
			go func(op *scan.Operation) {
				defer wg.Done()
				defer func() { <-sem }()
				// Errors are counted by the engine; a failed probe only
				// lowers coverage.
				_, _ = h.Do(ctx, fill.Request(op, t.Values))
			}(op)
		}
		wg.Wait()
	}
}

// Package engine owns the only HTTP client that talks to a scanned target
// and runs the checks. Every request a check makes goes through Client.Do,
// so scope, the read-only method policy, rate, budget, timeouts and
// redacted evidence hold for all checks by construction.
package engine

import (
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/merlonsec/merlon/internal/scan"
)

// Defaults for the zero values of Config.
const (
	DefaultConcurrency   = 8
	DefaultTimeout       = 10 * time.Second
	DefaultMaxBodyBytes  = 2 << 20
	DefaultEvidenceBytes = 16 << 10
	DefaultRetries       = 2
	DefaultUserAgent     = "merlon/dev"
	DefaultMinRelogin    = 5 * time.Second

	// maxRedirects bounds in-scope redirect chains, loops included.
	maxRedirects = 5
	// maxRetryWait caps how long a Retry-After header can stall a request.
	maxRetryWait = 10 * time.Second
	// maxHeaderBytes caps a response's status line and headers. Real APIs
	// send a few KiB; a target sending megabytes is hostile or broken, and
	// the transport's own default (10 MiB) would let every request cost
	// that much memory.
	maxHeaderBytes = 1 << 20
	// firstBackoff is the wait before the first retry when the server
	// gives no Retry-After; it doubles on each further retry.
	firstBackoff = 250 * time.Millisecond
)

// Config sets what the client may send and how. The zero value of each
// field means its documented default.
type Config struct {
	// BaseURL is the scope: requests may only go to its scheme, host and
	// port. Request.Path is joined onto its path.
	BaseURL *url.URL
	// Active allows state-changing methods. Without it only GET, HEAD and
	// OPTIONS leave the machine (an allowlist: TRACE is refused too).
	Active bool
	// Rate is the most requests per second across the whole scan; 0 is
	// unlimited.
	Rate float64
	// Concurrency is the most requests in flight at once; default 8.
	Concurrency int
	// Timeout bounds each request, body included; default 10s.
	Timeout time.Duration
	// MaxRequests is the total budget, retries and redirect hops included;
	// 0 is unlimited.
	MaxRequests int
	// MaxBodyBytes caps how much of a response body is read; default 2 MiB.
	// Past it the response is marked Truncated.
	MaxBodyBytes int64
	// EvidenceBytes caps the recorded (redacted) bodies; default 16 KiB.
	// Response.Raw keeps up to MaxBodyBytes.
	EvidenceBytes int
	// Retries is how often a 429 or 503 is retried; default 2, negative
	// for none. Retry-After is honoured up to 10s; otherwise the wait
	// starts at 250ms and doubles.
	Retries int
	// Header is sent with every request (the user's -H flags).
	Header http.Header
	// Identities are selected by Request.Identity; their headers replace
	// same-named global ones. The first is the default identity, used when
	// Request.Identity is "". Every identity header value is a secret:
	// it is redacted from all recorded text.
	Identities []scan.Identity
	// Logins give identities, by name, a login flow that fills in (and
	// renews) their credentials; see Login.
	Logins map[string]Login
	// MinRelogin is the least time between two logins of one identity
	// caused by a 401 or an expiring token; default 5s. A 401 to a token
	// younger than that is an authorization answer, not an expiry, so a
	// check probing forbidden operations does not log in again each time.
	MinRelogin time.Duration
	// UserAgent is sent unless a request sets its own; default "merlon/dev".
	UserAgent string
	// Insecure skips TLS certificate verification.
	Insecure bool
	// Logger receives one Debug record per write request sent and Warn
	// records for failed logins; nil discards.
	Logger *slog.Logger
	// Observer is called, possibly concurrently, with every completed
	// exchange: each retry and redirect hop too.
	Observer func(*scan.Exchange)
	// WriteUnanswered is called, possibly concurrently, for a write
	// request that was sent but got no complete answer (a timeout, a
	// reset connection): the target may have applied it, so a user who
	// is shown every write must be shown this one too. url is redacted.
	WriteUnanswered func(method, url string, err error)
}

// Stats counts what a client did.
type Stats struct {
	// Requests that left the machine, retries and redirect hops included.
	Requests int
	// TransportErrors are requests that got no HTTP response.
	TransportErrors int
	// Refused are requests the engine would not send: out of scope, a
	// write method without Active, or past the budget.
	Refused int
	// BudgetExhausted is set once a request was refused for the budget.
	BudgetExhausted bool

	// What the target did wrong, for the report's warnings. Each counts
	// exchanges (attempts, not Do calls).

	// Truncated responses had a body over MaxBodyBytes (decompressed).
	Truncated int
	// Timeouts are requests that did not finish, body included, within
	// Timeout. They are counted among TransportErrors too.
	Timeouts int
	// OversizedHeaders are responses whose headers passed 1 MiB; they are
	// counted among TransportErrors too.
	OversizedHeaders int
	// RedirectLimit counts requests given up after five in-scope redirects.
	RedirectLimit int
	// OffScopeRedirects are redirects to another origin, which Merlon
	// does not follow (Request.NoRedirect ones are not counted).
	OffScopeRedirects int
	// ManyHeaders are responses with more than 1,000 header values.
	ManyHeaders int
	// InvalidJSON are complete bodies declared JSON that do not parse;
	// DeepJSON those nested more than 64 levels (Merlon reads no deeper).
	InvalidJSON, DeepJSON int
	// InvalidUTF8 are complete JSON or UTF-8 text bodies that are not
	// valid UTF-8.
	InvalidUTF8 int
}

// Client sends checks' requests to the target. It is safe for concurrent
// use. Clients made by WithBase share its limits, counters and coverage.
type Client struct {
	cfg  Config
	base *url.URL
	s    *shared
}

// shared is the state every client derived from one New shares, so that
// rate, budget and concurrency hold across the whole scan.
type shared struct {
	http       *http.Client
	limiter    *rate.Limiter // nil when unlimited
	sem        chan struct{}
	identities map[string]*identity
	order      []string // identity names, the default first
	loginBase  *url.URL // what login paths are joined onto
	secrets    secrets  // credential values scrubbed from evidence
	// idHeaderNames are the canonical names of every identity header; their
	// values are redacted in recorded requests whatever the name.
	idHeaderNames map[string]bool
	log           *slog.Logger

	reserved        atomic.Int64 // budget slots taken
	requests        atomic.Int64
	transportErrors atomic.Int64
	refused         atomic.Int64
	budgetExhausted atomic.Bool
	truncated       atomic.Int64
	timeouts        atomic.Int64
	bigHeaders      atomic.Int64
	redirectLimit   atomic.Int64
	shapes          shapeCounts

	// failedLogins are the renewals that failed mid-scan, by identity;
	// guarded by mu.
	failedLogins map[string]*LoginFailure

	mu     sync.Mutex
	byOp   map[*scan.Operation]reach
	byOpID map[string]reach
}

// reach records how far an operation got.
type reach uint8

const (
	reached reach = 1 << iota
	succeeded
)

var _ scan.Requester = (*Client)(nil)

// New builds a client from cfg. It does no I/O.
func New(cfg Config) *Client {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.EvidenceBytes <= 0 {
		cfg.EvidenceBytes = DefaultEvidenceBytes
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	} else if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.MinRelogin <= 0 {
		cfg.MinRelogin = DefaultMinRelogin
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           cfg.Concurrency * 2,
		MaxIdleConnsPerHost:    cfg.Concurrency,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    cfg.Timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
	if cfg.Insecure {
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for --insecure
	}
	s := &shared{
		http: &http.Client{
			Transport: transport,
			// Redirects are followed by Do itself, so that each hop is
			// scope-checked, budgeted and recorded.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		sem:           make(chan struct{}, cfg.Concurrency),
		identities:    make(map[string]*identity, len(cfg.Identities)),
		loginBase:     cfg.BaseURL,
		idHeaderNames: make(map[string]bool),
		log:           log,
		byOp:          make(map[*scan.Operation]reach),
		byOpID:        make(map[string]reach),
	}
	if cfg.Rate > 0 {
		// A burst of one spaces requests evenly instead of letting a
		// second's worth through at once.
		s.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	for k, vs := range cfg.Header {
		if s.credentialHeader(k) {
			for _, v := range vs {
				s.secrets.add(headerSecrets(k, v)...)
			}
		}
	}
	for _, id := range cfg.Identities {
		st := &identity{name: id.Name, role: id.Role, headers: id.Headers.Clone()}
		if l, ok := cfg.Logins[id.Name]; ok {
			st.login = &l
			for k, vs := range l.Header {
				for _, v := range vs {
					s.secrets.add(headerSecrets(k, v)...)
				}
			}
			s.secrets.add(bodySecrets(l.Body)...)
			name := http.CanonicalHeaderKey(l.TokenHeader)
			if l.TokenJSON == "" {
				name = "Cookie"
			} else if name == "" {
				name = "Authorization"
			}
			s.idHeaderNames[name] = true
		}
		for k, vs := range id.Headers {
			s.idHeaderNames[http.CanonicalHeaderKey(k)] = true
			for _, v := range vs {
				s.secrets.add(headerSecrets(k, v)...)
			}
		}
		if _, dup := s.identities[id.Name]; !dup {
			s.order = append(s.order, id.Name)
		}
		s.identities[id.Name] = st
	}
	return &Client{cfg: cfg, base: cfg.BaseURL, s: s}
}

// WithBase returns a client rooted at base (typically the API prefix a
// spec declares) that shares c's limits, budget, counters and coverage.
// Its scope is base's scheme, host and port.
func (c *Client) WithBase(base *url.URL) *Client {
	cp := *c
	cp.base = base
	return &cp
}

// Stats returns the counts so far.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:         int(c.s.requests.Load()),
		TransportErrors:  int(c.s.transportErrors.Load()),
		Refused:          int(c.s.refused.Load()),
		BudgetExhausted:  c.s.budgetExhausted.Load(),
		Truncated:        int(c.s.truncated.Load()),
		Timeouts:         int(c.s.timeouts.Load()),
		OversizedHeaders: int(c.s.bigHeaders.Load()),
		RedirectLimit:    int(c.s.redirectLimit.Load()),

		OffScopeRedirects: int(c.s.shapes.offScope.Load()),
		ManyHeaders:       int(c.s.shapes.manyHeaders.Load()),
		InvalidJSON:       int(c.s.shapes.invalidJSON.Load()),
		DeepJSON:          int(c.s.shapes.deepJSON.Load()),
		InvalidUTF8:       int(c.s.shapes.invalidUTF8.Load()),
	}
}

// Limits are the bounds a client enforces on every response, as its
// config resolved them, for messages that name them.
type Limits struct {
	Timeout        time.Duration
	MaxBodyBytes   int64
	MaxHeaderBytes int64
	MaxRedirects   int
	// MaxHeaderFields and MaxJSONDepth are where ManyHeaders and DeepJSON
	// start counting.
	MaxHeaderFields int
	MaxJSONDepth    int
}

// Limits returns the bounds c enforces.
func (c *Client) Limits() Limits {
	return Limits{
		Timeout:        c.cfg.Timeout,
		MaxBodyBytes:   c.cfg.MaxBodyBytes,
		MaxHeaderBytes: maxHeaderBytes,
		MaxRedirects:   maxRedirects,

		MaxHeaderFields: maxHeaderFields,
		MaxJSONDepth:    maxJSONDepth,
	}
}

// Coverage says how many of ops were reached (any HTTP response) and
// succeeded (a 2xx), counting exchanges whose Request.Operation was set.
// An operation is matched by pointer, or by ID when the ID is set.
func (c *Client) Coverage(ops []*scan.Operation) scan.Coverage {
	st := c.Stats()
	cov := scan.Coverage{
		Operations:      len(ops),
		Requests:        st.Requests,
		TransportError:  st.TransportErrors,
		BudgetExhausted: st.BudgetExhausted,
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, op := range ops {
		if op == nil {
			continue
		}
		r := c.s.byOp[op]
		if op.ID != "" {
			r |= c.s.byOpID[op.ID]
		}
		if r&reached != 0 {
			cov.Reached++
		}
		if r&succeeded != 0 {
			cov.Succeeded++
		}
	}
	return cov
}

func (s *shared) record(op *scan.Operation, status int) {
	if op == nil {
		return
	}
	r := reached
	if status >= 200 && status < 300 {
		r |= succeeded
	}
	s.mu.Lock()
	s.byOp[op] |= r
	if op.ID != "" {
		s.byOpID[op.ID] |= r
	}
	s.mu.Unlock()
}

// readBody reads at most limit bytes and reports whether there was more.
func readBody(r io.Reader, limit int64) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(b)) > limit {
		return b[:limit], true, nil
	}
	return b, false, err
}

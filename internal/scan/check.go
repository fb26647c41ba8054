package scan

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// A Check looks for one weakness. Run honours ctx, is safe for concurrent
// use, and returns an error only when it could not run; no findings means
// the target passed.
type Check interface {
	Meta() Meta
	Run(ctx context.Context, t *Target, h Requester) ([]Finding, error)
}

// Meta describes a check. It is data, so that reports, rule files and
// --checks can talk about a check without running it.
type Meta struct {
	// ID is stable across releases: "family.name", e.g. "property.mass-assignment".
	ID string `json:"id"`
	// Family groups checks for --checks/--skip-checks: "property", "misconfig", …
	Family   string   `json:"family"`
	Title    string   `json:"title"`
	Category Category `json:"category"`
	CWE      int      `json:"cwe"`
	// Severity is the most severe finding the check can report.
	Severity Severity `json:"severity"`
	// MinSeverity is the least severe finding the check can report, so that
	// docs/checks.md can print a range; the zero value, Info, means "from
	// info".
	MinSeverity Severity `json:"minSeverity"`
	// Active checks send state-changing requests and run only with --active.
	Active      bool   `json:"active"`
	Description string `json:"description"`
}

// SkipError is what a check returns when it cannot apply to this target
// (it needs two identities, say). The report lists the check as skipped,
// with Reason, instead of as passed or failed.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// Skip returns a *SkipError with the given reason.
func Skip(reason string) error { return &SkipError{Reason: reason} }

// Requester is the one way a check talks to the target. The engine's
// implementation enforces scope, the method policy, rate, budget and
// timeouts, and records every exchange as redacted evidence.
type Requester interface {
	// Do sends req and returns the exchange. It returns an error wrapping
	// one of the sentinel errors below when the engine refused to send, or
	// a transport error when the target could not be reached; an HTTP
	// error status is not an error.
	Do(ctx context.Context, req *Request) (*Exchange, error)
}

// Errors a Requester returns when it refuses to send a request.
var (
	// ErrOutOfScope: the request would leave the target's scheme, host and port.
	ErrOutOfScope = errors.New("request out of scope")
	// ErrWriteNotAllowed: a state-changing method without --active.
	ErrWriteNotAllowed = errors.New("write method not allowed without --active")
	// ErrBudgetExhausted: the scan's request budget or time budget is spent.
	ErrBudgetExhausted = errors.New("request budget exhausted")
)

// Request is what a check asks the engine to send.
type Request struct {
	Method string
	// Path is joined onto the target's base URL path, or, when it is an
	// absolute URL, used as is (and must be in scope).
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
	// Identity names the identity to act as: "" is the default identity
	// (the first configured one, or only the global headers when none is),
	// Anonymous sends no credentials at all, any other value is the name
	// of a configured identity.
	Identity string
	// Operation, when set, ties the exchange to an inventory operation for
	// coverage counting.
	Operation *Operation
	// NoRedirect returns 3xx responses as they are instead of following
	// in-scope redirects.
	NoRedirect bool
	// NoRetry returns a 429 or 503 as it is instead of waiting and
	// retrying: for checks whose subject is the throttling itself.
	NoRetry bool
	// SameHost widens the scope of this one request from the target's
	// scheme, host and port to its host: an absolute Path may then use
	// the other of http and https, or another port, on the same host. It
	// is for checks whose subject is another listener of the target's own
	// host (its plain HTTP port); redirects are still followed only within
	// the target's origin.
	SameHost bool
}

// Exchange is one request and its response, as sent and received. Its
// Request and Response are already redacted, so they can go into evidence.
type Exchange struct {
	Request  RecordedRequest  `json:"request"`
	Response RecordedResponse `json:"response"`
	// Curl reproduces the request (with redacted secrets left as placeholders).
	Curl string `json:"curl"`
}

// RecordedRequest is a request as it left the machine, redacted.
type RecordedRequest struct {
	Method string      `json:"method"`
	URL    string      `json:"url"`
	Header http.Header `json:"headers,omitempty"`
	Body   string      `json:"body,omitempty"`
	// Identity is who sent the request: Anonymous, an identity's name, or
	// "" when only the global headers were sent.
	Identity string `json:"identity,omitempty"`
}

// RecordedResponse is a response as it came back, redacted. Body holds at
// most the engine's body cap; Truncated says when more was sent.
type RecordedResponse struct {
	Status    int           `json:"status"`
	Header    http.Header   `json:"headers,omitempty"`
	Body      string        `json:"body,omitempty"`
	Truncated bool          `json:"truncated,omitempty"`
	Duration  time.Duration `json:"durationNs"`
	// Raw is the unredacted body, for the check's own parsing. It is never
	// serialised.
	Raw []byte `json:"-"`
}

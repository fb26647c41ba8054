package scan

import (
	"context"
	"time"
)

// Callbacks is a listener Merlon runs itself, so that a check can tell
// whether the target made a request of its own to a URL it was given
// (server-side request forgery, webhooks that accept any URL). The
// pipeline starts one for active scans and sets Target.Callbacks; checks
// that need it skip when it is nil.
type Callbacks interface {
	// New returns a fresh URL on the listener, as the target should reach
	// it, and the unique token in that URL.
	New() (url, token string)
	// Loopback returns the URL of token on the listener's own listening
	// address (http://127.0.0.1:port/token for the default), an internal
	// address a target on the same host or network can reach.
	Loopback(token string) string
	// Marker is the text the listener answers every request for token
	// with, so that a response that quotes it proves the target fetched
	// the URL and returned what it read.
	Marker(token string) string
	// Page returns the URL of a page the listener serves for token as
	// text/html, and its exact body: a script element that does nothing,
	// so that an HTML response quoting it verbatim proves the target put
	// third-party markup into its own page without encoding it.
	Page(token string) (url, body string)
	// Seen reports whether a request carrying token reached the listener,
	// waiting up to wait (or until ctx ends) for one to arrive.
	Seen(ctx context.Context, token string, wait time.Duration) bool
}

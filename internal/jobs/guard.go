package jobs

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/merlonsec/merlon/internal/netguard"
)

// The server refuses targets and webhook URLs that resolve to internal
// addresses when it is shared (no --allow-private-targets). Jobs run later,
// possibly in another process, after the name may have changed its answer:
// a webhook could be steered into the worker's own network, and a
// scheduled scan could run long after its URL was checked. So the jobs
// check again (package netguard): webhook POSTs at connect time, scheduled
// scans before they are queued.

// checkURL refuses a URL a job must not reach: anything but http(s), and,
// unless private targets are allowed, a host any of whose addresses is
// internal. Every address the name resolves to is checked, since a
// client may use any.
func (r *Runner) checkURL(ctx context.Context, what, raw string) error {
	lookup := r.cfg.lookup
	if lookup == nil {
		lookup = net.DefaultResolver.LookupIPAddr
	}
	_, err := netguard.CheckURL(ctx, lookup, what, raw, r.cfg.AllowPrivateTargets)
	return err
}

// webhookClient is the default client of webhook POSTs: a 30 s timeout, no
// redirects (a receiver that redirects is misconfigured, and following
// would resend the signed body somewhere nobody chose), and, unless
// private targets are allowed, the connect-time guard.
func (r *Runner) webhookClient() *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !r.cfg.AllowPrivateTargets {
		d.Control = netguard.Control
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = d.DialContext
	// A proxy would dial on the worker's behalf, past the guard.
	tr.Proxy = nil
	return &http.Client{
		Timeout:       30 * time.Second,
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

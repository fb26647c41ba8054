// Package callback is the small HTTP listener Merlon runs during active
// scans so that out-of-band checks (server-side request forgery, webhook
// registration) can prove the target made a request of its own: each
// probe carries a URL with a unique token, and the probe is confirmed when
// a request for that token arrives.
//
// By default the listener binds 127.0.0.1 on a random port, which only a
// target on the same machine can reach. For a remote target, bind an
// address it can reach (--callback-listen) and, when the listener sits
// behind a proxy or NAT, give the URL the target should use
// (--callback-url); see docs/checks.md.
package callback

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
)

// maxTokens bounds how many tokens a listener remembers, so that a scan
// cannot grow it without limit.
const maxTokens = 10000

// Hit is one request for an issued token that reached the listener.
type Hit struct {
	Token      string
	Method     string
	Path       string
	RemoteAddr string
	UserAgent  string
	At         time.Time
}

// Listener is a running callback listener. It is safe for concurrent use.
type Listener struct {
	srv    *http.Server
	ln     net.Listener
	public *url.URL

	mu      sync.Mutex
	issued  map[string]*Hit // nil value: issued, not yet seen
	changed chan struct{}   // closed and replaced on every new hit
}

var _ scan.Callbacks = (*Listener)(nil)

// Start listens on listenAddr ("127.0.0.1:0" when empty) and serves until
// ctx ends or Close is called. publicBase is the URL the target should
// use to reach the listener; empty means the listening address itself.
func Start(ctx context.Context, listenAddr, publicBase string) (*Listener, error) {
	if listenAddr == "" {
		listenAddr = "127.0.0.1:0"
	}
	var public *url.URL
	if publicBase != "" {
		u, err := url.Parse(publicBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("callback url %q: want an absolute http or https URL", publicBase)
		}
		public = u
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("listen for callbacks on %s: %w", listenAddr, err)
	}
	l := &Listener{ln: ln, issued: make(map[string]*Hit), changed: make(chan struct{})}
	if public == nil {
		public = &url.URL{Scheme: "http", Host: l.loopbackHost()}
	}
	l.public = public
	l.srv = &http.Server{
		Handler:           http.HandlerFunc(l.serve),
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	go func() { _ = l.srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = l.Close()
	}()
	return l, nil
}

// Close stops the listener.
func (l *Listener) Close() error {
	err := l.srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Addr is the address the listener is bound to.
func (l *Listener) Addr() string { return l.ln.Addr().String() }

// loopbackHost is the listening address with an unspecified IP (0.0.0.0,
// ::) replaced by 127.0.0.1, so that it can go into a URL.
func (l *Listener) loopbackHost() string {
	host, port, err := net.SplitHostPort(l.Addr())
	if err != nil {
		return l.Addr()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// Token issues a new unique token. Only issued tokens are recorded, so a
// stray request (a crawler, a guess) proves nothing.
func (l *Listener) Token() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	tok := "m" + hex.EncodeToString(b[:])
	l.mu.Lock()
	if len(l.issued) < maxTokens {
		l.issued[tok] = nil
	}
	l.mu.Unlock()
	return tok
}

// URL returns the public URL of token.
func (l *Listener) URL(token string) string {
	u := *l.public
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + token
	u.RawQuery = ""
	return u.String()
}

// New issues a token and returns its public URL and the token.
func (l *Listener) New() (string, string) {
	tok := l.Token()
	return l.URL(tok), tok
}

// Loopback returns token's URL on the listening address itself.
func (l *Listener) Loopback(token string) string {
	return "http://" + l.loopbackHost() + "/" + token
}

// Marker is the body the listener answers for token.
func (l *Listener) Marker(token string) string { return "merlon-callback-" + token }

// pagePath is the path under a token at which the listener serves its
// HTML page rather than the plain marker.
const pagePath = "page.html"

// Page returns the URL of token's HTML page and the page's exact body.
func (l *Listener) Page(token string) (string, string) {
	return l.URL(token) + "/" + pagePath, pageBody(token)
}

// pageBody is the HTML page for token: a script element holding only a
// comment, harmless wherever it runs.
func pageBody(token string) string {
	return "<script>/* merlon-page-" + token + " */</script>"
}

// Seen reports whether token was requested, waiting up to wait.
func (l *Listener) Seen(ctx context.Context, token string, wait time.Duration) bool {
	_, ok := l.Wait(ctx, token, wait)
	return ok
}

// Wait returns the first hit for token, waiting up to timeout (or until
// ctx ends) for it to arrive.
func (l *Listener) Wait(ctx context.Context, token string, timeout time.Duration) (*Hit, bool) {
	timer := time.NewTimer(max(timeout, 0))
	defer timer.Stop()
	for {
		l.mu.Lock()
		h := l.issued[token]
		ch := l.changed
		l.mu.Unlock()
		if h != nil {
			c := *h
			return &c, true
		}
		select {
		case <-ch:
		case <-timer.C:
			return nil, false
		case <-ctx.Done():
			return nil, false
		}
	}
}

// serve records a request whose first path segment is an issued token and
// answers with its marker.
func (l *Listener) serve(w http.ResponseWriter, r *http.Request) {
	seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	// A public base with a path prefix puts the token last, or just
	// before the page's name.
	page := strings.HasSuffix(r.URL.Path, "/"+pagePath)
	rest := strings.TrimSuffix(strings.TrimSuffix(r.URL.Path, "/"+pagePath), "/")
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		if last := rest[i+1:]; l.known(last) {
			seg = last
		}
	}
	if !l.known(seg) {
		http.NotFound(w, r)
		return
	}
	l.mu.Lock()
	if l.issued[seg] == nil {
		l.issued[seg] = &Hit{
			Token: seg, Method: r.Method, Path: r.URL.Path,
			RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent(), At: time.Now(),
		}
		close(l.changed)
		l.changed = make(chan struct{})
	}
	l.mu.Unlock()
	if page && strings.HasSuffix(rest, "/"+seg) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(pageBody(seg)))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(l.Marker(seg) + "\n"))
}

func (l *Listener) known(tok string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.issued[tok]
	return ok
}

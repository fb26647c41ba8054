package transport_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/transport"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/coverage"
)

// tlsTarget serves h with cfg on 127.0.0.1 and returns the target.
func tlsTarget(t *testing.T, h http.Handler, cfg *tls.Config) *scan.Target {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &scan.Target{BaseURL: u, Profile: scan.Standard}
}

func locations(fs []scan.Finding) string {
	var l []string
	for _, f := range fs {
		l = append(l, f.Location)
	}
	return strings.Join(l, ",")
}

func TestTLSAndCertificate(t *testing.T) {
	vuln, err := coverage.TransportVulnerableTLS()
	if err != nil {
		t.Fatal(err)
	}
	clean, ca, err := coverage.TransportCleanTLS()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", writeCA(t, ca))
	tests := []struct {
		name  string
		check scan.Check
		cfg   *tls.Config
		want  string
	}{
		{"weak versions and suite", transport.TLS{}, vuln, "TLS 1.0,TLS 1.1,cipher suites"},
		{"modern tls", transport.TLS{}, clean, ""},
		{"self-signed, wrong name, expiring", transport.Certificate{}, vuln, "expiring,hostname,trust"},
		{"trusted certificate", transport.Certificate{}, clean, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := tlsTarget(t, coverage.TransportClean(), tt.cfg)
			fs, err := tt.check.Run(t.Context(), target, nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := locations(fs); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.check.Meta().ID, got, tt.want)
			}
			for _, msg := range checktest.Validate(tt.check.Meta(), fs) {
				t.Error(msg)
			}
		})
	}
}

func writeCA(t *testing.T, pem []byte) string {
	t.Helper()
	p := t.TempDir() + "/ca.pem"
	if err := writeFile(p, pem); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTLSSkipsPlainHTTP(t *testing.T) {
	u, _ := url.Parse("http://127.0.0.1:1")
	for _, c := range []scan.Check{transport.TLS{}, transport.Certificate{}} {
		if _, err := c.Run(t.Context(), &scan.Target{BaseURL: u}, nil); err == nil || !strings.Contains(err.Error(), "not https") {
			t.Errorf("%s.Run(http target) = %v, want a skip", c.Meta().ID, err)
		}
	}
}

func TestCookies(t *testing.T) {
	tests := []struct {
		name  string
		check scan.Check
		h     http.Handler
		want  int
	}{
		{"secure missing", transport.CookieSecure{}, coverage.TransportVulnerable(), 1},
		{"httponly missing", transport.CookieHTTPOnly{}, coverage.TransportVulnerable(), 1},
		{"samesite missing", transport.CookieSameSite{}, coverage.TransportVulnerable(), 1},
		{"secure set", transport.CookieSecure{}, coverage.TransportClean(), 0},
		{"httponly set", transport.CookieHTTPOnly{}, coverage.TransportClean(), 0},
		{"samesite set", transport.CookieSameSite{}, coverage.TransportClean(), 0},
		{"mixed content", transport.MixedContent{}, coverage.TransportVulnerable(), 1},
		{"no mixed content", transport.MixedContent{}, coverage.TransportClean(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := checktest.Run(t, tt.check, tt.h, checktest.WithTLS())
			if len(fs) != tt.want {
				t.Errorf("%s = %d findings, want %d", tt.check.Meta().ID, len(fs), tt.want)
			}
			if len(fs) > 0 && tt.check.Meta().ID != "transport.mixed-content" && fs[0].Location != "session_id" {
				t.Errorf("location = %q, want session_id", fs[0].Location)
			}
		})
	}
}

func TestHTTPSRedirect(t *testing.T) {
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://"+strings.Split(r.Host, ":")[0]+"/", http.StatusMovedPermanently)
	})
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) })
	tests := []struct {
		name  string
		check transport.HTTPSRedirect
		h     http.Handler
		want  int
	}{
		{"plain http answered", transport.HTTPSRedirect{IncludeLoopback: true}, plain, 1},
		{"redirects to https", transport.HTTPSRedirect{IncludeLoopback: true}, redirect, 0},
		{"loopback skipped by default", transport.HTTPSRedirect{}, plain, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fs := checktest.Run(t, tt.check, tt.h); len(fs) != tt.want {
				t.Errorf("HTTPSRedirect = %d findings, want %d", len(fs), tt.want)
			}
		})
	}
}

// TestHTTPSRedirectPlainPort: for an https target the check asks the
// plain HTTP port of the same host, and says nothing when it is closed.
func TestHTTPSRedirectPlainPort(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }))
	defer plain.Close()
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://127.0.0.1/", http.StatusMovedPermanently)
	}))
	defer redir.Close()
	port := func(s *httptest.Server) int {
		u, _ := url.Parse(s.URL)
		p, _ := strconv.Atoi(u.Port())
		return p
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closedPort := port(closed)
	closed.Close()
	tests := []struct {
		name string
		port int
		want int
	}{
		{"plain port answers", port(plain), 1},
		{"plain port redirects", port(redir), 0},
		{"plain port closed", closedPort, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var seen []scan.RecordedRequest
			fs := checktest.Run(t, transport.HTTPSRedirect{HTTPPort: tt.port}, http.NotFoundHandler(), checktest.WithTLS(),
				checktest.WithObserver(func(ex *scan.Exchange) {
					mu.Lock()
					seen = append(seen, ex.Request)
					mu.Unlock()
				}))
			if len(fs) != tt.want {
				t.Errorf("HTTPSRedirect{HTTPPort: %d} = %d findings, want %d", tt.port, len(fs), tt.want)
			}
			// The plain request goes through the engine (recorded), once,
			// anonymously, to the plain port.
			mu.Lock()
			defer mu.Unlock()
			wantSeen := 1
			if tt.port == closedPort {
				wantSeen = 0
			}
			if len(seen) != wantSeen {
				t.Fatalf("engine recorded %d exchanges, want %d: %+v", len(seen), wantSeen, seen)
			}
			for _, r := range seen {
				want := "http://127.0.0.1:" + strconv.Itoa(tt.port) + "/"
				if r.URL != want || r.Identity != scan.Anonymous {
					t.Errorf("recorded %s as %q, want %s as %q", r.URL, r.Identity, want, scan.Anonymous)
				}
			}
		})
	}
}

package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
)

// handshakeTimeout bounds each handshake.
const handshakeTimeout = 5 * time.Second

// hostPort is the target's own address: the only place these checks dial.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if strings.EqualFold(u.Scheme, "http") {
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// handshake completes one TLS handshake with the target's host:port under
// cfg and closes the connection; nothing is sent over it. cfg's ServerName
// is set to the target's host.
func handshake(ctx context.Context, t *scan.Target, cfg *tls.Config) (tls.ConnectionState, error) {
	cfg = cfg.Clone()
	cfg.ServerName = t.BaseURL.Hostname()
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: handshakeTimeout}, Config: cfg}
	ctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", hostPort(t.BaseURL))
	if err != nil {
		return tls.ConnectionState{}, fmt.Errorf("tls handshake: %w", err)
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState(), nil
}

// reachable tells a refused handshake (the server spoke and said no) from
// a target that cannot be reached at all.
func reachable(err error) bool {
	var op *net.OpError
	return !(errors.As(err, &op) && op.Op == "dial")
}

// tlsExchange records a handshake as evidence: the findings of these
// checks have no HTTP exchange, so the "request" names what was offered
// and Curl gives a command that repeats the handshake.
func tlsExchange(t *scan.Target, offered, result, opensslArgs string) *scan.Exchange {
	hp := hostPort(t.BaseURL)
	return &scan.Exchange{
		Request:  scan.RecordedRequest{Method: "TLS", URL: "tls://" + hp, Body: offered},
		Response: scan.RecordedResponse{Status: 0, Header: http.Header{}, Body: result},
		Curl:     "openssl s_client -connect " + hp + " -servername " + t.BaseURL.Hostname() + " " + opensslArgs + " </dev/null",
	}
}

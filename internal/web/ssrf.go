package web

import (
	"context"
	"net/url"
	"strings"
	"syscall"

	"github.com/merlonsec/merlon/internal/netguard"
)

// checkURL refuses a URL the server must not fetch or scan: anything but
// http(s), and, unless private targets are allowed, a host any of whose
// addresses is loopback, private, link-local or cloud-internal. Every
// address the name resolves to is checked, since a client may use any.
func (s *Server) checkURL(ctx context.Context, what, raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, badRequest("%s must be an http or https URL", what)
	}
	if u.User != nil {
		return nil, badRequest("%s must not carry credentials; use identities", what)
	}
	if s.private {
		return u, nil
	}
	host := u.Hostname()
	a, why, err := netguard.Host(ctx, s.lookup, host)
	if err != nil {
		return nil, badRequest("%s: %v", what, err)
	}
	if why != "" {
		return nil, forbidden("%s: %s resolves to %s (%s); this server refuses such targets unless started with --allow-private-targets", what, host, why, a)
	}
	return u, nil
}

// guardDial is a net.Dialer Control func that refuses blocked addresses at
// connect time, after any DNS answer, so a name cannot pass checkURL with a
// public address and then be re-resolved to an internal one.
func (s *Server) guardDial(network, address string, _ syscall.RawConn) error {
	if s.private {
		return nil
	}
	return netguard.Control(network, address, nil)
}

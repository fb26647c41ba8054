package web

import (
	"context"
	"errors"
	"net/url"
	"syscall"

	"github.com/merlonsec/merlon/internal/netguard"
)

// checkURL refuses a URL the server must not fetch or scan: anything but
// http(s), and, unless private targets are allowed, a host any of whose
// addresses is loopback, private, link-local or cloud-internal. Every
// address the name resolves to is checked, since a client may use any.
func (s *Server) checkURL(ctx context.Context, what, raw string) (*url.URL, error) {
	u, err := netguard.CheckURL(ctx, s.lookup, what, raw, s.private)
	switch {
	case errors.Is(err, netguard.ErrRefused):
		return nil, forbidden("%v", err)
	case err != nil:
		return nil, badRequest("%v", err)
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

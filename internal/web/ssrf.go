package web

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// blockedPrefixes are the ranges a shared server must not be steered into
// beyond what netip's own predicates cover: carrier-grade NAT (where some
// clouds put their metadata service) and the IPv4/IPv6 translation ranges
// that can reach IPv4 private hosts.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
}

// blockedAddr says why ip may not be reached from a shared server, or ""
// when it may.
func blockedAddr(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "an invalid address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsUnspecified():
		return "an unspecified address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address (cloud metadata lives there)"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return "a reserved or cloud-internal address"
		}
	}
	return ""
}

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
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ips, err := s.lookup(ctx, host)
		if err != nil || len(ips) == 0 {
			return nil, badRequest("%s: cannot resolve %s", what, host)
		}
		for _, ip := range ips {
			a, ok := netip.AddrFromSlice(ip.IP)
			if !ok {
				return nil, badRequest("%s: %s resolves to an unusable address", what, host)
			}
			addrs = append(addrs, a)
		}
	}
	for _, a := range addrs {
		if why := blockedAddr(a); why != "" {
			return nil, forbidden("%s: %s resolves to %s (%s); this server refuses such targets unless started with --allow-private-targets", what, host, why, a.Unmap())
		}
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
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if why := blockedAddr(ap.Addr()); why != "" {
		return fmt.Errorf("dial %s: refused, %s", address, why)
	}
	return nil
}

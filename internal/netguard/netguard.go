// Package netguard is the rule a shared Merlon server and its workers
// follow before they reach a URL a user typed: no loopback, private,
// link-local or cloud-internal address, unless the operator allowed
// private targets. The dashboard checks target, spec and webhook URLs
// when they are set; workers check again when a scheduled scan is queued
// and at connect time for every webhook POST, since a name may answer
// differently later. One rule, here, serves both.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrRefused marks a connection or URL the guard refused for its address.
var ErrRefused = errors.New("refused")

// reservedPrefixes are the ranges beyond netip's own predicates that a
// shared server must not reach: carrier-grade NAT (where some clouds put
// their metadata service) and the IPv4/IPv6 translation ranges that can
// reach IPv4 private hosts.
var reservedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
}

// Blocked says why ip may not be reached from a shared server, or ""
// when it may.
func Blocked(ip netip.Addr) string {
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
	for _, p := range reservedPrefixes {
		if p.Contains(ip) {
			return "a reserved or cloud-internal address"
		}
	}
	return ""
}

// Lookup resolves a host name; net.DefaultResolver.LookupIPAddr fits.
type Lookup func(ctx context.Context, host string) ([]net.IPAddr, error)

// Host checks every address host resolves to (a literal IP is its own
// answer), since a client may use any. It returns the first blocked
// address and why, or an error when host does not resolve to usable
// addresses; why is "" when every address may be reached.
func Host(ctx context.Context, lookup Lookup, host string) (addr netip.Addr, why string, err error) {
	var addrs []netip.Addr
	if ip, perr := netip.ParseAddr(host); perr == nil {
		addrs = []netip.Addr{ip}
	} else {
		ips, lerr := lookup(ctx, host)
		if lerr != nil || len(ips) == 0 {
			return netip.Addr{}, "", fmt.Errorf("cannot resolve %s", host)
		}
		for _, ip := range ips {
			a, ok := netip.AddrFromSlice(ip.IP)
			if !ok {
				return netip.Addr{}, "", fmt.Errorf("%s resolves to an unusable address", host)
			}
			addrs = append(addrs, a)
		}
	}
	for _, a := range addrs {
		if why := Blocked(a); why != "" {
			return a.Unmap(), why, nil
		}
	}
	return netip.Addr{}, "", nil
}

// Control is a net.Dialer Control func: it runs after name resolution, on
// the address actually dialled, so a name cannot pass an earlier check
// and then point inside. Its error wraps ErrRefused.
func Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	if why := Blocked(ap.Addr()); why != "" {
		return fmt.Errorf("dial %s: %w: %s (allowed only with --allow-private-targets)", address, ErrRefused, why)
	}
	return nil
}

// CheckURL parses raw, a URL a shared server or worker is asked to reach,
// and refuses it when it is not http(s), carries credentials, or (unless
// allowPrivate) names a host any of whose addresses is internal. what
// names the URL in messages ("target URL"). A refusal for an address
// wraps ErrRefused; every other error is the URL's own fault.
func CheckURL(ctx context.Context, lookup Lookup, what, raw string, allowPrivate bool) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s must be an http or https URL", what)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s must not carry credentials; use identities", what)
	}
	if allowPrivate {
		return u, nil
	}
	host := u.Hostname()
	a, why, err := Host(ctx, lookup, host)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if why != "" {
		return nil, fmt.Errorf("%s: %s resolves to %s (%s): %w unless the server and workers run with --allow-private-targets",
			what, host, why, a, ErrRefused)
	}
	return u, nil
}

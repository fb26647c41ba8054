package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// TLS offers the target the protocol versions and cipher suites a modern
// client never would, and reports those it accepts: TLS 1.0 and 1.1
// (deprecated by RFC 8996) and the suites crypto/tls lists as insecure
// (RC4, 3DES, CBC with SHA-256 MACs). Three handshakes, no HTTP request.
type TLS struct{}

var _ scan.Check = TLS{}

// Meta describes the check.
func (TLS) Meta() scan.Meta {
	return scan.Meta{
		ID:          "transport.tls",
		Family:      "transport",
		Title:       "Weak TLS protocol or cipher suite accepted",
		Category:    scan.API8Misconfiguration,
		CWE:         326,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Description: "On https:// targets only, makes three TLS handshakes with the target's own host and port " +
			"(outside the request budget, nothing sent over them): one offering only TLS 1.0, one only TLS 1.1, " +
			"and one offering TLS 1.2 with only the cipher suites Go's crypto/tls lists as insecure. " +
			"Each one the server completes is reported.",
	}
}

func suiteIDs(suites []*tls.CipherSuite) []uint16 {
	var ids []uint16
	for _, s := range suites {
		ids = append(ids, s.ID)
	}
	return ids
}

// Run makes the three handshakes.
func (c TLS) Run(ctx context.Context, t *scan.Target, _ scan.Requester) ([]scan.Finding, error) {
	if t.BaseURL == nil || !strings.EqualFold(t.BaseURL.Scheme, "https") {
		return nil, scan.Skip("target is not https")
	}
	all := append(suiteIDs(tls.CipherSuites()), suiteIDs(tls.InsecureCipherSuites())...)
	probes := []struct {
		location, offered, openssl string
		cfg                        *tls.Config
		severity                   scan.Severity
		why                        string
	}{
		{"TLS 1.0", "TLS 1.0 only", "-tls1",
			&tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10, CipherSuites: all, InsecureSkipVerify: true}, //nolint:gosec // probing what the server accepts, not trusting it
			scan.Medium, "TLS 1.0 is deprecated (RFC 8996) and open to downgrade and CBC padding attacks."},
		{"TLS 1.1", "TLS 1.1 only", "-tls1_1",
			&tls.Config{MinVersion: tls.VersionTLS11, MaxVersion: tls.VersionTLS11, CipherSuites: all, InsecureSkipVerify: true}, //nolint:gosec // as above
			scan.Medium, "TLS 1.1 is deprecated (RFC 8996)."},
		{"cipher suites", "TLS 1.2 with only insecure cipher suites", "-tls1_2 -cipher 'RC4:3DES:aSHA256'",
			&tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: suiteIDs(tls.InsecureCipherSuites()), InsecureSkipVerify: true}, //nolint:gosec // as above
			scan.Medium, "The suite has known weaknesses (RC4 biases, 3DES's 64-bit block, or CBC with a SHA-256 MAC open to timing attacks)."},
	}
	m := c.Meta()
	var out []scan.Finding
	var refused, unreachable int
	var lastErr error
	for _, p := range probes {
		st, err := handshake(ctx, t, p.cfg)
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		if err != nil {
			if reachable(err) {
				refused++
			} else {
				unreachable++
				lastErr = err
			}
			continue
		}
		suite := tls.CipherSuiteName(st.CipherSuite)
		f := probe.Finding(m, t, "", p.location)
		f.Severity = p.severity
		f.Confidence = scan.Confirmed
		f.Title = "Server accepts " + p.offered
		if p.location == "cipher suites" {
			f.Title = "Server accepts insecure cipher suite " + suite
		}
		f.Description = fmt.Sprintf("A handshake offering %s completed with %s and %s. %s",
			p.offered, tls.VersionName(st.Version), suite, p.why)
		result := fmt.Sprintf("handshake completed: %s, %s", tls.VersionName(st.Version), suite)
		f.Evidence = []scan.Evidence{probe.Evidence(tlsExchange(t, "offered "+p.offered, result, p.openssl), "handshake accepted", result)}
		out = append(out, f)
	}
	if len(out) == 0 && refused == 0 && unreachable > 0 {
		return nil, fmt.Errorf("no tls handshake reached the target: %w", lastErr)
	}
	return out, nil
}

// ExpiryWarning is how close to its expiry a certificate must be for
// transport.certificate to warn.
const ExpiryWarning = 14 * 24 * time.Hour

// Certificate reads the target's certificate in one TLS handshake and
// reports it when it is expired, not yet valid, issued for another host
// name, not trusted by this machine's roots, or within 14 days of expiry.
//
// Trust is judged against the system roots (on Linux, SSL_CERT_FILE and
// SSL_CERT_DIR replace them), whether or not the scan runs with
// --insecure: --insecure lets the scan proceed, it does not make the
// certificate trusted by the API's clients. A private CA is a legitimate
// setup, so an untrusted chain is reported as likely, not confirmed; add
// the CA to SSL_CERT_FILE to have it trusted.
type Certificate struct{}

var _ scan.Check = Certificate{}

// Meta describes the check.
func (Certificate) Meta() scan.Meta {
	return scan.Meta{
		ID:          "transport.certificate",
		Family:      "transport",
		Title:       "Invalid or untrusted TLS certificate",
		Category:    scan.API8Misconfiguration,
		CWE:         295,
		Severity:    scan.High,
		MinSeverity: scan.Low,
		Description: "On https:// targets only, makes one TLS handshake with the target's own host and port " +
			"(outside the request budget, nothing sent over it) and checks the certificate it presents: validity " +
			"dates, host name, trust by the system roots (SSL_CERT_FILE honoured), and expiry within 14 days.",
	}
}

// Run makes the handshake and judges the certificate.
func (c Certificate) Run(ctx context.Context, t *scan.Target, _ scan.Requester) ([]scan.Finding, error) {
	if t.BaseURL == nil || !strings.EqualFold(t.BaseURL.Scheme, "https") {
		return nil, scan.Skip("target is not https")
	}
	st, err := handshake(ctx, t, &tls.Config{MinVersion: tls.VersionTLS10, InsecureSkipVerify: true}) //nolint:gosec // verified by hand below, to say what is wrong
	if err != nil {
		return nil, err
	}
	if len(st.PeerCertificates) == 0 {
		return nil, nil
	}
	return c.judge(t, st.PeerCertificates, time.Now()), nil
}

// judge returns the findings about chain (leaf first) at time now.
func (c Certificate) judge(t *scan.Target, chain []*x509.Certificate, now time.Time) []scan.Finding {
	leaf := chain[0]
	host := t.BaseURL.Hostname()
	m := c.Meta()
	summary := fmt.Sprintf("subject %q, issuer %q, valid %s to %s, names %v",
		leaf.Subject.String(), leaf.Issuer.String(), leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339), names(leaf))
	var out []scan.Finding
	add := func(location, title string, sev scan.Severity, conf scan.Confidence, desc string) {
		f := probe.Finding(m, t, "", location)
		f.Title, f.Severity, f.Confidence = title, sev, conf
		f.Description = desc + " Certificate: " + summary + "."
		f.Evidence = []scan.Evidence{probe.Evidence(tlsExchange(t, "TLS handshake", "certificate: "+summary, "-showcerts"), title, summary)}
		out = append(out, f)
	}
	switch {
	case now.After(leaf.NotAfter):
		add("expired", "TLS certificate expired", scan.High, scan.Confirmed,
			fmt.Sprintf("The certificate expired on %s; clients either fail or are taught to click through warnings.", leaf.NotAfter.UTC().Format(time.DateOnly)))
	case now.Before(leaf.NotBefore):
		add("not yet valid", "TLS certificate not yet valid", scan.High, scan.Confirmed,
			fmt.Sprintf("The certificate is valid only from %s.", leaf.NotBefore.UTC().Format(time.DateOnly)))
	case leaf.NotAfter.Sub(now) < ExpiryWarning:
		add("expiring", "TLS certificate expires within 14 days", scan.Low, scan.Confirmed,
			fmt.Sprintf("The certificate expires on %s; renew it before clients start failing.", leaf.NotAfter.UTC().Format(time.DateOnly)))
	}
	if err := leaf.VerifyHostname(host); err != nil {
		add("hostname", "TLS certificate does not match the host name", scan.High, scan.Confirmed,
			fmt.Sprintf("The certificate is not valid for %q: %v.", host, err))
	}
	inter := x509.NewCertPool()
	for _, cert := range chain[1:] {
		inter.AddCert(cert)
	}
	// Judge trust at a time inside the validity period, so that an
	// expired certificate is not also reported as untrusted.
	at := leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
	if _, err := leaf.Verify(x509.VerifyOptions{Intermediates: inter, CurrentTime: at}); err != nil {
		what := "is not trusted by this machine's root certificates"
		if leaf.Subject.String() == leaf.Issuer.String() && leaf.CheckSignatureFrom(leaf) == nil {
			what = "is self-signed"
		}
		add("trust", "Untrusted TLS certificate", scan.Medium, scan.Likely,
			fmt.Sprintf("The certificate %s (%v), so clients that verify certificates refuse it and those that do not can be intercepted. If the API uses a private CA on purpose, give Merlon the CA with SSL_CERT_FILE.", what, err))
	}
	return out
}

func names(c *x509.Certificate) []string {
	n := append([]string{}, c.DNSNames...)
	for _, ip := range c.IPAddresses {
		n = append(n, ip.String())
	}
	return n
}

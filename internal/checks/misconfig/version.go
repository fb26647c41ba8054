package misconfig

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// VersionDisclosure reports response headers that name a server product
// together with its version, such as "Server: Werkzeug/3.0.1 Python/3.11.2".
// A version lets an attacker look up exactly which published vulnerabilities
// apply without probing for them.
//
// A product name alone ("Server: nginx", "X-Powered-By: Express") is not
// reported: it says no more than the response formats already do, and
// Merlon's stack fingerprinting records it. Headers whose name is the
// product (X-AspNet-Version) are reported on a bare version number.
type VersionDisclosure struct{}

var _ scan.Check = VersionDisclosure{}

// Meta describes the check.
func (VersionDisclosure) Meta() scan.Meta {
	return scan.Meta{
		ID:          "misconfig.version-disclosure",
		Family:      "misconfig",
		Title:       "Server version disclosed in headers",
		Category:    scan.API8Misconfiguration,
		CWE:         497,
		Severity:    scan.Low,
		MinSeverity: scan.Low,
		Description: "Reports Server, X-Powered-By and similar headers that reveal a product " +
			"and its version number.",
	}
}

// versionHeaders are the headers servers and frameworks use to announce
// themselves. versionOnly marks those whose name already is the product.
var versionHeaders = []struct {
	name        string
	versionOnly bool
}{
	{"Server", false},
	{"X-Powered-By", false},
	{"X-AspNet-Version", true},
	{"X-AspNetMvc-Version", true},
	{"X-Generator", false},
	{"X-Runtime", false}, // Rails sends a duration here, which never matches
	{"X-Server", false},
}

// productVersion matches a product token followed by a version:
// "nginx/1.25.3", "Apache/2", "Jetty(9.4.44.v20210927)", "Phusion Passenger 6.0.18".
// A space-separated version needs a dot, so "Next.js 14" style prose does not count.
var productVersion = regexp.MustCompile(`(?i)\b[a-z][\w.+-]*?(?:/v?\d+(?:\.\w+)*|\(v?\d+(?:\.\w+)+\)?| v?\d+(?:\.\d+)+)`)

// bareVersion matches a version number alone: "4.0.30319".
var bareVersion = regexp.MustCompile(`^v?\d+(?:\.\d+)+$`)

// versionBudget is how many operations the check looks at besides the base
// URL: servers set these headers globally, so a few responses suffice.
func versionBudget(p scan.Profile) int {
	switch p {
	case scan.Quick:
		return 3
	case scan.Deep:
		return 10
	}
	return 5
}

// Run sends a GET to the base URL and to a few operations and reports each
// header that discloses a version once, for the whole target.
func (c VersionDisclosure) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	ops := append([]*scan.Operation{nil}, probe.Gets(t, versionBudget(t.Profile))...)
	m := c.Meta()
	var out []scan.Finding
	seen := make(map[string]bool)
	s := probe.NewSender(h)
	for _, op := range ops {
		ex := s.Do(ctx, probe.Get(t, op))
		if s.Done() {
			break
		}
		if ex == nil {
			continue
		}
		for _, vh := range versionHeaders {
			if seen[vh.name] {
				continue
			}
			for _, v := range ex.Response.Header.Values(vh.name) {
				if !DisclosesVersion(v, vh.versionOnly) {
					continue
				}
				seen[vh.name] = true
				f := probe.Finding(m, t, "", vh.name)
				f.Confidence = scan.Confirmed
				f.Description = fmt.Sprintf("The %s header reveals the software and its version (%q), which lets an attacker look up known vulnerabilities for that exact release.", vh.name, v)
				f.Evidence = []scan.Evidence{probe.Evidence(ex, "response announcing its software version", vh.name+": "+v)}
				out = append(out, f)
				break
			}
		}
	}
	return out, s.Err()
}

// DisclosesVersion reports whether header value v names a product with a
// version number, or, when versionOnly, is a version number by itself.
func DisclosesVersion(v string, versionOnly bool) bool {
	v = strings.TrimSpace(v)
	if versionOnly && bareVersion.MatchString(v) {
		return true
	}
	return productVersion.MatchString(v)
}

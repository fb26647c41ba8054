// Package checks is the one list of Merlon's checks, and the rules for
// choosing among them with --checks and --skip-checks.
//
// Registration is this explicit list rather than init() side effects, so
// that what a scan runs can be read in one place and a check cannot be
// switched on by merely importing its package.
package checks

import (
	"fmt"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/authn"
	"github.com/merlonsec/merlon/internal/checks/authz"
	"github.com/merlonsec/merlon/internal/checks/exposure"
	"github.com/merlonsec/merlon/internal/checks/graphql"
	"github.com/merlonsec/merlon/internal/checks/inject"
	"github.com/merlonsec/merlon/internal/checks/input"
	"github.com/merlonsec/merlon/internal/checks/inventory"
	"github.com/merlonsec/merlon/internal/checks/llm"
	"github.com/merlonsec/merlon/internal/checks/misconfig"
	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/checks/resource"
	"github.com/merlonsec/merlon/internal/checks/ssrf"
	"github.com/merlonsec/merlon/internal/checks/transport"
	"github.com/merlonsec/merlon/internal/checks/unsafe"
	"github.com/merlonsec/merlon/internal/scan"
)

// All returns every check Merlon has, in the order reports list them.
// Add a new check here (and its remediation text under internal/remedy).
func All() []scan.Check {
	// The llm checks share one session per target, so that together they
	// send one prompt at a time and stop at one time cap.
	llmFamily := llm.NewFamily(llm.Config{})
	return []scan.Check{
		misconfig.SecurityHeaders{},
		misconfig.CORS{},
		misconfig.VersionDisclosure{},
		misconfig.DangerousMethods{},
		exposure.ErrorDisclosure{},
		exposure.DebugPages{},
		exposure.SensitiveData{},
		transport.HTTPSRedirect{},
		transport.TLS{},
		transport.Certificate{},
		transport.CookieSecure{},
		transport.CookieHTTPOnly{},
		transport.CookieSameSite{},
		transport.MixedContent{},
		property.MassAssignmentSurface{},
		property.MassAssignment{},
		authn.UnauthenticatedAccess{},
		authn.JWTAlgNone{},
		authn.JWTSignatureNotVerified{},
		authn.JWTWeakSecret{},
		authn.JWTExpiredAccepted{},
		authn.JWTNoExpiry{},
		authn.JWTSensitiveClaims{},
		authn.LoginBruteForce{},
		inject.SQL{},
		inject.NoSQL{},
		inject.Command{},
		inject.Template{},
		resource.NoRateLimit{},
		resource.NoRateLimitHeaders{},
		resource.UnboundedPageSize{},
		resource.OversizedResponses{},
		resource.NoRequestSizeLimit{},
		ssrf.RequestForgery{},
		inventory.NoVersioning{},
		inventory.OldVersions{},
		inventory.DeprecatedLive{},
		inventory.UndocumentedEndpoints{},
		inventory.ExposedFiles{},
		unsafe.WebhookAnyURL{},
		unsafe.OpenRedirect{},
		unsafe.ThirdPartyReflection{},
		authz.BOLA{},
		authz.BFLA{},
		input.Validation{},
		input.ServerError{},
		graphql.Introspection{},
		graphql.FieldSuggestions{},
		graphql.Batching{},
		graphql.DepthLimit{},
		graphql.MassAssignment{},
		graphql.BFLA{},
		llm.SystemPromptLeak{Family: llmFamily},
		llm.PromptInjection{Family: llmFamily},
		llm.Jailbreak{Family: llmFamily},
		llm.MarkdownExfiltration{Family: llmFamily},
		llm.ExcessiveAgency{Family: llmFamily},
		llm.UnsafeOutput{Family: llmFamily},
	}
}

// Select returns the checks of all that include names (all of them when
// include is empty) minus those exclude names, in their order in all.
//
// A selector is a check ID ("misconfig.cors"), a family ("misconfig") or
// an OWASP category, with or without its year ("API8:2023", "API8"),
// matched case-insensitively. A selector that names nothing known is an
// error, so that a typo does not silently run (or skip) the wrong checks;
// so is an included category that no check covers yet.
func Select(all []scan.Check, include, exclude []string) ([]scan.Check, error) {
	in := make(map[string]bool)
	for _, sel := range include {
		ids, err := match(all, sel, true)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			in[id] = true
		}
	}
	out := make(map[string]bool)
	for _, sel := range exclude {
		ids, err := match(all, sel, false)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			out[id] = true
		}
	}
	var sel []scan.Check
	seen := make(map[string]bool)
	for _, c := range all {
		id := c.Meta().ID
		if seen[id] || out[id] || (len(include) > 0 && !in[id]) {
			continue
		}
		seen[id] = true
		sel = append(sel, c)
	}
	return sel, nil
}

// match returns the IDs of the checks that selector sel names. A known
// category that no check covers is an error when it is being included
// (the user asked for something Merlon cannot do) and nothing when it is
// being excluded.
func match(all []scan.Check, sel string, including bool) ([]string, error) {
	s := strings.ToLower(strings.TrimSpace(sel))
	cat, isCat := category(s)
	var ids []string
	for _, c := range all {
		m := c.Meta()
		if strings.EqualFold(m.ID, s) || strings.EqualFold(m.Family, s) || (isCat && m.Category == cat) {
			ids = append(ids, m.ID)
		}
	}
	switch {
	case len(ids) > 0:
		return ids, nil
	case isCat && !including:
		return nil, nil
	case isCat:
		return nil, fmt.Errorf("no check covers category %s yet (see merlon checks list)", cat)
	}
	return nil, fmt.Errorf("unknown check %q (see merlon checks list)", sel)
}

// category reads "api8" or "api8:2023" (already lower case) as a category.
func category(s string) (scan.Category, bool) {
	for _, c := range scan.Categories() {
		full := strings.ToLower(string(c))
		short, _, _ := strings.Cut(full, ":")
		if s == full || s == short {
			return c, true
		}
	}
	return "", false
}

package checks_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/checks"
	"github.com/merlonsec/merlon/internal/scan"
)

// fake is a check that is only metadata, so Select can be tested on a
// fixed list independent of which checks Merlon ships.
type fake scan.Meta

func (f fake) Meta() scan.Meta { return scan.Meta(f) }
func (fake) Run(context.Context, *scan.Target, scan.Requester) ([]scan.Finding, error) {
	return nil, nil
}

var list = []scan.Check{
	fake{ID: "misconfig.cors", Family: "misconfig", Category: scan.API8Misconfiguration},
	fake{ID: "misconfig.security-headers", Family: "misconfig", Category: scan.API8Misconfiguration},
	fake{ID: "exposure.error-disclosure", Family: "exposure", Category: scan.API8Misconfiguration},
	fake{ID: "authz.bola", Family: "authz", Category: scan.API1BOLA},
}

func ids(cs []scan.Check) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Meta().ID)
	}
	return out
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name             string
		include, exclude []string
		want             []string
	}{
		{"everything by default", nil, nil, []string{"misconfig.cors", "misconfig.security-headers", "exposure.error-disclosure", "authz.bola"}},
		{"by id", []string{"authz.bola"}, nil, []string{"authz.bola"}},
		{"by family", []string{"misconfig"}, nil, []string{"misconfig.cors", "misconfig.security-headers"}},
		{"by category", []string{"API8:2023"}, nil, []string{"misconfig.cors", "misconfig.security-headers", "exposure.error-disclosure"}},
		{"by short category", []string{"api1"}, nil, []string{"authz.bola"}},
		{"in list order, once", []string{"authz.bola", "misconfig", "misconfig.cors"}, nil, []string{"misconfig.cors", "misconfig.security-headers", "authz.bola"}},
		{"case and spaces ignored", []string{" Misconfig.CORS "}, nil, []string{"misconfig.cors"}},
		{"exclude by family", nil, []string{"misconfig"}, []string{"exposure.error-disclosure", "authz.bola"}},
		{"exclude wins over include", []string{"API8"}, []string{"misconfig.cors"}, []string{"misconfig.security-headers", "exposure.error-disclosure"}},
		{"excluding an uncovered category is fine", nil, []string{"API7"}, []string{"misconfig.cors", "misconfig.security-headers", "exposure.error-disclosure", "authz.bola"}},
		{"exclude everything", nil, []string{"API8", "authz"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checks.Select(list, tt.include, tt.exclude)
			if err != nil {
				t.Fatalf("Select(%q, %q): %v", tt.include, tt.exclude, err)
			}
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("Select(%q, %q) = %q, want %q", tt.include, tt.exclude, ids(got), tt.want)
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	tests := []struct {
		name             string
		include, exclude []string
		want             string
	}{
		{"unknown include", []string{"foo"}, nil, `unknown check "foo" (see merlon checks list)`},
		{"unknown exclude", nil, []string{"misconfig.cros"}, `unknown check "misconfig.cros" (see merlon checks list)`},
		{"unknown category", []string{"API11"}, nil, `unknown check "API11" (see merlon checks list)`},
		{"category without checks", []string{"API7:2023"}, nil, "no check covers category API7:2023"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checks.Select(list, tt.include, tt.exclude)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Select(%q, %q) = %q, %v; want error %q", tt.include, tt.exclude, ids(got), err, tt.want)
			}
		})
	}
}

// TestAll checks the registration list itself: unique IDs, and metadata
// complete enough for reports and --checks.
func TestAll(t *testing.T) {
	all := checks.All()
	if len(all) == 0 {
		t.Fatal("All() is empty")
	}
	seen := make(map[string]bool)
	for _, c := range all {
		m := c.Meta()
		if seen[m.ID] {
			t.Errorf("check %q registered twice", m.ID)
		}
		seen[m.ID] = true
		family, _, ok := strings.Cut(m.ID, ".")
		switch {
		case !ok || family != m.Family:
			t.Errorf("check %q: ID must be <family>.<name> with Family %q", m.ID, m.Family)
		case !m.Category.Valid():
			t.Errorf("check %q: Category %q is not an OWASP 2023 category", m.ID, m.Category)
		case m.CWE <= 0 || m.Title == "" || m.Description == "":
			t.Errorf("check %q: CWE, Title and Description are required", m.ID)
		}
	}
	var misconfigs int
	for _, c := range all {
		if c.Meta().Family == "misconfig" {
			misconfigs++
		}
	}
	got, err := checks.Select(all, []string{"misconfig"}, nil)
	if err != nil || len(got) != misconfigs || misconfigs < 3 {
		t.Errorf("Select(All(), misconfig) = %q, %v; want the %d misconfig checks", ids(got), err, misconfigs)
	}
}

package graphql_test

import (
	"net/http"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/graphql"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/graphqlapp"
)

func TestChecksOnTwins(t *testing.T) {
	partial := graphqlapp.Clean()
	partial.Introspection = true // schema readable, every limit and filter in place
	tests := []struct {
		name  string
		check scan.Check
		opts  graphqlapp.Options
		want  []string // locations
	}{
		{"introspection vulnerable", graphql.Introspection{}, graphqlapp.Vulnerable(), []string{"__schema"}},
		{"introspection clean", graphql.Introspection{}, graphqlapp.Clean(), nil},
		{"suggestions vulnerable", graphql.FieldSuggestions{}, graphqlapp.Vulnerable(), []string{"errors"}},
		{"suggestions clean", graphql.FieldSuggestions{}, graphqlapp.Clean(), nil},
		{"batching vulnerable", graphql.Batching{}, graphqlapp.Vulnerable(), []string{"array batch", "aliases"}},
		{"batching clean", graphql.Batching{}, graphqlapp.Clean(), nil},
		{"depth vulnerable", graphql.DepthLimit{}, graphqlapp.Vulnerable(), []string{"depth"}},
		{"depth clean", graphql.DepthLimit{}, graphqlapp.Clean(), nil},
		{"depth limited with introspection", graphql.DepthLimit{}, partial, nil},
		{"mass assignment vulnerable", graphql.MassAssignment{}, graphqlapp.Vulnerable(), []string{"createUser"}},
		{"mass assignment filtered", graphql.MassAssignment{}, partial, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := graphqlapp.New(tt.opts)
			fs := checktest.Run(t, tt.check, app.Handler(), checktest.WithActive())
			got := checktest.Locations(fs)
			if len(got) != len(tt.want) {
				t.Fatalf("%s locations = %v, want %v", tt.check.Meta().ID, got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("%s locations = %v, want %v", tt.check.Meta().ID, got, tt.want)
				}
				if fs[i].Confidence != scan.Confirmed {
					t.Errorf("%s confidence = %v, want confirmed", checktest.Describe(fs[i]), fs[i].Confidence)
				}
			}
			if app.Users() != 2 {
				t.Errorf("users after the check = %d, want the 2 seeded (created ones deleted)", app.Users())
			}
		})
	}
}

func TestPassiveNeverPosts(t *testing.T) {
	app := graphqlapp.New(graphqlapp.Vulnerable())
	for _, c := range []scan.Check{graphql.Introspection{}, graphql.FieldSuggestions{}} {
		fs := checktest.Run(t, c, app.Handler(), checktest.WithObserver(func(ex *scan.Exchange) {
			if ex.Request.Method != "GET" {
				t.Errorf("%s sent %s %s in a passive scan", c.Meta().ID, ex.Request.Method, ex.Request.URL)
			}
		}))
		if len(fs) != 1 {
			t.Errorf("%s passive findings = %d, want 1", c.Meta().ID, len(fs))
		}
	}
}

func TestNoEndpointSkips(t *testing.T) {
	// checktest.Run accepts a skip but fails on any finding or error.
	notFound := http.NotFoundHandler()
	for _, c := range []scan.Check{graphql.Introspection{}, graphql.Batching{}, graphql.MassAssignment{}} {
		checktest.None(t, checktest.Run(t, c, notFound, checktest.WithActive()))
	}
}

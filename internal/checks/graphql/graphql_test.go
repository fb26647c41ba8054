package graphql_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/graphql"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/graphqlapp"
)

func TestChecksOnTwins(t *testing.T) {
	partial := graphqlapp.Clean()
	partial.Introspection = true // schema readable, every limit and filter in place
	partial.RoleChecks = false   // so that the anonymous probe objects can be deleted
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

// gqlIdentities are the testbed's admin and user, the user first so that
// the check must sort them by role itself.
func gqlIdentities() []scan.Identity {
	return []scan.Identity{
		{Name: "bob", Role: "user", Headers: http.Header{"Authorization": {"Bearer " + graphqlapp.UserToken}}},
		{Name: "alice", Role: "admin", Headers: http.Header{"Authorization": {"Bearer " + graphqlapp.AdminToken}}},
	}
}

func TestBFLA(t *testing.T) {
	cleanSchema := graphqlapp.Clean()
	cleanSchema.Introspection = true // role checks in place, schema readable
	sameRank := []scan.Identity{
		{Name: "bob", Role: "user", Headers: http.Header{"Authorization": {"Bearer " + graphqlapp.UserToken}}},
		{Name: "carol", Role: "support", Headers: http.Header{"Authorization": {"Bearer " + graphqlapp.AdminToken}}},
	}
	tests := []struct {
		name       string
		opts       graphqlapp.Options
		identities []scan.Identity
		active     bool
		want       []string // "location confidence"
	}{
		{"vulnerable active", graphqlapp.Vulnerable(), gqlIdentities(), true,
			[]string{"adminStats likely", "deleteUser confirmed", "setRole confirmed"}},
		{"vulnerable passive", graphqlapp.Vulnerable(), gqlIdentities(), false, []string{"adminStats likely"}},
		{"role checks active", cleanSchema, gqlIdentities(), true, nil},
		{"one identity skips", graphqlapp.Vulnerable(), gqlIdentities()[:1], true, nil},
		{"same rank skips", graphqlapp.Vulnerable(), sameRank, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := graphqlapp.New(tt.opts)
			var mu sync.Mutex
			var posts []string
			opts := []checktest.Option{checktest.WithIdentities(tt.identities...), checktest.WithObserver(func(ex *scan.Exchange) {
				if ex.Request.Method != "GET" {
					mu.Lock()
					posts = append(posts, ex.Request.Identity+" "+ex.Request.Body)
					mu.Unlock()
				}
			})}
			if tt.active {
				opts = append(opts, checktest.WithActive())
			}
			fs := checktest.Run(t, graphql.BFLA{}, app.Handler(), opts...)
			var got []string
			for _, f := range fs {
				got = append(got, f.Location+" "+f.Confidence.String())
				if f.Severity != scan.High {
					t.Errorf("%s severity = %v, want high", checktest.Describe(f), f.Severity)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("BFLA findings = %q, want %q", got, tt.want)
			}
			if app.Users() != 2 || app.Role("1") != "admin" || app.Role("2") != "user" {
				t.Errorf("after the check: %d users, alice %q, bob %q; want the 2 seeded users, unchanged", app.Users(), app.Role("1"), app.Role("2"))
			}
			mu.Lock()
			defer mu.Unlock()
			if !tt.active && len(posts) > 0 {
				t.Errorf("passive run sent POSTs: %q", posts)
			}
			// Where the check applies and may write, the user really tried
			// both privileged mutations, so a clean result means refused.
			if tt.active && len(tt.identities) == 2 && tt.identities[1].Role == "admin" {
				for _, m := range []string{"deleteUser", "setRole"} {
					tried := false
					for _, p := range posts {
						tried = tried || strings.HasPrefix(p, "bob ") && strings.Contains(p, "mutation{"+m+"(")
					}
					if !tried {
						t.Errorf("bob never called %s; POSTs: %q", m, posts)
					}
				}
			}
			// Every privileged mutation went to an object the check created
			// (the bodies are JSON, so the query's quotes are escaped).
			for _, p := range posts {
				if (strings.Contains(p, "deleteUser") || strings.Contains(p, "setRole")) && (strings.Contains(p, `id:\"1\"`) || strings.Contains(p, `id:\"2\"`)) {
					t.Errorf("mutation on a seeded user: %s", p)
				}
			}
		})
	}
}

package inject

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/scan"
)

// greedy is a check whose probe never concludes: it sends until the
// runner refuses, so the requests a point and a run get are exactly what
// the budgets allow.
type greedy struct{}

func (greedy) Meta() scan.Meta {
	return scan.Meta{ID: "inject.greedy", Family: "inject", Title: "greedy", Category: category, CWE: 89,
		Severity: scan.Critical, MinSeverity: scan.Critical, Active: true}
}

func (g greedy) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	return runAll(ctx, t, h, g.Meta(), func(p *pointRun) *scan.Finding {
		for p.send(ctx, "probe") != nil {
		}
		return nil
	})
}

// TestBudgetNumbers pins each profile's caps, which docs/checks.md
// states.
func TestBudgetNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		profile         scan.Profile
		perPoint, total int
	}{
		{scan.Quick, 24, 400},
		{scan.Standard, 48, 3000},
		{scan.Deep, 80, 8000},
		{"", 48, 3000},
	}
	for _, tt := range tests {
		if per, total := budgets(tt.profile); per != tt.perPoint || total != tt.total {
			t.Errorf("budgets(%q) = %d, %d, want %d, %d", tt.profile, per, total, tt.perPoint, tt.total)
		}
	}
}

// TestBudgetsEnforced holds a run to its caps: every point probed gets
// exactly the per-point budget (the last one what the total leaves), and
// the run stops at the total, the three baseline requests included. The
// quick profile's numbers keep it fast; the code is the same for all.
func TestBudgetsEnforced(t *testing.T) {
	t.Parallel()
	perPoint, total := budgets(scan.Quick)
	// More points than the total can reach.
	n := total/perPoint + 5
	var params []scan.Parameter
	for i := range n {
		params = append(params, scan.Parameter{Name: fmt.Sprintf("p%03d", i), In: "query", Required: true, Example: "a"})
	}
	var mu sync.Mutex
	got := make(map[string]int)
	sent := 0
	// The target counts what it receives.
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		sent++
		for k, vs := range r.URL.Query() {
			if len(vs) == 1 && vs[0] == "probe" {
				got[k]++
			}
		}
	})
	checktest.Run(t, greedy{}, api, checktest.WithActive(), checktest.WithProfile(scan.Quick),
		checktest.WithOperations(checktest.Op("GET", "/search", params...)))
	if sent != total {
		t.Errorf("run sent %d requests, want the total cap %d", sent, total)
	}
	probes := total - baselines
	full, rest := probes/perPoint, probes%perPoint
	for i := range n {
		name := fmt.Sprintf("p%03d", i)
		want := 0
		switch {
		case i < full:
			want = perPoint
		case i == full:
			want = rest
		}
		if got[name] != want {
			t.Errorf("point %s got %d probes, want %d", name, got[name], want)
		}
	}
}

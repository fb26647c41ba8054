package score_test

import (
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
)

// reached is the coverage of a scan that proved something.
var reached = scan.Coverage{Operations: 12, Reached: 10, Succeeded: 8, Requests: 240}

func finding(c scan.Category, s scan.Severity, conf scan.Confidence) scan.Finding {
	return scan.Finding{CheckID: "test." + s.String(), Category: c, Severity: s, Confidence: conf}
}

func TestCost(t *testing.T) {
	tests := []struct {
		sev  scan.Severity
		conf scan.Confidence
		want float64
	}{
		{scan.Critical, scan.Confirmed, 40},
		{scan.Critical, scan.Likely, 30},
		{scan.Critical, scan.Possible, 20},
		{scan.High, scan.Confirmed, 20},
		{scan.High, scan.Likely, 15},
		{scan.High, scan.Possible, 10},
		{scan.Medium, scan.Confirmed, 8},
		{scan.Medium, scan.Likely, 6},
		{scan.Medium, scan.Possible, 4},
		{scan.Low, scan.Confirmed, 3},
		{scan.Low, scan.Likely, 2.25},
		{scan.Low, scan.Possible, 1.5},
		{scan.Info, scan.Confirmed, 0},
		{scan.Severity(9), scan.Confidence(7), 40}, // clamped to critical, confirmed
		{scan.Severity(-1), scan.Confidence(-1), 0},
	}
	for _, tt := range tests {
		if got := score.Cost(tt.sev, tt.conf); got != tt.want {
			t.Errorf("Cost(%v, %v) = %v, want %v", tt.sev, tt.conf, got, tt.want)
		}
	}
}

func TestGrade(t *testing.T) {
	tests := []struct {
		score int
		want  string
	}{
		{100, "A"}, {90, "A"}, {89, "B"}, {80, "B"}, {79, "C"}, {70, "C"},
		{69, "D"}, {60, "D"}, {59, "F"}, {0, "F"},
	}
	for _, tt := range tests {
		if got := score.Grade(tt.score); got != tt.want {
			t.Errorf("Grade(%d) = %q, want %q", tt.score, got, tt.want)
		}
	}
}

func TestComputeOverall(t *testing.T) {
	tests := []struct {
		name     string
		findings []scan.Finding
		want     int
		grade    string
	}{
		{"no findings", nil, 100, "A"},
		{"info costs nothing", []scan.Finding{finding(scan.API9Inventory, scan.Info, scan.Confirmed)}, 100, "A"},
		{"half rounds up", []scan.Finding{
			finding(scan.API8Misconfiguration, scan.Low, scan.Possible), // 1.5 → 98.5 → 99
		}, 99, "A"},
		{"quarter rounds down", []scan.Finding{
			finding(scan.API8Misconfiguration, scan.Low, scan.Likely), // 2.25 → 97.75 → 98
			finding(scan.API8Misconfiguration, scan.Low, scan.Likely), // 4.5 → 95.5 → 96
			finding(scan.API8Misconfiguration, scan.Low, scan.Likely), // 6.75 → 93.25 → 93
		}, 93, "A"},
		{"possible critical is not capped", []scan.Finding{
			finding(scan.API3PropertyAuthorization, scan.Critical, scan.Possible),
		}, 80, "B"},
		{"likely high is not capped", []scan.Finding{
			finding(scan.API1BOLA, scan.High, scan.Likely),
		}, 85, "B"},
		{"confirmed high caps at 69", []scan.Finding{
			finding(scan.API1BOLA, scan.High, scan.Confirmed),
		}, 69, "D"},
		{"confirmed critical caps at 59", []scan.Finding{
			finding(scan.API1BOLA, scan.Critical, scan.Confirmed),
		}, 59, "F"},
		{"both caps, the lower wins", []scan.Finding{
			finding(scan.API1BOLA, scan.High, scan.Confirmed),
			finding(scan.API2BrokenAuthentication, scan.Critical, scan.Confirmed),
		}, 40, "F"},
		{"floor at zero", []scan.Finding{
			finding(scan.API1BOLA, scan.Critical, scan.Confirmed),
			finding(scan.API2BrokenAuthentication, scan.Critical, scan.Confirmed),
			finding(scan.API5BFLA, scan.Critical, scan.Confirmed),
		}, 0, "F"},
		{"unknown category still costs overall", []scan.Finding{
			finding(scan.Category("API11:2099"), scan.Medium, scan.Confirmed),
		}, 92, "A"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := score.Compute(tt.findings, reached)
			if got.Overall != tt.want || got.Grade != tt.grade {
				t.Errorf("Compute(%s) = %d %s, want %d %s", tt.name, got.Overall, got.Grade, tt.want, tt.grade)
			}
		})
	}
}

// workedExample is the example of docs/scoring.md; if a test on it fails,
// the document is wrong too.
func workedExample(bola scan.Confidence) []scan.Finding {
	return []scan.Finding{
		finding(scan.API1BOLA, scan.High, bola),                      // 20 (15 when likely)
		finding(scan.API8Misconfiguration, scan.Medium, scan.Likely), // 6
		finding(scan.API8Misconfiguration, scan.Low, scan.Possible),  // 1.5
		finding(scan.API9Inventory, scan.Info, scan.Confirmed),       // 0
	}
}

func TestWorkedExample(t *testing.T) {
	got := score.Compute(workedExample(scan.Confirmed), reached)

	// 100 − 27.5 = 72.5, rounded half up to 73, capped at 69 by the
	// confirmed high: D.
	if got.Overall != 69 || got.Grade != "D" {
		t.Errorf("overall = %d %s, want 69 D", got.Overall, got.Grade)
	}
	want := map[scan.Category]struct{ score, findings int }{
		scan.API1BOLA:             {80, 1},
		scan.API8Misconfiguration: {93, 2}, // 100 − 7.5 = 92.5 → 93
		scan.API9Inventory:        {100, 1},
	}
	if len(got.Categories) != 10 {
		t.Fatalf("len(Categories) = %d, want 10", len(got.Categories))
	}
	for i, c := range scan.Categories() {
		cs := got.Categories[i]
		if cs.Category != c || cs.Name != c.Name() {
			t.Errorf("Categories[%d] = %s %q, want %s %q", i, cs.Category, cs.Name, c, c.Name())
		}
		w, ok := want[c]
		if !ok {
			w.score = 100
		}
		if cs.Score != w.score || cs.Findings != w.findings {
			t.Errorf("category %s = score %d, %d findings; want %d, %d", c, cs.Score, cs.Findings, w.score, w.findings)
		}
	}
}

func TestWorkedExampleLikely(t *testing.T) {
	// The same scan with the BOLA finding only likely: 100 − 22.5 = 77.5,
	// rounded to 78, and no cap applies: C.
	got := score.Compute(workedExample(scan.Likely), reached)
	if got.Overall != 78 || got.Grade != "C" {
		t.Errorf("overall = %d %s, want 78 C", got.Overall, got.Grade)
	}
	if got.Categories[0].Score != 85 {
		t.Errorf("API1 score = %d, want 85", got.Categories[0].Score)
	}
}

func TestComputeUngraded(t *testing.T) {
	bad := []scan.Finding{finding(scan.API1BOLA, scan.Low, scan.Possible)}
	tests := []struct {
		name   string
		cov    scan.Coverage
		graded bool
	}{
		{"zero coverage", scan.Coverage{}, false},
		{"operations but none reached", scan.Coverage{Operations: 5, Requests: 40, TransportError: 40}, false},
		{"no request sent", scan.Coverage{Operations: 5, Reached: 0, Requests: 0}, false},
		{"no operation found", scan.Coverage{Operations: 0, Requests: 3}, false},
		{"operations reached but none answered 2xx", scan.Coverage{Operations: 5, Reached: 2, Requests: 9}, false},
		{"one operation answered 2xx", scan.Coverage{Operations: 5, Reached: 1, Succeeded: 1, Requests: 9}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := score.Conclusive(tt.cov); got != tt.graded {
				t.Errorf("Conclusive(%+v) = %v, want %v", tt.cov, got, tt.graded)
			}
			got := score.Compute(bad, tt.cov)
			if tt.graded {
				if got.Grade == score.Ungraded || got.Overall != 99 {
					t.Errorf("Compute = %d %s, want 99 A", got.Overall, got.Grade)
				}
				return
			}
			if got.Grade != score.Ungraded || got.Overall != 0 {
				t.Errorf("Compute = %d %s, want 0 %s", got.Overall, got.Grade, score.Ungraded)
			}
			if len(got.Categories) != 10 || got.Categories[0].Findings != 1 || got.Categories[0].Score != 0 {
				t.Errorf("Categories[0] = %+v, want 1 finding and score 0", got.Categories[0])
			}
		})
	}
}

// TestInconclusiveNamesTheCause checks that the reason an ungraded report
// prints points the user at what to fix.
func TestInconclusiveNamesTheCause(t *testing.T) {
	tests := []struct {
		name string
		cov  scan.Coverage
		want []string // substrings; none means conclusive
	}{
		{"nothing sent", scan.Coverage{Operations: 3}, []string{"sent no request"}},
		{"empty inventory", scan.Coverage{Requests: 12, Reached: 0}, []string{"no operation", "--spec"}},
		{"no answer", scan.Coverage{Operations: 4, Requests: 8, TransportError: 8}, []string{"none of the 4 operations got an HTTP answer", "--base-url"}},
		{"no 2xx", scan.Coverage{Operations: 5, Reached: 2, Requests: 9}, []string{"none of the 5 operations answered 2xx", "--base-url", "credentials", "401/403"}},
		{"conclusive", reached, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := score.Inconclusive(tt.cov)
			if len(tt.want) == 0 {
				if got != "" {
					t.Errorf("Inconclusive(%+v) = %q, want \"\"", tt.cov, got)
				}
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Inconclusive(%+v) = %q, want it to contain %q", tt.cov, got, w)
				}
			}
			if strings.Contains(got, "\n") {
				t.Errorf("Inconclusive(%+v) = %q, want one line", tt.cov, got)
			}
		})
	}
}

func TestPartial(t *testing.T) {
	tests := []struct {
		name string
		rep  scan.Report
		want bool
	}{
		{"finished", scan.Report{Coverage: reached}, false},
		{"interrupted", scan.Report{Coverage: reached, Interrupted: true}, true},
		{"request budget spent", scan.Report{Coverage: scan.Coverage{Operations: 12, Reached: 10, Succeeded: 8, Requests: 240, BudgetExhausted: true}}, true},
		{"marked in the score", scan.Report{Coverage: reached, Score: scan.Score{Partial: true}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := score.Partial(&tt.rep); got != tt.want {
				t.Errorf("Partial(%s) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

package scan

import (
	"cmp"
	"slices"
	"time"
)

// SchemaVersion is the version of the JSON report format, documented in
// docs/json-report.md. It changes only when a field is removed or changes
// meaning; added fields keep it.
const SchemaVersion = "1"

// Report is the result of one scan: what every report format renders.
type Report struct {
	SchemaVersion string    `json:"schemaVersion"`
	Tool          Tool      `json:"tool"`
	Target        string    `json:"target"` // base URL
	Spec          *SpecInfo `json:"spec,omitempty"`
	Profile       Profile   `json:"profile"`
	Active        bool      `json:"active"`
	StartedAt     time.Time `json:"startedAt"`
	FinishedAt    time.Time `json:"finishedAt"`
	Stack         Stack     `json:"stack"`
	Score         Score     `json:"score"`
	Coverage      Coverage  `json:"coverage"`
	Findings      []Finding `json:"findings"`
	// Checks records each check that ran and how it ended.
	Checks []CheckResult `json:"checks"`
	// Interrupted is set when the scan was cancelled or ran out of time
	// before every check finished; the findings are what was found until then.
	Interrupted bool `json:"interrupted,omitempty"`
	// Warnings are problems that did not stop the scan (a spec that could
	// not be fetched, a budget spent early).
	Warnings []string `json:"warnings,omitempty"`
}

// Tool names the scanner that wrote a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// CheckResult is how one check's run ended.
type CheckResult struct {
	ID       string `json:"id"`
	Findings int    `json:"findings"`
	// Status is "ok", "error", "skipped" or "cancelled".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Reason says why a check was skipped ("needs --active").
	Reason string `json:"reason,omitempty"`
	// Operations are the inventory operations the check got a response
	// from, as "METHOD /path" (the form of Finding.Operation), sorted: what
	// it tested, so that a report can say it passed there. Empty for checks
	// about the whole target (TLS, say) and in reports written before the
	// field existed.
	Operations []string `json:"operations,omitempty"`
}

// Coverage says how much of the API the scan reached. A scan that reached
// nothing must say so rather than look clean.
type Coverage struct {
	// Operations in the inventory.
	Operations int `json:"operations"`
	// Reached: operations that got any HTTP response.
	Reached int `json:"reached"`
	// Succeeded: operations that answered 2xx at least once.
	Succeeded int `json:"succeeded"`
	// Requests sent in all, and how many failed at the transport level.
	Requests       int `json:"requests"`
	TransportError int `json:"transportErrors"`
	// BudgetExhausted is set when the request budget ran out.
	BudgetExhausted bool `json:"budgetExhausted,omitempty"`
}

// Score is the graded result, computed by the rubric in docs/scoring.md.
type Score struct {
	Overall    int             `json:"overall"` // 0–100
	Grade      string          `json:"grade"`   // A–F
	Categories []CategoryScore `json:"categories"`
	// Partial is set when the scan was cut short (Report.Interrupted, or
	// the request budget ran out): the findings are real, but checks that
	// did not finish may have missed more, so the grade is an upper bound.
	Partial bool `json:"partial,omitempty"`
}

// CategoryScore is the score of one OWASP category.
type CategoryScore struct {
	Category Category `json:"category"`
	Name     string   `json:"name"`
	Score    int      `json:"score"`
	Findings int      `json:"findings"`
}

// Counts returns the number of findings at each severity.
func (r *Report) Counts() map[Severity]int {
	m := make(map[Severity]int)
	for _, f := range r.Findings {
		m[f.Severity]++
	}
	return m
}

// ByReadingOrder returns a copy of fs sorted for people: most severe
// first, then most certain, keeping the given order among equals. Every
// report format lists findings this way.
func ByReadingOrder(fs []Finding) []Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(b.Confidence, a.Confidence))
	})
	return out
}

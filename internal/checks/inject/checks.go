package inject

import (
	"context"

	"github.com/merlonsec/merlon/internal/scan"
)

// The OWASP API Security Top 10 (2023) has no injection category; its
// API8:2023 (Security Misconfiguration) names unsanitised input reaching
// interpreters among the misconfigurations, so every check here maps to
// it. docs/checks.md says more.
const category = scan.API8Misconfiguration

// SQL proves SQL injection: error-based, boolean-differential, and
// time-based as the last resort.
type SQL struct {
	// Delay is the delay time-based probes ask for, in seconds; zero
	// means DefaultDelay.
	Delay float64
}

// NoSQL proves MongoDB-style operator injection, boolean-differentially.
type NoSQL struct{}

// Command proves OS command injection with an echoed arithmetic marker,
// or with a sleep that scales with the time asked for.
type Command struct {
	// Delay is the sleep time-based probes ask for, in seconds; zero
	// means DefaultDelay.
	Delay float64
}

// Template proves server-side template injection with arithmetic
// markers in the common template syntaxes.
type Template struct{}

var (
	_ scan.Check = SQL{}
	_ scan.Check = NoSQL{}
	_ scan.Check = Command{}
	_ scan.Check = Template{}
)

// Meta describes the check.
func (SQL) Meta() scan.Meta {
	return scan.Meta{
		ID: "inject.sql", Family: "inject", Title: "SQL injection",
		Category: category, CWE: 89, Severity: scan.Critical, MinSeverity: scan.Critical, Active: true,
		Description: "Injects read-only SQL into every parameter and JSON body field: a lone quote whose database error " +
			"disappears once the quote is balanced, true and false AND conditions that answer differently and stably, " +
			"and, when those prove nothing, a bounded sleep (pg_sleep, SLEEP, DBMS_PIPE) that must grow with the time asked for. " +
			"No payload stacks queries, writes or reads data.",
	}
}

// Meta describes the check.
func (NoSQL) Meta() scan.Meta {
	return scan.Meta{
		ID: "inject.nosql", Family: "inject", Title: "NoSQL operator injection",
		Category: category, CWE: 943, Severity: scan.High, MinSeverity: scan.High, Active: true,
		Description: "Replaces JSON body fields and query parameters with query operators ($ne, $eq, $regex, $gt, $lt, " +
			"and param[$ne]= in query strings) and reports a field where an always-true and an always-false operator " +
			"answer differently and each alike when repeated in another form.",
	}
}

// Meta describes the check.
func (Command) Meta() scan.Meta {
	return scan.Meta{
		ID: "inject.command", Family: "inject", Title: "OS command injection",
		Category: category, CWE: 78, Severity: scan.Critical, MinSeverity: scan.Critical, Active: true,
		Description: "Appends a shell echo of an arithmetic marker (echo mrl$((a*b))z) after each shell separator and " +
			"reports it when the product, which only a shell computes, comes back; otherwise a bounded sleep that must " +
			"grow with the time asked for. Nothing reads files, opens connections or persists.",
	}
}

// Meta describes the check.
func (Template) Meta() scan.Meta {
	return scan.Meta{
		ID: "inject.template", Family: "inject", Title: "Server-side template injection",
		Category: category, CWE: 1336, Severity: scan.High, MinSeverity: scan.High, Active: true,
		Description: "Sends arithmetic markers in the common template syntaxes ({{a*b}}, ${a*b}, <%= a*b %>, #{a*b}, " +
			"{{=a*b}}) and reports a field whose answer carries the product, which only template evaluation produces, " +
			"twice with different numbers.",
	}
}

// Run probes every injection point of the target's operations.
func (c SQL) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	return runAll(ctx, t, h, c.Meta(), func(p *pointRun) *scan.Finding { return sqlPoint(ctx, p, delayOr(c.Delay)) })
}

// Run probes every JSON body field and query parameter.
func (c NoSQL) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	return runAll(ctx, t, h, c.Meta(), func(p *pointRun) *scan.Finding { return nosqlPoint(ctx, p) })
}

// Run probes every injection point.
func (c Command) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	return runAll(ctx, t, h, c.Meta(), func(p *pointRun) *scan.Finding { return commandPoint(ctx, p, delayOr(c.Delay)) })
}

// Run probes every injection point.
func (c Template) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	return runAll(ctx, t, h, c.Meta(), func(p *pointRun) *scan.Finding { return templatePoint(ctx, p) })
}

// DefaultDelay is the delay, in seconds, time-based probes ask for. The
// probe also asks for twice as much, so it stays well under the default
// 10s request timeout.
const DefaultDelay = 2.0

func delayOr(d float64) float64 {
	if d <= 0 {
		return DefaultDelay
	}
	return d
}

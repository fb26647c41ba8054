// Package score turns findings into Merlon's 0–100 score and A–F grade. It
// is the rubric of docs/scoring.md written as code: change one, change the
// other, so that anyone can recompute a report's score by hand.
package score

import (
	"fmt"

	"github.com/merlonsec/merlon/internal/scan"
)

// Ungraded is the grade of a scan that proves nothing (see Inconclusive):
// a high score would be a lie.
const Ungraded = "N/A"

// Caps keep a proven serious weakness from grading above D (69) or, for a
// critical one, above F (59), however clean the rest of the API is.
const (
	capConfirmedCritical = 59
	capConfirmedHigh     = 69
)

// Costs are kept in quarter points so that every sum is exact: each base is
// a whole number and each factor a multiple of 1/4.
var (
	baseCost      = [...]int{scan.Info: 0, scan.Low: 3, scan.Medium: 8, scan.High: 20, scan.Critical: 40}
	factorQuarter = [...]int{scan.Possible: 2, scan.Likely: 3, scan.Confirmed: 4}
)

// Compute scores findings under the rubric of docs/scoring.md. When the
// coverage shows the scan proved nothing (see Conclusive), Overall and every
// category score are 0 and Grade is Ungraded, whatever the findings; the
// categories still carry their names and finding counts.
func Compute(findings []scan.Finding, cov scan.Coverage) scan.Score {
	cats := scan.Categories()
	perCat := make(map[scan.Category]int, len(cats)) // quarter points
	counts := make(map[scan.Category]int, len(cats))
	total := 0
	confirmedCritical, confirmedHigh := false, false
	for _, f := range findings {
		q := quarters(f.Severity, f.Confidence)
		total += q
		perCat[f.Category] += q
		counts[f.Category]++
		if f.Confidence == scan.Confirmed {
			switch {
			case f.Severity >= scan.Critical:
				confirmedCritical = true
			case f.Severity == scan.High:
				confirmedHigh = true
			}
		}
	}

	graded := Conclusive(cov)
	s := scan.Score{Categories: make([]scan.CategoryScore, 0, len(cats))}
	for _, c := range cats {
		cs := scan.CategoryScore{Category: c, Name: c.Name(), Findings: counts[c]}
		if graded {
			cs.Score = fromQuarters(perCat[c])
		}
		s.Categories = append(s.Categories, cs)
	}
	if !graded {
		s.Grade = Ungraded
		return s
	}
	s.Overall = fromQuarters(total)
	if confirmedCritical {
		s.Overall = min(s.Overall, capConfirmedCritical)
	}
	if confirmedHigh {
		s.Overall = min(s.Overall, capConfirmedHigh)
	}
	s.Grade = Grade(s.Overall)
	return s
}

// Conclusive reports whether a scan with this coverage proves anything; see
// Inconclusive. A scan that is not conclusive is ungraded, and every report
// must say so rather than look clean.
func Conclusive(cov scan.Coverage) bool { return Inconclusive(cov) == "" }

// Inconclusive says why a scan with this coverage proves nothing about the
// API, or returns "" when it proves something. The message names the likely
// cause and what to try, so that a report can print it as is. A scan proves
// something only when it sent requests, knew of at least one operation, and
// at least one operation answered 2xx: an API that answered nothing but
// 404s was scanned at the wrong URL, and one that answered nothing but
// 401s or 403s was scanned without the credentials it wants; in both cases
// no check saw the API's behaviour, so no finding is no news.
func Inconclusive(cov scan.Coverage) string {
	switch {
	case cov.Requests == 0:
		return "the scan sent no request, so it tested nothing"
	case cov.Operations == 0:
		return "the scan found no operation to test; pass the API's spec with --spec, or check that the URL points at the API"
	case cov.Reached == 0:
		return fmt.Sprintf("none of the %d operations got an HTTP answer; check the URL, --base-url and that the API is up",
			cov.Operations)
	case cov.Succeeded == 0:
		return fmt.Sprintf("none of the %d operations answered 2xx (%d answered with other statuses); "+
			"check --base-url and the spec's paths (404s) and pass credentials with -H or --identity (401/403s)",
			cov.Operations, cov.Reached)
	}
	return ""
}

// Unproven returns why rep is not graded, for the banner every report
// format shows: Inconclusive's reason, or, for a report marked ungraded
// by other means (one read back from JSON), a plain statement; "" when
// rep is graded.
func Unproven(rep *scan.Report) string {
	if why := Inconclusive(rep.Coverage); why != "" {
		return why
	}
	if rep.Score.Grade == Ungraded || rep.Score.Grade == "" {
		return "the report carries no grade"
	}
	return ""
}

// Partial reports whether rep's score stands on an unfinished scan: one
// cut short by Ctrl-C, --max-time or the request budget. Its findings are
// real, but a check that did not finish may have missed more, so the grade
// is an upper bound, not a verdict.
func Partial(rep *scan.Report) bool {
	return rep.Interrupted || rep.Coverage.BudgetExhausted || rep.Score.Partial
}

// Grade maps a 0–100 score to its letter: A from 90, B from 80, C from 70,
// D from 60, F below.
func Grade(score int) string {
	switch {
	case score >= 90:
		return "A"
	case score >= 80:
		return "B"
	case score >= 70:
		return "C"
	case score >= 60:
		return "D"
	}
	return "F"
}

// Cost is the points a finding of this severity and confidence takes off
// its category and the overall score: base(severity) × factor(confidence).
func Cost(sev scan.Severity, conf scan.Confidence) float64 {
	return float64(quarters(sev, conf)) / 4
}

// quarters is Cost in quarter points. Out-of-range values, which only a
// hand-edited report can hold, are clamped to the nearest real level, so a
// bogus severity never costs less than a critical one.
func quarters(sev scan.Severity, conf scan.Confidence) int {
	sev = max(scan.Info, min(sev, scan.Critical))
	conf = max(scan.Possible, min(conf, scan.Confirmed))
	return baseCost[sev] * factorQuarter[conf]
}

// fromQuarters is max(0, 100 − q/4) rounded half up, in integers.
func fromQuarters(q int) int {
	left := 400 - q
	if left <= 0 {
		return 0
	}
	return (left + 2) / 4
}

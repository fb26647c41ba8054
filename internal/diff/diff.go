// Package diff compares two scans of the same API by finding fingerprint,
// so that a team sees what a change introduced and what it fixed. It is
// pure logic: rendering belongs to the command that prints a Result, and
// the CI gate (package gate) decides "new" through Compare too, so that
// `merlon diff` and `merlon scan --baseline` never disagree.
package diff

import (
	"fmt"

	"github.com/merlonsec/merlon/internal/scan"
)

// Result is how the findings of two scans relate.
type Result struct {
	// New holds findings of the new scan absent from the old one, where
	// the old scan's check completed and so could have seen them.
	New []scan.Finding `json:"new"`
	// Fixed holds findings of the old scan absent from the new one, where
	// the new scan's check completed and so would have seen them.
	Fixed []scan.Finding `json:"fixed"`
	// Unchanged holds findings present in both, as the new scan saw them.
	Unchanged []scan.Finding `json:"unchanged"`
	// NotCompared holds findings present in one scan only whose check did
	// not complete in the other: their absence there proves nothing, so
	// they are neither new nor fixed.
	NotCompared []scan.Finding `json:"notCompared"`
	// Incomplete lists the checks that did not complete in either scan,
	// old scan first, each in its report's order.
	Incomplete []Incomplete `json:"incomplete"`
}

// Incomplete is a check that did not complete in one of the two scans.
type Incomplete struct {
	CheckID string `json:"checkId"`
	// Scan is "old" or "new".
	Scan string `json:"scan"`
	// Status is how the check ended there: "error" or "cancelled".
	Status string `json:"status"`
}

// String says what the incomplete check means for the comparison, in one
// line for people.
func (i Incomplete) String() string {
	what := "its findings in the new scan are not counted as new"
	if i.Scan == "new" {
		what = "its findings in the old scan are not counted as fixed"
	}
	return fmt.Sprintf("check %s did not complete in the %s scan (%s); %s", i.CheckID, i.Scan, i.Status, what)
}

// Unfinished returns the IDs of r's checks that ended in "error" or
// "cancelled": a timeout, a network failure, a scan stopped early. Such a
// check may have missed findings, so not seeing a finding there says
// nothing. Skipped checks are not listed: they did not run by design, and
// their findings in the other scan are a real difference.
func Unfinished(r *scan.Report) map[string]string {
	m := map[string]string{}
	if r == nil {
		return m
	}
	for _, c := range r.Checks {
		if c.Status == "error" || c.Status == "cancelled" {
			m[c.ID] = c.Status
		}
	}
	return m
}

// Compare matches the findings of old and new by fingerprint. Each list
// keeps the order of the scan it comes from, and a fingerprint repeated in
// one scan counts once. A finding seen in one scan only is new or fixed
// only when its check completed in the other scan (see Unfinished);
// otherwise it is in NotCompared, because a network error or a timeout
// must never look like a new weakness or a fix. A nil old report is a scan
// with no findings whose checks all completed: everything is new.
func Compare(old, new *scan.Report) Result {
	r := Result{New: []scan.Finding{}, Fixed: []scan.Finding{}, Unchanged: []scan.Finding{},
		NotCompared: []scan.Finding{}, Incomplete: []Incomplete{}}
	oldUnfinished, newUnfinished := Unfinished(old), Unfinished(new)
	for _, side := range []struct {
		name string
		rep  *scan.Report
	}{{"old", old}, {"new", new}} {
		if side.rep == nil {
			continue
		}
		for _, c := range side.rep.Checks {
			if c.Status == "error" || c.Status == "cancelled" {
				r.Incomplete = append(r.Incomplete, Incomplete{CheckID: c.ID, Scan: side.name, Status: c.Status})
			}
		}
	}
	inOld := fingerprints(old)
	inNew := fingerprints(new)
	seen := map[string]bool{}
	for _, f := range findings(new) {
		if seen[f.Fingerprint] {
			continue
		}
		seen[f.Fingerprint] = true
		switch {
		case inOld[f.Fingerprint]:
			r.Unchanged = append(r.Unchanged, f)
		case oldUnfinished[f.CheckID] != "":
			r.NotCompared = append(r.NotCompared, f)
		default:
			r.New = append(r.New, f)
		}
	}
	clear(seen)
	for _, f := range findings(old) {
		if seen[f.Fingerprint] || inNew[f.Fingerprint] {
			continue
		}
		seen[f.Fingerprint] = true
		if newUnfinished[f.CheckID] != "" {
			r.NotCompared = append(r.NotCompared, f)
			continue
		}
		r.Fixed = append(r.Fixed, f)
	}
	return r
}

func findings(r *scan.Report) []scan.Finding {
	if r == nil {
		return nil
	}
	return r.Findings
}

func fingerprints(r *scan.Report) map[string]bool {
	m := map[string]bool{}
	for _, f := range findings(r) {
		m[f.Fingerprint] = true
	}
	return m
}

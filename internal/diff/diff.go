// Package diff compares two scans of the same API by finding fingerprint,
// so that a team sees what a change introduced and what it fixed. It is
// pure logic: rendering belongs to the command that prints a Result.
package diff

import "github.com/merlonsec/merlon/internal/scan"

// Result is how the findings of two scans relate.
type Result struct {
	// New holds findings of the new scan absent from the old one.
	New []scan.Finding `json:"new"`
	// Fixed holds findings of the old scan absent from the new one.
	Fixed []scan.Finding `json:"fixed"`
	// Unchanged holds findings present in both, as the new scan saw them.
	Unchanged []scan.Finding `json:"unchanged"`
}

// Compare matches the findings of old and new by fingerprint. Each list
// keeps the order of the scan it comes from, and a fingerprint repeated in
// one scan counts once. A finding of a check that ended in "error" or
// "cancelled" in the other scan is still compared: Result says what the
// reports hold, and a gate decides what that means (see package gate).
func Compare(old, new *scan.Report) Result {
	r := Result{New: []scan.Finding{}, Fixed: []scan.Finding{}, Unchanged: []scan.Finding{}}
	inOld := fingerprints(old)
	inNew := fingerprints(new)
	seen := map[string]bool{}
	for _, f := range findings(new) {
		if seen[f.Fingerprint] {
			continue
		}
		seen[f.Fingerprint] = true
		if inOld[f.Fingerprint] {
			r.Unchanged = append(r.Unchanged, f)
		} else {
			r.New = append(r.New, f)
		}
	}
	clear(seen)
	for _, f := range findings(old) {
		if seen[f.Fingerprint] || inNew[f.Fingerprint] {
			continue
		}
		seen[f.Fingerprint] = true
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

package gate

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/merlonsec/merlon/internal/diff"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
)

// Apply puts the policy files into the report before it is written:
// findings of checks the rules IGNORE are dropped, findings an unexpired
// suppression covers are marked Suppressed, and the score is computed again
// from the findings that still count. Each suppression that has expired on
// the day of now gives a warning, returned and added to rep.Warnings.
func Apply(rep *scan.Report, rules Rules, sups []Suppression, now time.Time) []string {
	var warnings []string
	for _, s := range sups {
		if s.Expired(now) {
			warnings = append(warnings, fmt.Sprintf("suppression of %s expired on %s and no longer applies (reason was: %s)",
				printable(s.name()), s.Expires, printable(s.Reason)))
		}
	}

	kept := rep.Findings[:0:0]
	dropped := map[string]int{}
	for _, f := range rep.Findings {
		if rules.For(f.CheckID) == Ignore {
			dropped[f.CheckID]++
			continue
		}
		f.Suppressed = nil
		for _, s := range sups {
			if !s.Expired(now) && s.Matches(f) {
				f.Suppressed = &scan.Suppression{Reason: s.Reason, Expires: s.Expires}
				break
			}
		}
		kept = append(kept, f)
	}
	if kept == nil {
		kept = []scan.Finding{}
	}
	rep.Findings = kept
	for i := range rep.Checks {
		rep.Checks[i].Findings -= dropped[rep.Checks[i].ID]
	}
	partial := score.Partial(rep)
	rep.Score = score.Compute(Counted(rep.Findings), rep.Coverage)
	rep.Score.Partial = partial
	rep.Warnings = append(rep.Warnings, warnings...)
	return warnings
}

// Counted returns the findings that are not suppressed: those that count
// for the score and the gate.
func Counted(fs []scan.Finding) []scan.Finding {
	out := make([]scan.Finding, 0, len(fs))
	for _, f := range fs {
		if f.Suppressed == nil {
			out = append(out, f)
		}
	}
	return out
}

// Decision is the outcome of Decide.
type Decision struct {
	// Fail is set when at least one finding fails the gate.
	Fail bool
	// Reasons names each finding that fails the gate, one line each.
	Reasons []string
	// Notes are findings that would have failed it but did not: WARN
	// rules, and findings whose check did not finish in the baseline.
	Notes []string
}

// Decide says whether rep fails the gate. A finding fails it when it is
// not suppressed and either its check has a FAIL rule, or it is at or above
// failOn (when failOn is non-nil), has no WARN or IGNORE rule, and, with
// failOn.NewOnly, diff.Compare(baseline, rep) calls it new. Without a
// baseline every finding is new. A finding whose check ended in "error" or
// "cancelled" in the baseline is not new (diff.Compare puts it in
// NotCompared): the baseline could not have seen it, and a network failure
// must not flip the gate. `merlon diff --fail-on-new` decides through the
// same Compare, so both agree.
//
// Decide looks only at findings, so a scan whose requests all failed has
// nothing to fail on; callers must refuse such a scan on their own (see
// Conclusive) rather than call it clean.
func Decide(rep, baseline *scan.Report, rules Rules, failOn *FailOn) Decision {
	var d Decision
	isNew := map[string]bool{}
	notCompared := map[string]bool{}
	if failOn != nil && failOn.NewOnly {
		res := diff.Compare(baseline, rep)
		for _, f := range res.New {
			isNew[f.Fingerprint] = true
		}
		for _, f := range res.NotCompared {
			notCompared[f.Fingerprint] = true
		}
	}
	for _, f := range rep.Findings {
		if f.Suppressed != nil {
			continue
		}
		switch rules.For(f.CheckID) {
		case Ignore:
			continue
		case Fail:
			d.Fail = true
			d.Reasons = append(d.Reasons, describe(f, "")+": the rules file says FAIL for this check")
			continue
		case Warn:
			if failOn != nil && f.Severity >= failOn.Severity {
				d.Notes = append(d.Notes, describe(f, "")+": the rules file says WARN for this check")
			}
			continue
		}
		if failOn == nil || f.Severity < failOn.Severity {
			continue
		}
		if !failOn.NewOnly {
			d.Fail = true
			d.Reasons = append(d.Reasons, describe(f, "")+": at or above --fail-on "+failOn.String())
			continue
		}
		if notCompared[f.Fingerprint] {
			d.Notes = append(d.Notes, describe(f, "")+": not compared, its check did not finish in the baseline")
			continue
		}
		if !isNew[f.Fingerprint] {
			continue
		}
		d.Fail = true
		d.Reasons = append(d.Reasons, describe(f, "new ")+": not in the baseline, at or above --fail-on "+failOn.String())
	}
	return d
}

// Conclusive reports whether rep proves enough to gate on: it found
// operations, reached them, and saw some answer 2xx (score.Inconclusive). A scan that is not conclusive must end as
// a runtime failure, never as a pass or as findings.
func Conclusive(rep *scan.Report) bool { return score.Conclusive(rep.Coverage) }

// describe names a finding in one line for a CI log.
func describe(f scan.Finding, prefix string) string {
	s := prefix + f.Severity.String() + " " + f.CheckID
	if f.Operation != "" {
		s += " on " + printable(f.Operation)
	}
	if len(f.Fingerprint) >= 12 {
		s += " [" + f.Fingerprint[:12] + "]"
	}
	return s
}

// printable quotes text that came from the target or a file when it holds
// anything a terminal could interpret, so that a CI log shows it inert.
func printable(s string) string {
	for i, r := range s {
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") {
			return strconv.QuoteToASCII(s)
		}
		if !unicode.IsGraphic(r) || unicode.Is(unicode.Bidi_Control, r) {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}

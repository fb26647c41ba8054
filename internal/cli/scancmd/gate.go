package scancmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/checks"
	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/cli/reportcmd"
	"github.com/merlonsec/merlon/internal/gate"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
)

// policy is what --fail-on, --baseline, --suppressions and --rules ask
// for, read and checked before the scan starts so that a bad file costs
// no scan.
type policy struct {
	failOn       *gate.FailOn
	baseline     *scan.Report
	suppressions []gate.Suppression
	rules        gate.Rules
	// notes are warnings about the flags themselves, printed once.
	notes []string
}

// active reports whether any gate was asked for.
func (p *policy) active() bool {
	return p.failOn != nil || len(p.rules) > 0
}

// loadPolicy parses the gate flags and reads their files. Every problem is
// a one-line usage error naming the flag.
func (o *Options) loadPolicy(target *url.URL) (*policy, error) {
	p := &policy{}
	if o.FailOn != "" {
		f, err := gate.ParseFailOn(o.FailOn)
		if err != nil {
			return nil, cmdutil.Usagef("--fail-on: %v", err)
		}
		p.failOn = &f
	}
	if o.Baseline != "" {
		b, err := reportcmd.Read(o.Baseline, o.IO.In)
		if err != nil {
			return nil, cmdutil.Usagef("--baseline: %v", err)
		}
		if !gate.Conclusive(b) {
			return nil, cmdutil.Usagef("--baseline: %s is a scan that proves nothing (%s); it cannot serve as a baseline", o.Baseline, score.Inconclusive(b.Coverage))
		}
		if !sameOrigin(b.Target, target) {
			return nil, cmdutil.Usagef("--baseline: %s scanned %s, not %s; fingerprints include the target, so no finding would match", o.Baseline, b.Target, target)
		}
		p.baseline = b
		if p.failOn == nil || !p.failOn.NewOnly {
			p.notes = append(p.notes, "--baseline is used only with --fail-on new:SEVERITY")
		}
	}
	if o.Suppressions != "" {
		err := readFile("--suppressions", o.Suppressions, func(r io.Reader) error {
			var err error
			p.suppressions, err = gate.ParseSuppressions(r)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	if o.Rules != "" {
		var ids []string
		for _, c := range checks.All() {
			ids = append(ids, c.Meta().ID)
		}
		err := readFile("--rules", o.Rules, func(r io.Reader) error {
			var err error
			p.rules, err = gate.ParseRules(r, ids)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func readFile(flag, path string, parse func(io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return cmdutil.Usagef("%s: %s does not exist", flag, path)
		}
		return cmdutil.Usagef("%s: %v", flag, err)
	}
	defer f.Close()
	if err := parse(f); err != nil {
		return cmdutil.Usagef("%s: %s: %v", flag, path, err)
	}
	return nil
}

// sameOrigin reports whether a report's target has the scheme, host and
// port of target, the parts a fingerprint depends on.
func sameOrigin(reportTarget string, target *url.URL) bool {
	u, err := url.Parse(reportTarget)
	if err != nil || target == nil {
		return false
	}
	return strings.EqualFold(u.Scheme, target.Scheme) && strings.EqualFold(u.Host, target.Host)
}

// apply drops ignored findings and marks suppressed ones before the report
// is written, and prints each warning.
func (p *policy) apply(w io.Writer, rep *scan.Report, now time.Time, quiet bool) {
	if len(p.rules) == 0 && len(p.suppressions) == 0 {
		return
	}
	for _, msg := range gate.Apply(rep, p.rules, p.suppressions, now) {
		if quiet {
			continue
		}
		fmt.Fprintf(w, "merlon: warning: %s\n", msg)
	}
}

// decide turns the gate's decision into the command's error: nil to pass,
// ErrFindings to fail. Whenever a gate was asked for, a scan that proves
// nothing (score.Inconclusive) is a runtime failure: network errors and
// wrong URLs never pass or fail a build as if they were a result. A scan
// cut short by --max-time or the request budget fails on the findings it
// has; without any, it is a runtime failure too, since what it did not
// finish may hold what the gate looks for.
func (p *policy) decide(w io.Writer, rep *scan.Report, quiet bool) error {
	if !quiet {
		for _, n := range p.notes {
			fmt.Fprintf(w, "merlon: note: %s\n", n)
		}
	}
	if !p.active() {
		return nil
	}
	if why := score.Inconclusive(rep.Coverage); why != "" {
		return fmt.Errorf("the gate cannot decide: %s (%d requests, %d transport errors)",
			why, rep.Coverage.Requests, rep.Coverage.TransportError)
	}
	d := gate.Decide(rep, p.baseline, p.rules, p.failOn)
	if !quiet {
		for _, n := range d.Notes {
			fmt.Fprintf(w, "merlon: gate: passes %s\n", n)
		}
	}
	for _, r := range d.Reasons {
		fmt.Fprintf(w, "merlon: gate: fails on %s\n", r)
	}
	if d.Fail {
		return cmdutil.ErrFindings
	}
	if score.Partial(rep) {
		return fmt.Errorf("the gate cannot pass an unfinished scan: %s before every check finished and nothing found so far fails it; raise the budget or narrow --checks",
			cutShort(rep))
	}
	return nil
}

// cutShort names what stopped a partial scan.
func cutShort(rep *scan.Report) string {
	switch {
	case rep.Interrupted && rep.Coverage.BudgetExhausted:
		return "the time budget (--max-time) and the request budget (--max-requests) ran out"
	case rep.Interrupted:
		return "the scan was stopped or the time budget (--max-time) ran out"
	}
	return "the request budget (--max-requests) ran out"
}

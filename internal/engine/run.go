package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/merlonsec/merlon/internal/scan"
)

// DefaultParallel is how many checks run at once unless RunOptions says.
const DefaultParallel = 4

// Check statuses in scan.CheckResult.
const (
	StatusOK        = "ok"
	StatusError     = "error"
	StatusSkipped   = "skipped"
	StatusCancelled = "cancelled"
)

// RunOptions tunes RunChecks.
type RunOptions struct {
	// Parallel is how many checks run at once; default 4.
	Parallel int
	// OnDone, when set, is called once per check as it ends, skipped and
	// cancelled ones included. Calls never overlap.
	OnDone func(scan.CheckResult)
}

// RunChecks runs checks against t through h and returns their findings,
// merged and sorted, and one result per check in the order of checks.
//
// A check never brings the scan down: a panic becomes an "error" result,
// and findings returned alongside an error are kept. Active checks are
// skipped unless t.Active. When ctx ends, running checks see it through
// their context, checks not yet started are marked "cancelled", and the
// findings found so far are still returned.
func RunChecks(ctx context.Context, t *scan.Target, checks []scan.Check, h scan.Requester, opts RunOptions) ([]scan.Finding, []scan.CheckResult) {
	if t == nil {
		t = &scan.Target{}
	}
	parallel := opts.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	results := make([]scan.CheckResult, len(checks))
	found := make([][]scan.Finding, len(checks))

	var doneMu sync.Mutex
	done := func(i int) {
		if opts.OnDone == nil {
			return
		}
		doneMu.Lock()
		defer doneMu.Unlock()
		opts.OnDone(results[i])
	}

	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, chk := range checks {
		meta, err := safeMeta(chk)
		results[i].ID = meta.ID
		if err != nil {
			results[i].Status, results[i].Error = StatusError, err.Error()
			done(i)
			continue
		}
		if meta.Active && !t.Active {
			results[i].Status, results[i].Reason = StatusSkipped, "needs --active"
			done(i)
			continue
		}
		acquired := false
		select {
		case sem <- struct{}{}:
			acquired = true
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			// The slot may have been won in the same instant ctx ended;
			// the check still does not start.
			if acquired {
				<-sem
			}
			results[i].Status, results[i].Error = StatusCancelled, ctx.Err().Error()
			done(i)
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			fs, res := runOne(ctx, t, chk, meta, h)
			found[i], results[i] = fs, res
			done(i)
		})
	}
	wg.Wait()

	origin := Origin(t.BaseURL)
	var all []scan.Finding
	for i, fs := range found {
		meta, _ := safeMeta(checks[i])
		for _, f := range fs {
			all = append(all, fill(f, meta, origin))
		}
	}
	return Merge(all), results
}

// runOne runs a single check, turning a panic into an error result.
func runOne(ctx context.Context, t *scan.Target, chk scan.Check, meta scan.Meta, h scan.Requester) (fs []scan.Finding, res scan.CheckResult) {
	res.ID = meta.ID
	defer func() {
		if r := recover(); r != nil {
			res.Status, res.Error = StatusError, fmt.Sprintf("panic: %v", r)
			res.Findings = len(fs)
		}
	}()
	rec := newOpRecorder(h)
	fs, err := chk.Run(ctx, t, rec)
	res.Findings = len(fs)
	res.Operations = rec.operations()
	var skip *scan.SkipError
	switch {
	case err == nil:
		res.Status = StatusOK
	case errors.As(err, &skip):
		res.Status, res.Reason = StatusSkipped, skip.Reason
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		res.Status, res.Error = StatusCancelled, err.Error()
	default:
		res.Status, res.Error = StatusError, err.Error()
	}
	return fs, res
}

// safeMeta reads a check's metadata, which is code and may panic too.
func safeMeta(chk scan.Check) (m scan.Meta, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return chk.Meta(), nil
}

// fill gives a finding the identity of the check that found it and its
// fingerprint, where the check left them empty.
func fill(f scan.Finding, m scan.Meta, origin string) scan.Finding {
	if f.CheckID == "" {
		f.CheckID = m.ID
	}
	if f.Title == "" {
		f.Title = m.Title
	}
	if f.Category == "" {
		f.Category = m.Category
	}
	if f.CWE == 0 {
		f.CWE = m.CWE
	}
	if f.Fingerprint == "" {
		f.Fingerprint = scan.Fingerprint(f.CheckID, origin, f.Operation, f.Location)
	}
	return f
}

// Origin is the scheme://host:port of u, with the default port written
// out, as the fingerprint of a finding uses it; "" for nil.
func Origin(u *url.URL) string {
	if u == nil {
		return ""
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port(u)
}

// Merge removes findings with the same fingerprint, keeping the most
// severe (then the most confident) and its evidence, and sorts the rest:
// severity and confidence descending, then check ID, operation, location.
func Merge(fs []scan.Finding) []scan.Finding {
	out := make([]scan.Finding, 0, len(fs))
	at := make(map[string]int, len(fs))
	for _, f := range fs {
		i, dup := at[f.Fingerprint]
		if !dup {
			at[f.Fingerprint] = len(out)
			out = append(out, f)
			continue
		}
		if outranks(f, out[i]) {
			if len(f.Evidence) == 0 {
				f.Evidence = out[i].Evidence
			}
			out[i] = f
		} else if len(out[i].Evidence) == 0 {
			out[i].Evidence = f.Evidence
		}
	}
	slices.SortStableFunc(out, func(a, b scan.Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(b.Confidence, a.Confidence),
			cmp.Compare(a.CheckID, b.CheckID),
			cmp.Compare(a.Operation, b.Operation),
			cmp.Compare(a.Location, b.Location),
		)
	})
	return out
}

func outranks(a, b scan.Finding) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	return a.Confidence > b.Confidence
}

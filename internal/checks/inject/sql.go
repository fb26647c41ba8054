package inject

import (
	"context"
	"fmt"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/fingerprint"
	"github.com/merlonsec/merlon/internal/scan"
)

// boolPair is a true and a false condition appended to the value, in two
// spellings, so that a difference must follow the condition and not the
// text. Only AND: an OR could widen what an UPDATE or DELETE behind the
// endpoint touches, an AND only narrows it.
type boolPair struct {
	t1, f1, t2, f2 string
}

func boolPairs(v string, numeric bool) []boolPair {
	str := boolPair{
		t1: v + "' AND '1'='1", f1: v + "' AND '1'='2",
		t2: v + "' AND 'b'='b", f2: v + "' AND 'b'='c",
	}
	if !numeric {
		return []boolPair{str}
	}
	num := boolPair{
		t1: v + " AND 1=1", f1: v + " AND 1=2",
		t2: v + " AND 2=2", f2: v + " AND 2=3",
	}
	return []boolPair{num, str}
}

// sleeper builds a time-based payload for one database: each keeps the
// value's meaning and runs one bounded sleep, without stacking a query.
type sleeper struct {
	db       string
	str, num func(v, secs string) string
}

// SQLite has no sleep function and a CPU-bound stand-in (randomblob)
// cannot be bounded in time across machines, so it has no time probe;
// MSSQL's WAITFOR needs a statement of its own, which means stacking.
var sleepers = []sleeper{
	{fingerprint.PostgreSQL,
		func(v, s string) string { return v + "'||(SELECT '' FROM pg_sleep(" + s + "))||'" },
		func(v, s string) string { return v + "+(SELECT 0 FROM pg_sleep(" + s + "))" }},
	{fingerprint.MySQL,
		func(v, s string) string { return v + "' AND (SELECT 1 FROM (SELECT SLEEP(" + s + "))x)=1 AND '1'='1" },
		func(v, s string) string { return v + "-(SELECT 0 FROM (SELECT SLEEP(" + s + "))x)" }},
	{fingerprint.Oracle,
		func(v, s string) string { return v + "'||DBMS_PIPE.RECEIVE_MESSAGE('merlon'," + s + ")||'" },
		nil},
}

func sqlPoint(ctx context.Context, p *pointRun, delay float64) *scan.Finding {
	if f := sqlError(ctx, p); f != nil {
		return f
	}
	if f := sqlBoolean(ctx, p); f != nil {
		return f
	}
	return sqlTime(ctx, p, delay)
}

// sqlError sends the value with a lone quote and with the quote doubled
// (an escaped quote, valid SQL): a syntax error that the first provokes,
// the second does not and the baseline never showed is proof.
func sqlError(ctx context.Context, p *pointRun) *scan.Finding {
	v := p.pt.value
	broken := p.send(ctx, v+"'")
	if broken == nil {
		return nil
	}
	db, matched := dbError(string(broken.Response.Raw))
	if db == "" || p.base.contains(matched) {
		return nil
	}
	control := v + "''"
	if p.pt.numeric {
		control = "(" + v + ")"
	}
	balanced := p.send(ctx, control)
	if balanced == nil {
		return nil
	}
	if d, _ := dbError(string(balanced.Response.Raw)); d != "" {
		return nil
	}
	desc := fmt.Sprintf("A single quote appended to %s made the %s database report a syntax error (%q), which the "+
		"unchanged request never shows; with the quote balanced (%q) the error is gone. The value is pasted into the "+
		"SQL text, so a client can rewrite the query: read other rows and tables, bypass conditions, and, where the "+
		"driver allows it, change data.", p.where(), db, matched, control)
	return p.finding(scan.Confirmed, fmt.Sprintf("SQL injection in %s (%s error)", p.pt.name, db), desc, db, []scan.Evidence{
		probe.Evidence(broken, "a lone quote: a database syntax error", matched),
		probe.Evidence(balanced, "the quote balanced: no error", ""),
	})
}

// sqlBoolean sends a true and a false condition, each in two spellings:
// the true ones must answer as the baseline does, the false ones alike
// among themselves and differently.
func sqlBoolean(ctx context.Context, p *pointRun) *scan.Finding {
	c := p.base.cmp
	if !c.stable() {
		return nil
	}
	b := p.base.samples[0]
	for _, bp := range boolPairs(p.pt.value, p.pt.numeric) {
		scrub := []string{bp.t1, bp.f1, bp.t2, bp.f2}
		t1 := p.send(ctx, bp.t1)
		if t1 == nil || !c.same(t1, b, scrub...) {
			continue
		}
		f1 := p.send(ctx, bp.f1)
		if f1 == nil || c.same(f1, t1, scrub...) {
			continue
		}
		t2 := p.send(ctx, bp.t2)
		f2 := p.send(ctx, bp.f2)
		if !c.same(t2, t1, scrub...) || !c.same(f2, f1, scrub...) || c.same(f2, t2, scrub...) {
			continue
		}
		desc := fmt.Sprintf("%s answers a true SQL condition appended to its value (%q) exactly as the unchanged "+
			"request, and a false one (%q) differently (status %d instead of %d); the same held for a second "+
			"spelling of each (%q, %q). The database evaluates what the client sends as SQL, so a client can "+
			"read any data the query's account can, one yes/no question at a time.",
			upper(p.where()), bp.t1, bp.f1, f1.Response.Status, t1.Response.Status, bp.t2, bp.f2)
		return p.finding(scan.Confirmed, fmt.Sprintf("SQL injection in %s (boolean)", p.pt.name), desc, "", []scan.Evidence{
			probe.Evidence(t1, "true condition: answers as the baseline", ""),
			probe.Evidence(f1, "false condition: answers differently", ""),
			probe.Evidence(t2, "true condition, second spelling", ""),
			probe.Evidence(f2, "false condition, second spelling", ""),
		})
	}
	return nil
}

// sqlTime is the last resort: a sleep that must scale with the time
// asked for.
func sqlTime(ctx context.Context, p *pointRun, delay float64) *scan.Finding {
	for _, s := range sleepers {
		var forms []func(v, secs string) string
		if p.pt.numeric && s.num != nil {
			forms = append(forms, s.num)
		}
		if s.str != nil {
			forms = append(forms, s.str)
		}
		for _, mk := range forms {
			exs := p.timed(ctx, delay, func(secs string) string { return mk(p.pt.value, secs) })
			if exs == nil {
				continue
			}
			desc := fmt.Sprintf("%s made the database sleep: asking for %ss, %ss and 0s through a %s sleep function "+
				"delayed the answers by about as much, twice for the first, while the unchanged request took at most %v. "+
				"The value is executed as SQL.", upper(p.where()), formatSecs(delay), formatSecs(2*delay), s.db, p.base.slowest)
			return p.finding(scan.Confirmed, fmt.Sprintf("SQL injection in %s (time-based, %s)", p.pt.name, s.db), desc, s.db,
				timingEvidence(exs, delay))
		}
	}
	return nil
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

package inject

import (
	"context"
	"fmt"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// separators place a shell command after the value: each builds the
// payload from the value and the command. The quoted forms close a
// single or double quote the value may sit in.
var separators = []struct {
	name string
	mk   func(v, cmd string) string
}{
	{";", func(v, c string) string { return v + ";" + c }},
	{"|", func(v, c string) string { return v + "|" + c }},
	{"&&", func(v, c string) string { return v + "&&" + c }},
	{"||", func(v, c string) string { return v + "||" + c }},
	{"$()", func(v, c string) string { return v + "$(" + c + ")" }},
	{"backticks", func(v, c string) string { return v + "`" + c + "`" }},
	{"newline", func(v, c string) string { return v + "\n" + c + "\n" }},
	{"'…;", func(v, c string) string { return v + "';" + c + ";'" }},
	{`"…;`, func(v, c string) string { return v + `";` + c + `;"` }},
}

// marker is an echo whose output, mrl<a*b>z, differs from its own text:
// only a shell that ran it prints the product.
func marker() (cmd, want string) {
	a, b := factor(1000, 9999), factor(1000, 9999)
	return "echo mrl$((" + itoa(a) + "*" + itoa(b) + "))z", "mrl" + itoa(a*b) + "z"
}

func commandPoint(ctx context.Context, p *pointRun, delay float64) *scan.Finding {
	v := p.pt.value
	for _, sep := range separators {
		cmd, want := marker()
		ex := p.send(ctx, sep.mk(v, cmd))
		if ex == nil || !contains(ex, want) || p.base.contains(want) {
			continue
		}
		// Once more with other numbers, so that a coincidence is ruled out.
		cmd2, want2 := marker()
		ex2 := p.send(ctx, sep.mk(v, cmd2))
		if ex2 == nil || !contains(ex2, want2) {
			continue
		}
		desc := fmt.Sprintf("%s runs in a shell: appending %q (separator %s) made the answer carry %q, the product "+
			"only a shell computes, and a second marker with other numbers came back too. A client can run any "+
			"command as the server's user.", upper(p.where()), cmd, sep.name, want)
		return p.finding(scan.Confirmed, fmt.Sprintf("OS command injection in %s", p.pt.name), desc, "", []scan.Evidence{
			probe.Evidence(ex, "echo of an arithmetic marker: the product comes back", want),
			probe.Evidence(ex2, "a second marker: its product comes back too", want2),
		})
	}
	for _, sep := range separators[:7] {
		exs := p.timed(ctx, delay, func(secs string) string { return sep.mk(v, "sleep "+secs) })
		if exs == nil {
			continue
		}
		desc := fmt.Sprintf("%s runs in a shell: appending sleep (separator %s) for %ss, %ss and 0s delayed the "+
			"answers by about as much, twice for the first, while the unchanged request took at most %v. A client "+
			"can run any command as the server's user.", upper(p.where()), sep.name, formatSecs(delay), formatSecs(2*delay), p.base.slowest)
		return p.finding(scan.Confirmed, fmt.Sprintf("OS command injection in %s (time-based)", p.pt.name), desc, "", timingEvidence(exs, delay))
	}
	return nil
}

func contains(ex *scan.Exchange, s string) bool {
	return ex != nil && len(s) > 0 && containsBytes(ex.Response.Raw, s)
}

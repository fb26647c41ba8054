// Package diffcmd is `merlon diff`: what changed between two saved scans.
package diffcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/cli/reportcmd"
	"github.com/merlonsec/merlon/internal/diff"
	"github.com/merlonsec/merlon/internal/scan"
)

// Options are the flag values and dependencies of one `merlon diff`.
type Options struct {
	IO *cmdutil.IO

	Old, New string
	Format   string
	// FailOnNew, when set, is the severity at or above which a new
	// finding makes the command exit 1.
	FailOnNew string
}

// NewCmd builds the diff command. runF, when non-nil, replaces Run so that
// tests can check flag parsing alone.
func NewCmd(ios *cmdutil.IO, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "diff <old.json> <new.json>",
		Short: "Compare two saved JSON scans: new, fixed and unchanged findings",
		Long: `Compare two scans saved with 'merlon scan --format json'. Findings are
matched by fingerprint (check, target, operation and location), so the same
weakness seen with other evidence is unchanged.

A check that did not complete in one scan (it ended in an error, a timeout
or was cancelled) could not see everything there: its findings in the other
scan are listed as "not compared" instead of new or fixed, and never count
for --fail-on-new. The same rule decides "new" for 'merlon scan --baseline'.

Exit codes: 0 compared (whatever the differences), 1 a new finding at or
above --fail-on-new, 2 usage error or a file that is not a Merlon JSON report.`,
		Example: `  merlon diff main.json pr.json
  merlon diff main.json pr.json --format markdown > diff.md
  merlon diff main.json pr.json --fail-on-new high`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return cmdutil.Usagef("diff needs two JSON reports, old then new, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Old, opts.New = args[0], args[1]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Format, "format", "f", "text", "output format: text, json or markdown")
	f.StringVar(&opts.FailOnNew, "fail-on-new", "", "exit 1 when a new finding is at or above this severity: critical, high, medium, low or info")
	return cmd
}

// Run compares the two reports and writes the result to Out.
func Run(_ context.Context, o *Options) error {
	format := strings.ToLower(strings.TrimSpace(o.Format))
	var render func(io.Writer, *scan.Report, *scan.Report, diff.Result) error
	switch format {
	case "text":
		render = renderText
	case "json":
		render = renderJSON
	case "markdown", "md":
		render = renderMarkdown
	default:
		return cmdutil.Usagef("unknown diff format %q (want text, json or markdown)", o.Format)
	}
	var threshold *scan.Severity
	if o.FailOnNew != "" {
		sev, err := scan.ParseSeverity(o.FailOnNew)
		if err != nil {
			return cmdutil.Usagef("--fail-on-new: %v", err)
		}
		threshold = &sev
	}
	oldRep, err := reportcmd.Read(o.Old, o.IO.In)
	if err != nil {
		return err
	}
	newRep, err := reportcmd.Read(o.New, o.IO.In)
	if err != nil {
		return err
	}
	if !strings.EqualFold(oldRep.Target, newRep.Target) {
		fmt.Fprintf(o.IO.ErrOut, "merlon: warning: the reports scanned different targets (%s, %s); fingerprints include the target, so nothing will match\n",
			printable(oldRep.Target), printable(newRep.Target))
	}
	res := diff.Compare(oldRep, newRep)
	if err := render(o.IO.Out, oldRep, newRep, res); err != nil {
		return fmt.Errorf("write diff: %w", err)
	}
	if threshold != nil {
		for _, f := range res.New {
			if f.Suppressed == nil && f.Severity >= *threshold {
				return cmdutil.ErrFindings
			}
		}
	}
	return nil
}

// order returns fs sorted by severity, most severe first, keeping the
// scan's order within a severity.
func order(fs []scan.Finding) []scan.Finding {
	out := make([]scan.Finding, 0, len(fs))
	for _, sev := range scan.Severities() {
		for _, f := range fs {
			if f.Severity == sev {
				out = append(out, f)
			}
		}
	}
	return out
}

func renderText(w io.Writer, oldRep, newRep *scan.Report, res diff.Result) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Merlon diff of %s\n", printable(newRep.Target))
	fmt.Fprintf(&b, "  old: %s, grade %s (%d/100)\n", oldRep.FinishedAt.Format("2006-01-02 15:04 MST"), oldRep.Score.Grade, oldRep.Score.Overall)
	fmt.Fprintf(&b, "  new: %s, grade %s (%d/100)\n", newRep.FinishedAt.Format("2006-01-02 15:04 MST"), newRep.Score.Grade, newRep.Score.Overall)
	fmt.Fprintf(&b, "%s\n", counts(res))
	for _, inc := range res.Incomplete {
		fmt.Fprintf(&b, "  note: %s\n", printable(inc.String()))
	}
	for _, sec := range []struct {
		name string
		fs   []scan.Finding
	}{{"New", res.New}, {"Fixed", res.Fixed}, {"Not compared", res.NotCompared}, {"Unchanged", res.Unchanged}} {
		if len(sec.fs) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s (%d)\n", sec.name, len(sec.fs))
		for _, f := range order(sec.fs) {
			where := f.Operation
			if where == "" {
				where = "(whole API)"
			}
			fmt.Fprintf(&b, "  %-8s  %s  %s: %s%s%s\n", strings.ToUpper(f.Severity.String()), f.CheckID,
				printable(where), printable(f.Title), suppressedNote(f), sideNote(sec.name, f, newRep))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// counts is the one-line summary of a diff.
func counts(res diff.Result) string {
	s := fmt.Sprintf("%d new, %d fixed, %d unchanged", len(res.New), len(res.Fixed), len(res.Unchanged))
	if len(res.NotCompared) > 0 {
		s += fmt.Sprintf(", %d not compared", len(res.NotCompared))
	}
	return s
}

// sideNote says which scan a finding that was not compared comes from.
func sideNote(section string, f scan.Finding, newRep *scan.Report) string {
	if section != "Not compared" {
		return ""
	}
	for _, g := range newRep.Findings {
		if g.Fingerprint == f.Fingerprint {
			return " (new scan only)"
		}
	}
	return " (old scan only)"
}

func suppressedNote(f scan.Finding) string {
	if f.Suppressed == nil {
		return ""
	}
	return " (suppressed until " + printable(f.Suppressed.Expires) + ")"
}

// jsonDiff is the JSON form: counts, the two scans, then the three lists.
type jsonDiff struct {
	Summary   summary        `json:"summary"`
	OldScan   side           `json:"oldScan"`
	NewScan   side           `json:"newScan"`
	New       []scan.Finding `json:"new"`
	Fixed     []scan.Finding `json:"fixed"`
	Unchanged []scan.Finding `json:"unchanged"`
	// NotCompared and Incomplete: see diff.Result.
	NotCompared []scan.Finding    `json:"notCompared"`
	Incomplete  []diff.Incomplete `json:"incomplete"`
}

type summary struct {
	New         int `json:"new"`
	Fixed       int `json:"fixed"`
	Unchanged   int `json:"unchanged"`
	NotCompared int `json:"notCompared"`
}

// side names one of the compared scans.
type side struct {
	Target     string `json:"target"`
	FinishedAt string `json:"finishedAt"`
	Grade      string `json:"grade"`
	Score      int    `json:"score"`
}

func sideOf(r *scan.Report) side {
	return side{Target: r.Target, FinishedAt: r.FinishedAt.Format(time.RFC3339Nano), Grade: r.Score.Grade, Score: r.Score.Overall}
}

func renderJSON(w io.Writer, oldRep, newRep *scan.Report, res diff.Result) error {
	d := jsonDiff{
		Summary: summary{New: len(res.New), Fixed: len(res.Fixed), Unchanged: len(res.Unchanged), NotCompared: len(res.NotCompared)},
		OldScan: sideOf(oldRep), NewScan: sideOf(newRep),
		New: res.New, Fixed: res.Fixed, Unchanged: res.Unchanged,
		NotCompared: res.NotCompared, Incomplete: res.Incomplete,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

func renderMarkdown(w io.Writer, oldRep, newRep *scan.Report, res diff.Result) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "### Merlon diff: %s\n\n", counts(res))
	fmt.Fprintf(&b, "Grade %s (%d/100) → %s (%d/100) on `%s`\n", oldRep.Score.Grade, oldRep.Score.Overall,
		newRep.Score.Grade, newRep.Score.Overall, mdCode(newRep.Target))
	if len(res.Incomplete) > 0 {
		b.WriteString("\n")
		for _, inc := range res.Incomplete {
			fmt.Fprintf(&b, "- %s\n", mdText(inc.String()))
		}
	}
	table := func(fs []scan.Finding) {
		b.WriteString("\n| Severity | Check | Operation | Finding |\n|---|---|---|---|\n")
		for _, f := range order(fs) {
			op := "(whole API)"
			if f.Operation != "" {
				op = "`" + mdCode(f.Operation) + "`"
			}
			fmt.Fprintf(&b, "| %s | `%s` | %s | %s%s |\n", f.Severity, mdCode(f.CheckID), op, mdText(f.Title), mdText(suppressedNote(f)))
		}
	}
	if len(res.New) > 0 {
		fmt.Fprintf(&b, "\n#### New (%d)\n", len(res.New))
		table(res.New)
	}
	if len(res.Fixed) > 0 {
		fmt.Fprintf(&b, "\n#### Fixed (%d)\n", len(res.Fixed))
		table(res.Fixed)
	}
	if len(res.NotCompared) > 0 {
		fmt.Fprintf(&b, "\n#### Not compared (%d)\n", len(res.NotCompared))
		table(res.NotCompared)
	}
	if len(res.Unchanged) > 0 {
		fmt.Fprintf(&b, "\n<details><summary>Unchanged (%d)</summary>\n", len(res.Unchanged))
		table(res.Unchanged)
		b.WriteString("\n</details>\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// mdText makes target text inert in a Markdown table cell: HTML and
// Markdown punctuation are escaped, and line breaks and control characters
// cannot end the row.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range printable(s) {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '|', '\\', '`', '*', '_', '[', ']', '#', '!', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode makes text safe inside a one-backtick code span in a table cell:
// there only a backtick or a pipe could break out, and HTML is not parsed.
func mdCode(s string) string {
	s = printable(s)
	s = strings.ReplaceAll(s, "`", "'")
	return strings.ReplaceAll(s, "|", "\\|")
}

// printable quotes text from the target when it holds anything a terminal
// or a Markdown renderer could interpret (control characters, line breaks,
// bidi overrides, invalid UTF-8), so that it shows up inert.
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

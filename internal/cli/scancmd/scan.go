// Package scancmd is `merlon scan`: scan one API and report what it finds.
package scancmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/merlonsec/merlon/internal/checks"
	"github.com/merlonsec/merlon/internal/checks/authn"
	"github.com/merlonsec/merlon/internal/checks/llm"
	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/config"
	"github.com/merlonsec/merlon/internal/pipeline"
	"github.com/merlonsec/merlon/internal/report"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
	"github.com/merlonsec/merlon/internal/visible"
)

// Options are the flag values and dependencies of one `merlon scan`.
type Options struct {
	IO *cmdutil.IO

	Target      string
	Spec        string
	BaseURL     string
	Profile     string
	Headers     []string
	Active      bool
	Format      string
	Output      string
	FailOn      string
	Rate        float64
	Concurrency int
	Timeout     time.Duration
	MaxRequests int
	MaxTime     time.Duration
	Checks      []string
	SkipChecks  []string
	Insecure    bool
	// CallbackURL and CallbackListen place the out-of-band listener of
	// active scans (--callback-url, --callback-listen).
	CallbackURL    string
	CallbackListen string
	Quiet          bool
	Verbose        bool
	// CountWrites prints one count of the writes an --active scan sent
	// instead of a line per write: the demo writes only to the API it runs
	// in-process, where a few hundred lines would bury the report.
	CountWrites bool

	// Baseline, Suppressions and Rules are the gate's files (see gate.go).
	Baseline     string
	Suppressions string
	Rules        string

	// JWTWordlist is a file of extra JWT secrets to try (--jwt-wordlist).
	JWTWordlist string
	// LLMCanary is text known to be in an LLM endpoint's system prompt
	// (--llm-canary); llm.system-prompt-leak confirms a leak with it.
	LLMCanary string

	// Config, Identities and SpecAuth set who Merlon acts as (identity.go).
	Config     string
	Identities []string
	SpecAuth   bool
	file       *config.File
	changed    func(flag string) bool

	// Save stores the scan in the database DB names (save.go); an empty DB
	// is the default path, see docs/serve.md.
	Save bool
	DB   string

	// Signals, when set, replaces os/signal for tests.
	Signals <-chan os.Signal
}

// NewCmd builds the scan command. runF, when non-nil, replaces Run so that
// tests can check flag parsing alone.
func NewCmd(ios *cmdutil.IO, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "scan <url>",
		Short: "Scan an HTTP API for security weaknesses",
		Long: `Scan the API at <url> against the OWASP API Security Top 10 (2023).

Merlon builds an inventory of operations from --spec, from a spec it finds at a
well-known path (/openapi.json, /swagger.json, /v3/api-docs, ...), or by
crawling JSON responses from <url>. It never leaves the scheme, host and port
of <url>. Without --active only GET, HEAD and OPTIONS requests are sent.

Results go to stdout (or --output); progress and errors go to stderr.

With --active, each state-changing request is shown on stderr as it is
answered (not with -q).

Exit codes: 0 no finding at or above --fail-on, 1 findings at or above
--fail-on, 2 usage or input error (an identity the API refuses
included), 3 the scan could not run, or a gate (--fail-on, --rules) was
asked for and the scan proved nothing or was cut short by a budget
without a failing finding, 130 interrupted.`,
		Example: `  merlon scan http://127.0.0.1:8080
  merlon scan https://api.example.com --spec openapi.yaml --profile quick
  merlon scan https://api.example.com -H "Authorization: Bearer $TOKEN" --format json -o report.json
  merlon scan http://127.0.0.1:5000 --active --fail-on high`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 || len(args) == 0 && opts.Config == "" {
				return cmdutil.Usagef("scan needs exactly one target URL, got %d arguments (example: merlon scan https://api.example.com)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Target = args[0]
			}
			opts.changed = cmd.Flags().Changed
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Spec, "spec", "", "OpenAPI 3.x or Swagger 2.0 spec, as a file path or URL (JSON or YAML)")
	f.StringVar(&opts.BaseURL, "base-url", "", "URL that spec paths are joined onto, when the spec's servers do not match (same host as <url>)")
	f.StringVar(&opts.Profile, "profile", "standard", "how much to send: quick, standard or deep")
	f.StringArrayVarP(&opts.Headers, "header", "H", nil, "header to send with every request, as 'Name: value' (repeatable; use for auth)")
	f.BoolVar(&opts.Active, "active", false, "allow state-changing requests (POST, PUT, PATCH, DELETE) that prove weaknesses; only on APIs you may modify")
	f.StringVarP(&opts.Format, "format", "f", "text", "output format: "+strings.Join(report.Formats(), ", "))
	f.StringVarP(&opts.Output, "output", "o", "", "write the report to this file instead of stdout")
	f.StringVar(&opts.FailOn, "fail-on", "", "exit 1 when a finding at or above this severity exists: critical, high, medium, low or info; new:SEVERITY counts only findings not in --baseline")
	f.StringVar(&opts.Baseline, "baseline", "", "previous JSON report of the same target; with --fail-on new:SEVERITY only new findings fail")
	f.StringVar(&opts.Suppressions, "suppressions", "", "YAML file of accepted risks (fingerprint or check+operation, reason, expires); see docs/ci.md")
	f.StringVar(&opts.Rules, "rules", "", "rules file: one '<check-or-family> IGNORE|WARN|FAIL [comment]' per line; see docs/ci.md")
	f.Float64Var(&opts.Rate, "rate", 100, "maximum requests per second (0 for no limit)")
	f.IntVarP(&opts.Concurrency, "concurrency", "c", 8, "maximum requests in flight")
	f.DurationVar(&opts.Timeout, "timeout", 10*time.Second, "timeout of each request")
	f.IntVar(&opts.MaxRequests, "max-requests", 0, "request budget for the whole scan (default: the profile's: quick 1000, standard 10000, deep 50000)")
	f.DurationVar(&opts.MaxTime, "max-time", 0, "wall-clock budget for the whole scan (default: the profile's: quick 45s, standard 10m, deep 30m)")
	f.StringSliceVar(&opts.Checks, "checks", nil, "run only these checks: IDs, families or OWASP categories, comma-separated (see merlon checks)")
	f.StringSliceVar(&opts.SkipChecks, "skip-checks", nil, "skip these checks: IDs, families or OWASP categories")
	f.BoolVarP(&opts.Insecure, "insecure", "k", false, "do not verify the target's TLS certificate")
	f.StringVar(&opts.CallbackListen, "callback-listen", "127.0.0.1:0", "address the callback listener of --active out-of-band checks (SSRF, webhooks) binds; the default only works for a target on this machine")
	f.StringVar(&opts.CallbackURL, "callback-url", "", "URL the target should use to reach the callback listener, when not the listening address (e.g. https://callbacks.example.com)")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing on stderr but errors")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "log more detail and show full evidence")
	f.StringVar(&opts.Config, "config", "", "merlon.yaml with the target, headers and identities (flags override it); see docs/identities.md")
	f.StringArrayVar(&opts.Identities, "identity", nil, "identity to act as, as 'name:role:Header: value' (repeatable); see docs/identities.md")
	f.BoolVar(&opts.SpecAuth, "spec-auth", false, "send the -H headers and the default identity's static credentials to a --spec URL")
	f.StringVar(&opts.JWTWordlist, "jwt-wordlist", "", "file of candidate JWT secrets, one a line, tried after Merlon's built-in list")
	f.StringVar(&opts.LLMCanary, "llm-canary", "", "text known to be in an LLM endpoint's system prompt; a reply containing it confirms a system-prompt leak")
	f.BoolVar(&opts.Save, "save", false, "store the scan and its report in the database, for the dashboard and diffs (see docs/serve.md)")
	f.StringVar(&opts.DB, "db", "", "database for --save: a SQLite file path, or a postgres:// URL (default: $MERLON_DB, else $XDG_DATA_HOME/merlon/merlon.db)")
	return cmd
}

// settings is Options checked and converted.
type settings struct {
	cfg      pipeline.Config
	renderer report.Renderer
	policy   *policy
}

func (o *Options) validate() (*settings, error) {
	s := &settings{}
	if err := o.loadConfig(); err != nil {
		return nil, err
	}
	target, err := pipeline.ParseTarget(o.Target)
	if err != nil {
		return nil, &cmdutil.UsageError{Err: err}
	}
	s.cfg.Target = target
	if o.BaseURL != "" {
		b, err := pipeline.ParseTarget(o.BaseURL)
		if err != nil {
			return nil, cmdutil.Usagef("--base-url: %v", err)
		}
		s.cfg.BaseURL = b
	}
	switch p := scan.Profile(strings.ToLower(o.Profile)); p {
	case scan.Quick, scan.Standard, scan.Deep:
		s.cfg.Profile = p
	default:
		return nil, cmdutil.Usagef("unknown profile %q (want quick, standard or deep)", o.Profile)
	}
	hdr, err := parseHeaders(o.Headers)
	if err != nil {
		return nil, &cmdutil.UsageError{Err: err}
	}
	s.cfg.Headers = hdr
	if err := o.applyIdentities(&s.cfg); err != nil {
		return nil, err
	}
	if s.policy, err = o.loadPolicy(target); err != nil {
		return nil, err
	}
	switch {
	case o.Rate < 0:
		return nil, cmdutil.Usagef("--rate must be 0 (no limit) or more, got %g", o.Rate)
	case o.Concurrency < 1:
		return nil, cmdutil.Usagef("--concurrency must be at least 1, got %d", o.Concurrency)
	case o.Timeout <= 0:
		return nil, cmdutil.Usagef("--timeout must be positive, got %s", o.Timeout)
	case o.MaxRequests < 0:
		return nil, cmdutil.Usagef("--max-requests must be positive, got %d", o.MaxRequests)
	case o.MaxTime < 0:
		return nil, cmdutil.Usagef("--max-time must be positive, got %s", o.MaxTime)
	}
	r, err := report.New(o.Format, report.Options{Color: o.Output == "" && o.IO.OutTTY, Verbose: o.Verbose})
	if err != nil {
		return nil, &cmdutil.UsageError{Err: err}
	}
	s.renderer = r
	selected, err := checks.Select(checks.All(), o.Checks, o.SkipChecks)
	if err != nil {
		return nil, &cmdutil.UsageError{Err: err}
	}
	if len(selected) == 0 {
		return nil, cmdutil.Usagef("--checks and --skip-checks leave no check to run")
	}
	if o.JWTWordlist != "" {
		wf, err := os.Open(o.JWTWordlist)
		if err != nil {
			return nil, cmdutil.Usagef("--jwt-wordlist: %v", err)
		}
		words, err := authn.ReadWordlist(wf)
		wf.Close()
		if err != nil {
			return nil, cmdutil.Usagef("--jwt-wordlist %s: %v", o.JWTWordlist, err)
		}
		selected = authn.WithWordlist(selected, words)
	}
	if o.LLMCanary != "" {
		selected = llm.WithCanary(selected, o.LLMCanary)
	}
	s.cfg.Checks = selected
	s.cfg.Spec = o.Spec
	s.cfg.Active = o.Active
	s.cfg.Rate = o.Rate
	s.cfg.Concurrency = o.Concurrency
	s.cfg.Timeout = o.Timeout
	s.cfg.MaxRequests = o.MaxRequests
	s.cfg.MaxTime = o.MaxTime
	s.cfg.Insecure = o.Insecure
	s.cfg.CallbackListen = o.CallbackListen
	s.cfg.CallbackURL = o.CallbackURL
	s.cfg.ToolVersion = cmdutil.Version
	return s, nil
}

// parseHeaders reads -H values of the form "Name: value".
func parseHeaders(raw []string) (http.Header, error) {
	h := http.Header{}
	for _, r := range raw {
		name, value, ok := strings.Cut(r, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") {
			return nil, fmt.Errorf("invalid header %q: want 'Name: value'", redactHeaderArg(r))
		}
		if strings.ContainsAny(value, "\r\n") {
			return nil, fmt.Errorf("invalid header %q: value contains a line break", name)
		}
		h.Add(name, strings.TrimSpace(value))
	}
	return h, nil
}

// redactHeaderArg keeps a malformed header's secret out of error messages.
func redactHeaderArg(s string) string {
	if len(s) > 12 {
		return s[:6] + "…"
	}
	return s
}

// Run performs the scan and writes the report.
func Run(ctx context.Context, o *Options) error {
	s, err := o.validate()
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Ctrl-C cancels the scan; the report of what was found is still written.
	var interrupted bool
	var intMu sync.Mutex
	sigs := o.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt)
		defer signal.Stop(ch)
		sigs = ch
	}
	go func() {
		select {
		case <-sigs:
			intMu.Lock()
			interrupted = true
			intMu.Unlock()
			cancel()
		case <-ctx.Done():
		}
	}()

	level := slog.LevelWarn
	if o.Verbose {
		level = slog.LevelInfo
	}
	if o.Quiet {
		level = slog.LevelError
	}
	s.cfg.Logger = slog.New(slog.NewTextHandler(o.IO.ErrOut, &slog.HandlerOptions{Level: level}))
	var prog *progress
	var writes atomic.Int64
	if !o.Quiet {
		prog = newProgress(o.IO.ErrOut, o.IO.ErrTTY)
		s.cfg.Progress = prog.update
		defer prog.finish()
		// An --active scan changes the target's state: every write it
		// made is shown, so the user can see (and undo) them.
		switch {
		case o.Active && o.CountWrites:
			s.cfg.OnWrite = func(pipeline.Write) { writes.Add(1) }
			defer func() {
				if n := writes.Load(); n > 0 {
					fmt.Fprintf(o.IO.ErrOut, "merlon: %d write requests sent, to the demo API only\n", n)
				}
			}()
		case o.Active:
			s.cfg.OnWrite = func(w pipeline.Write) {
				if w.Err != nil {
					prog.println(fmt.Sprintf("merlon: write %s %s -> no answer (%s)", visible.Line(w.Method), visible.Line(w.URL), visible.Line(w.Err.Error())))
					return
				}
				prog.println(fmt.Sprintf("merlon: write %s %s -> %d", visible.Line(w.Method), visible.Line(w.URL), w.Status))
			}
		}
	}

	rep, err := pipeline.Run(ctx, s.cfg)
	if prog != nil {
		prog.finish()
	}
	intMu.Lock()
	wasInterrupted := interrupted
	intMu.Unlock()
	if err != nil {
		if wasInterrupted {
			return cmdutil.ErrInterrupted
		}
		var ie *pipeline.InputError
		if errors.As(err, &ie) {
			return &cmdutil.UsageError{Err: ie.Err, NoHint: true}
		}
		return err
	}
	s.policy.apply(o.IO.ErrOut, rep, time.Now(), o.Quiet)
	if err := write(o, s.renderer, rep); err != nil {
		return err
	}
	if o.Save {
		where, id, err := save(ctx, o, rep, wasInterrupted)
		if err != nil {
			return err
		}
		if !o.Quiet {
			fmt.Fprintf(o.IO.ErrOut, "merlon: scan saved as #%d in %s\n", id, where)
		}
	}
	if !o.Quiet {
		summary(o.IO.ErrOut, rep, o.Output)
	}
	if wasInterrupted {
		return cmdutil.ErrInterrupted
	}
	return s.policy.decide(o.IO.ErrOut, rep, o.Quiet)
}

// write renders the report to --output or stdout. A file is written whole
// or not at all, so a failed run never leaves a half report behind.
func write(o *Options, r report.Renderer, rep *scan.Report) error {
	if o.Output == "" {
		if err := r.Render(o.IO.Out, rep); err != nil {
			return fmt.Errorf("render report: %w", err)
		}
		return nil
	}
	return cmdutil.WriteFile(o.Output, func(w io.Writer) error { return r.Render(w, rep) })
}

// summary prints one closing line on stderr, so a user who sent the report
// to a file still sees the outcome. An ungraded or partial scan says so in
// the same words as the report.
func summary(w io.Writer, rep *scan.Report, output string) {
	c := rep.Counts()
	dest := ""
	if output != "" {
		dest = "; report written to " + output
	}
	grade := fmt.Sprintf("grade %s (%d/100)", rep.Score.Grade, rep.Score.Overall)
	switch {
	case rep.Score.Grade == score.Ungraded || !score.Conclusive(rep.Coverage):
		grade = "not graded (the scan proves nothing: " + score.Inconclusive(rep.Coverage) + ")"
	case score.Partial(rep):
		grade = fmt.Sprintf("grade %s (partial: %d/100 at best, the scan did not finish)", rep.Score.Grade, rep.Score.Overall)
	}
	fmt.Fprintf(w, "merlon: %s, %d findings (%d critical, %d high, %d medium, %d low, %d info), %d requests%s\n",
		grade, len(rep.Findings), c[scan.Critical], c[scan.High], c[scan.Medium], c[scan.Low], c[scan.Info], rep.Coverage.Requests, dest)
}

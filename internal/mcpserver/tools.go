package mcpserver

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/merlonsec/merlon/internal/checks"
	"github.com/merlonsec/merlon/internal/pipeline"
	"github.com/merlonsec/merlon/internal/report"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
)

// topFindings is how many findings scan_api returns; get_scan has the rest.
const topFindings = 10

// maxScans is how many scans run at once; further scan_api calls wait, so
// an assistant firing many calls cannot flood the targets or the machine.
const maxScans = 2

// handlers holds what the tools share.
type handlers struct {
	opts  Options
	store *store
	slots chan struct{} // one token per running scan
}

// scanAPI is scan_api. Every failure, from a bad URL to an unreachable
// target, is returned as an error, which the SDK turns into a tool result
// with isError set: the assistant reads why and can correct itself.
func (h *handlers) scanAPI(ctx context.Context, _ *mcp.CallToolRequest, in ScanInput) (*mcp.CallToolResult, *ScanOutput, error) {
	cfg, err := h.config(in)
	if err != nil {
		return nil, nil, err
	}
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("scan %s: %w", cfg.Target, ctx.Err())
	}
	started := time.Now()
	h.opts.Logger.Info("scan started", "target", cfg.Target.String(), "profile", cfg.Profile, "active", cfg.Active)
	rep, err := pipeline.Run(ctx, cfg)
	if err != nil {
		h.opts.Logger.Warn("scan failed", "target", cfg.Target.String(), "err", err)
		var ie *pipeline.InputError
		if errors.As(err, &ie) {
			return nil, nil, fmt.Errorf("invalid input: %w", ie.Err)
		}
		return nil, nil, fmt.Errorf("scan %s: %w", cfg.Target, err)
	}
	id := newID(started)
	out := summarize(id, rep)
	if err := h.store.put(id, rep); err != nil {
		h.opts.Logger.Warn("scan not saved", "scan_id", id, "err", err)
		out.Warnings = append(out.Warnings, fmt.Sprintf("the scan is kept in memory only: %v", err))
	}
	h.opts.Logger.Info("scan finished", "scan_id", id, "grade", rep.Score.Grade, "findings", len(rep.Findings))
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: summaryText(out)}}}, out, nil
}

// config checks scan_api's arguments and turns them into a pipeline
// configuration with the server's time bound.
func (h *handlers) config(in ScanInput) (pipeline.Config, error) {
	var cfg pipeline.Config
	target, err := pipeline.ParseTarget(in.URL)
	if err != nil {
		return cfg, fmt.Errorf("invalid url: %w", err)
	}
	cfg.Target = target
	switch p := scan.Profile(strings.ToLower(strings.TrimSpace(in.Profile))); p {
	case "":
		cfg.Profile = scan.Quick
	case scan.Quick, scan.Standard, scan.Deep:
		cfg.Profile = p
	default:
		return cfg, fmt.Errorf("unknown profile %q (want quick, standard or deep)", in.Profile)
	}
	hdr := http.Header{}
	for name, value := range in.Headers {
		name = strings.TrimSpace(name)
		if name == "" || strings.ContainsAny(name, " \t\r\n:") {
			return cfg, fmt.Errorf("invalid header name %q", name)
		}
		if strings.ContainsAny(value, "\r\n") {
			return cfg, fmt.Errorf("invalid header %q: value contains a line break", name)
		}
		hdr.Add(name, strings.TrimSpace(value))
	}
	cfg.Headers = hdr
	selected, err := checks.Select(h.opts.Checks, in.Checks, nil)
	if err != nil {
		return cfg, fmt.Errorf("invalid checks: %w", err)
	}
	if len(selected) == 0 {
		return cfg, errors.New("invalid checks: no check selected")
	}
	cfg.Checks = selected
	cfg.Spec = strings.TrimSpace(in.Spec)
	cfg.Active = in.Active
	cfg.Rate = 100
	cfg.Concurrency = 8
	cfg.Timeout = 10 * time.Second
	cfg.MaxTime = min(h.opts.MaxTime, pipeline.Defaults(cfg.Profile).MaxTime)
	cfg.Logger = h.opts.Logger
	cfg.ToolVersion = h.opts.Version
	return cfg, nil
}

// summarize is scan_api's structured result for rep.
func summarize(id string, rep *scan.Report) *ScanOutput {
	out := &ScanOutput{
		ScanID:      id,
		Target:      safe(rep.Target),
		Grade:       rep.Score.Grade,
		Score:       rep.Score.Overall,
		Counts:      map[string]int{},
		Findings:    len(rep.Findings),
		TopFindings: []FindingBrief{},
		Operations:  rep.Coverage.Operations,
		Reached:     rep.Coverage.Reached,
		Interrupted: rep.Interrupted,
	}
	counts := rep.Counts()
	for _, s := range scan.Severities() {
		out.Counts[s.String()] = counts[s]
	}
	for i, f := range ordered(rep.Findings) {
		if i == topFindings {
			break
		}
		out.TopFindings = append(out.TopFindings, FindingBrief{
			Title:      safe(f.Title),
			Severity:   f.Severity.String(),
			Confidence: f.Confidence.String(),
			Operation:  safe(f.Operation),
			CheckID:    f.CheckID,
		})
	}
	for _, w := range rep.Warnings {
		out.Warnings = append(out.Warnings, safe(w))
	}
	return out
}

// ordered sorts findings most severe first, then most certain, keeping the
// report's order among equals.
func ordered(fs []scan.Finding) []scan.Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b scan.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(b.Confidence, a.Confidence))
	})
	return out
}

// summaryText is the few lines a person (or an assistant without
// structured output) reads from scan_api.
func summaryText(o *ScanOutput) string {
	var b strings.Builder
	grade := fmt.Sprintf("grade %s (%d/100)", o.Grade, o.Score)
	if o.Grade == score.Ungraded {
		grade = "not graded: the scan reached too little of the API to conclude"
	}
	fmt.Fprintf(&b, "Merlon scan %s of %s: %s, %d findings", o.ScanID, o.Target, grade, o.Findings)
	var parts []string
	for _, s := range scan.Severities() {
		if n := o.Counts[s.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "; %d of %d operations answered.\n", o.Reached, o.Operations)
	if o.Interrupted {
		b.WriteString("The scan ran out of time: the findings are partial.\n")
	}
	if len(o.TopFindings) > 0 {
		b.WriteString("Top findings:\n")
	}
	for _, f := range o.TopFindings {
		where := cmp.Or(f.Operation, "whole API")
		fmt.Fprintf(&b, "- [%s, %s] %s: %s (%s)\n", f.Severity, f.Confidence, f.Title, where, f.CheckID)
	}
	fmt.Fprintf(&b, "Call get_scan with scan_id %q for evidence and remediation.", o.ScanID)
	return b.String()
}

// getScan is get_scan: the stored report rendered in a text format.
func (h *handlers) getScan(_ context.Context, _ *mcp.CallToolRequest, in GetScanInput) (*mcp.CallToolResult, any, error) {
	formats := offeredFormats()
	format := strings.ToLower(strings.TrimSpace(in.Format))
	if format == "" {
		format = formats[0]
	}
	if !slices.Contains(formats, format) {
		return nil, nil, fmt.Errorf("unknown format %q (want one of %s)", in.Format, strings.Join(formats, ", "))
	}
	rep, err := h.store.get(strings.TrimSpace(in.ScanID))
	if errors.Is(err, errNoScan) {
		return nil, nil, fmt.Errorf("no scan with scan_id %q; call list_scans for the known ones", in.ScanID)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read scan: %w", err)
	}
	r, err := report.New(format, report.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("render scan: %w", err)
	}
	var buf bytes.Buffer
	if err := r.Render(&buf, rep); err != nil {
		return nil, nil, fmt.Errorf("render scan: %w", err)
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: buf.String()}}}, nil, nil
}

// listScans is list_scans.
func (h *handlers) listScans(_ context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, *ListScansOutput, error) {
	scans, problems, err := h.store.list()
	if err != nil {
		return nil, nil, err
	}
	out := &ListScansOutput{Scans: []ScanEntry{}, Warnings: problems}
	for _, s := range scans {
		out.Scans = append(out.Scans, ScanEntry{
			ScanID:    s.id,
			Target:    safe(s.rep.Target),
			Grade:     s.rep.Score.Grade,
			Score:     s.rep.Score.Overall,
			Findings:  len(s.rep.Findings),
			StartedAt: s.rep.StartedAt,
		})
	}
	return nil, out, nil
}

// maxText bounds one string that came from the target.
const maxText = 300

// safe readies text that may come from the target (operation paths from
// its spec, warnings quoting its answers) for an assistant: control
// characters and invisible reordering marks are shown as escapes so they
// cannot fake lines or hide text, invalid UTF-8 is escaped, and the length
// is bounded.
func safe(s string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); {
		if n == maxText {
			b.WriteString("…")
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0x061c, r == 0x200b, r == 0x200e, r == 0x200f, r >= 0x2028 && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0xfeff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
		n++
	}
	return b.String()
}

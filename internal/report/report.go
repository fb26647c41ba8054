// Package report turns a scan.Report into the formats people and tools
// read. Each format lives in its own package with one Renderer; New is the
// single switch that picks one, so adding a format is one package and one
// case here. Format packages do not import this one: it imports them.
package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/merlonsec/merlon/internal/report/html"
	"github.com/merlonsec/merlon/internal/report/json"
	"github.com/merlonsec/merlon/internal/report/junit"
	"github.com/merlonsec/merlon/internal/report/markdown"
	"github.com/merlonsec/merlon/internal/report/pdf"
	"github.com/merlonsec/merlon/internal/report/sarif"
	"github.com/merlonsec/merlon/internal/report/text"
	"github.com/merlonsec/merlon/internal/scan"
)

// Renderer writes one report in one format. It writes only to w (never to
// os.Stdout), does not modify r, and returns the first write error.
type Renderer interface {
	Render(w io.Writer, r *scan.Report) error
}

// Options tune the formats meant for people; machine formats ignore them.
type Options struct {
	// Color adds ANSI colour. The CLI sets it only when writing to a TTY.
	Color bool
	// Verbose shows full evidence: every exchange, every header, whole bodies.
	Verbose bool
}

// formats lists the names New accepts, in the order help texts show them.
var formats = []string{"text", "json", "sarif", "junit", "markdown", "html", "pdf"}

// Formats returns the names New accepts.
func Formats() []string { return append([]string(nil), formats...) }

// New returns the renderer for a format named in Formats, case-insensitively.
// It does no I/O.
func New(format string, opts Options) (Renderer, error) {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "text":
		return &text.Renderer{Color: opts.Color, Verbose: opts.Verbose}, nil
	case "json":
		return json.Renderer{}, nil
	case "sarif":
		return sarif.Renderer{}, nil
	case "junit":
		return junit.Renderer{}, nil
	case "markdown":
		return markdown.Renderer{}, nil
	case "html":
		return html.Renderer{}, nil
	case "pdf":
		return pdf.Renderer{}, nil
	}
	return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(formats, ", "))
}

// Package json renders a scan report as indented JSON: the machine-readable
// format that `merlon report` and `merlon diff` read back, documented field
// by field in docs/json-report.md.
package json

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/merlonsec/merlon/internal/scan"
)

// Renderer writes a report as JSON. The zero value is ready to use.
type Renderer struct{}

// Render writes r as indented JSON, fields in the order of scan.Report
// (schemaVersion first) and map keys sorted, so the same report always
// gives the same bytes. Lists that consumers iterate (findings, checks,
// score categories) are always arrays, never null. A report without a
// schemaVersion is written with the current one, so that every report
// Merlon writes can be read back. <, > and & in strings are written as
// \u003c, \u003e and \u0026: target text stays inert even if a report is
// served as HTML by mistake. Invalid UTF-8 from the target is written as
// U+FFFD, since JSON strings cannot carry it.
func (Renderer) Render(w io.Writer, r *scan.Report) error {
	if r == nil {
		return errors.New("render json: nil report")
	}
	out := *r
	if out.SchemaVersion == "" {
		out.SchemaVersion = scan.SchemaVersion
	}
	if out.Findings == nil {
		out.Findings = []scan.Finding{}
	}
	if out.Checks == nil {
		out.Checks = []scan.CheckResult{}
	}
	if out.Score.Categories == nil {
		out.Score.Categories = []scan.CategoryScore{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return fmt.Errorf("render json: %w", err)
	}
	return nil
}

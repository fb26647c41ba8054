package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
)

// Errors ReadJSON wraps, so that callers can tell a wrong file from a
// report written by an incompatible Merlon.
var (
	// ErrNotReport: the input is JSON but has no schemaVersion, so it is
	// not a Merlon report.
	ErrNotReport = errors.New("not a Merlon JSON report (no schemaVersion)")
	// ErrSchemaVersion: the report's schemaVersion has another major
	// version than this Merlon reads.
	ErrSchemaVersion = errors.New("unsupported report schemaVersion")
)

// ReadJSON reads a report written by the json format, for commands that
// work on saved reports. It accepts any schemaVersion with the same major
// version as scan.SchemaVersion ("1", "1.2"): minor versions only add
// fields, which it ignores. Another major version fails with an error
// wrapping ErrSchemaVersion that names both versions; input without a
// schemaVersion fails with ErrNotReport.
func ReadJSON(r io.Reader) (*scan.Report, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read json report: %w", err)
	}
	var head struct {
		SchemaVersion *string `json:"schemaVersion"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("read json report: %w", err)
	}
	if head.SchemaVersion == nil || *head.SchemaVersion == "" {
		return nil, fmt.Errorf("read json report: %w", ErrNotReport)
	}
	if got, want := major(*head.SchemaVersion), major(scan.SchemaVersion); got != want {
		return nil, fmt.Errorf("read json report: %w %q: this Merlon reads version %s.x; use a Merlon release that matches the report",
			ErrSchemaVersion, *head.SchemaVersion, want)
	}
	var rep scan.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, fmt.Errorf("read json report: %w", err)
	}
	if rep.Findings == nil {
		rep.Findings = []scan.Finding{}
	}
	return &rep, nil
}

func major(v string) string {
	m, _, _ := strings.Cut(strings.TrimSpace(v), ".")
	return m
}

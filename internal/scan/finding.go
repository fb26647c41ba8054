package scan

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Finding is one weakness found on one place of the target.
type Finding struct {
	CheckID    string     `json:"checkId"`
	Title      string     `json:"title"`
	Severity   Severity   `json:"severity"`
	Confidence Confidence `json:"confidence"`
	CWE        int        `json:"cwe"`
	Category   Category   `json:"owasp"`
	// Operation is the operation the finding is on, as "METHOD /path";
	// empty for findings about the whole target.
	Operation string `json:"operation,omitempty"`
	// Location narrows it further: a header, parameter or property name.
	Location    string `json:"location,omitempty"`
	Description string `json:"description"`
	Remediation string `json:"remediation,omitempty"`
	// Evidence holds the exchanges that prove the finding, in the order sent.
	Evidence []Evidence `json:"evidence,omitempty"`
	// Fingerprint identifies the same finding across scans; see Fingerprint.
	Fingerprint string `json:"fingerprint"`
	// Suppressed is set when an accepted-risk entry covers the finding. It
	// stays in the report so the decision is visible, but counts for
	// neither the score nor a CI gate.
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// Suppression records why a finding is accepted and until when.
type Suppression struct {
	// Reason is the justification the suppressions file gives.
	Reason string `json:"reason"`
	// Expires is the last day (YYYY-MM-DD) the acceptance holds.
	Expires string `json:"expires"`
}

// Evidence is one exchange and what in it matters.
type Evidence struct {
	Exchange
	// Note says what this exchange shows ("canary read back", "baseline").
	Note string `json:"note,omitempty"`
	// Matched is the text in the response that the check matched on.
	Matched string `json:"matched,omitempty"`
}

// Fingerprint returns a stable identity for a finding: the hex SHA-256 of
// the check ID, the target's scheme+host+port, the operation and the
// location, joined by NUL bytes. Nothing volatile (timestamps, evidence,
// canary values, ports chosen at random by the scanner) goes in, so the same
// weakness on the same place has the same fingerprint on the next run, and
// a baseline or a dashboard status follows it.
func Fingerprint(checkID, target, operation, location string) string {
	h := sha256.New()
	for i, s := range []string{checkID, strings.ToLower(target), operation, location} {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// FromMeta starts a finding with the check's identity filled in.
func FromMeta(m Meta) Finding {
	return Finding{
		CheckID:  m.ID,
		Title:    m.Title,
		Severity: m.Severity,
		CWE:      m.CWE,
		Category: m.Category,
	}
}

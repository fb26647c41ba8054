package gate

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/merlonsec/merlon/internal/scan"
)

// dateLayout is the layout of an expiry date: a calendar day, no time.
const dateLayout = "2006-01-02"

// Suppression is one accepted risk from a suppressions file. It matches a
// finding by Fingerprint, or by Check and, when given, Operation.
type Suppression struct {
	Fingerprint string `yaml:"fingerprint"`
	Check       string `yaml:"check"`
	// Operation is "METHOD /path"; empty matches every operation of Check.
	Operation string `yaml:"operation"`
	// Reason is why the risk is accepted. Required.
	Reason string `yaml:"reason"`
	// Expires is the last day (YYYY-MM-DD) the suppression applies.
	// Required, so that every accepted risk is looked at again.
	Expires string `yaml:"expires"`
}

// ParseSuppressions reads a suppressions file: a YAML list of entries with
// the fields of Suppression. Unknown fields, entries that match nothing
// (neither fingerprint nor check), and missing or malformed reasons and
// dates are errors that name the entry.
func ParseSuppressions(r io.Reader) ([]Suppression, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var sups []Suppression
	if err := dec.Decode(&sups); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("parse suppressions: %s (want a list of entries with fingerprint or check, operation, reason, expires)",
				strings.Join(te.Errors, "; "))
		}
		return nil, fmt.Errorf("parse suppressions: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	for i := range sups {
		s := &sups[i]
		s.Fingerprint = strings.ToLower(strings.TrimSpace(s.Fingerprint))
		s.Check = strings.TrimSpace(s.Check)
		s.Operation = normalizeOperation(s.Operation)
		s.Reason = strings.TrimSpace(s.Reason)
		s.Expires = strings.TrimSpace(s.Expires)
		n := i + 1
		switch {
		case s.Fingerprint == "" && s.Check == "":
			return nil, fmt.Errorf("suppression %d: needs a fingerprint or a check", n)
		case s.Reason == "":
			return nil, fmt.Errorf("suppression %d: reason is required", n)
		case s.Expires == "":
			return nil, fmt.Errorf("suppression %d: expires (YYYY-MM-DD) is required", n)
		}
		if _, err := time.Parse(dateLayout, s.Expires); err != nil {
			return nil, fmt.Errorf("suppression %d: expires %q is not a date like 2025-12-31", n, s.Expires)
		}
	}
	return sups, nil
}

// Expired reports whether the suppression no longer applies on the day of
// now: it holds through its Expires day and lapses the day after.
func (s Suppression) Expired(now time.Time) bool {
	return now.Format(dateLayout) > s.Expires
}

// Matches reports whether the suppression covers f, expired or not.
func (s Suppression) Matches(f scan.Finding) bool {
	if s.Fingerprint != "" {
		return strings.EqualFold(s.Fingerprint, f.Fingerprint)
	}
	if !strings.EqualFold(s.Check, f.CheckID) {
		return false
	}
	return s.Operation == "" || s.Operation == normalizeOperation(f.Operation)
}

func (s Suppression) name() string {
	if s.Fingerprint != "" {
		return "fingerprint " + s.Fingerprint
	}
	if s.Operation != "" {
		return s.Check + " on " + s.Operation
	}
	return s.Check
}

// normalizeOperation upper-cases the method of "METHOD /path" and trims
// space, so that "get /users" in a file matches "GET /users".
func normalizeOperation(op string) string {
	op = strings.TrimSpace(op)
	method, path, ok := strings.Cut(op, " ")
	if !ok {
		return op
	}
	return strings.ToUpper(method) + " " + strings.TrimSpace(path)
}

package scan

import (
	"fmt"
	"strings"
)

// Severity ranks how much harm a finding allows. The zero value is Info, so a
// finding that forgets to set one never outranks a real one.
type Severity int

// Severities from least to most severe.
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// Severities lists every severity from most to least severe, the order
// reports use.
func Severities() []Severity { return []Severity{Critical, High, Medium, Low, Info} }

func (s Severity) String() string {
	if s < Info || s > Critical {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name, case-insensitively.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Severity(i), nil
		}
	}
	return Info, fmt.Errorf("unknown severity %q (want one of critical, high, medium, low, info)", s)
}

// MarshalText writes the severity's name, so JSON reports read "high", not 3.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity written by MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Confidence says how sure Merlon is that a finding is real.
//   - Confirmed: the weakness was exercised and its effect observed
//     (for example, an injected value read back by a separate request).
//   - Likely: strong evidence that stops short of proof.
//   - Possible: the surface for the weakness exists; a human should look.
type Confidence int

// Confidence levels from least to most sure.
const (
	Possible Confidence = iota
	Likely
	Confirmed
)

var confidenceNames = [...]string{"possible", "likely", "confirmed"}

func (c Confidence) String() string {
	if c < Possible || c > Confirmed {
		return fmt.Sprintf("confidence(%d)", int(c))
	}
	return confidenceNames[c]
}

// ParseConfidence reads a confidence name, case-insensitively.
func ParseConfidence(s string) (Confidence, error) {
	for i, n := range confidenceNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Confidence(i), nil
		}
	}
	return Possible, fmt.Errorf("unknown confidence %q (want one of confirmed, likely, possible)", s)
}

// MarshalText writes the confidence's name.
func (c Confidence) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText reads a confidence written by MarshalText.
func (c *Confidence) UnmarshalText(b []byte) error {
	v, err := ParseConfidence(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

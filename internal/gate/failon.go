package gate

import (
	"fmt"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
)

// FailOn is the --fail-on threshold: findings at or above Severity fail the
// gate, only those absent from the baseline when NewOnly is set.
type FailOn struct {
	Severity scan.Severity
	NewOnly  bool
}

// ParseFailOn reads "[new:]SEVERITY", such as "high" or "new:medium".
func ParseFailOn(s string) (FailOn, error) {
	var f FailOn
	rest := strings.TrimSpace(s)
	if p, ok := cutPrefixFold(rest, "new:"); ok {
		f.NewOnly = true
		rest = p
	}
	sev, err := scan.ParseSeverity(rest)
	if err != nil {
		return FailOn{}, fmt.Errorf("%w (syntax: [new:]SEVERITY, such as high or new:high)", err)
	}
	f.Severity = sev
	return f, nil
}

// String writes f back in the syntax ParseFailOn reads.
func (f FailOn) String() string {
	if f.NewOnly {
		return "new:" + f.Severity.String()
	}
	return f.Severity.String()
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

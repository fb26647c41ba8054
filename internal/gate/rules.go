package gate

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Action is what a rules file says to do with a check's findings.
type Action int

const (
	// Default leaves the finding to --fail-on.
	Default Action = iota
	// Ignore drops the findings from the report.
	Ignore
	// Warn keeps them in the report but never fails the gate on them.
	Warn
	// Fail fails the gate on any of them, whatever --fail-on says.
	Fail
)

var actionNames = [...]string{Default: "DEFAULT", Ignore: "IGNORE", Warn: "WARN", Fail: "FAIL"}

func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return fmt.Sprintf("Action(%d)", int(a))
	}
	return actionNames[a]
}

// Rule is one line of a rules file.
type Rule struct {
	// Match is a check ID ("misconfig.cors") or a family ("misconfig").
	Match   string
	Action  Action
	Comment string
	// Line is the line number in the file, for messages.
	Line int
}

// Rules is a parsed rules file. The zero value has no rule.
type Rules []Rule

// ParseRules reads a rules file: one rule per line, as
//
//	<check-id-or-family> <TAB> IGNORE|WARN|FAIL [<TAB> comment]
//
// Fields may be separated by tabs or spaces; blank lines and lines starting
// with # are skipped. known, when non-nil, lists the valid check IDs: a rule
// naming neither one of them nor one of their families is an error, so a
// typo cannot silently disable a rule. A check named twice is an error too.
func ParseRules(r io.Reader, known []string) (Rules, error) {
	valid := map[string]bool{}
	for _, id := range known {
		valid[strings.ToLower(id)] = true
		valid[strings.ToLower(family(id))] = true
	}
	var rules Rules
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			return nil, fmt.Errorf("line %d: want '<check>\\tIGNORE|WARN|FAIL\\t[comment]', got %q", n, line)
		}
		var act Action
		switch strings.ToUpper(fields[1]) {
		case "IGNORE":
			act = Ignore
		case "WARN":
			act = Warn
		case "FAIL":
			act = Fail
		default:
			return nil, fmt.Errorf("line %d: unknown action %q (want IGNORE, WARN or FAIL)", n, fields[1])
		}
		match := strings.ToLower(fields[0])
		if known != nil && !valid[match] {
			return nil, fmt.Errorf("line %d: unknown check or family %q (see merlon checks)", n, fields[0])
		}
		if prev, dup := seen[match]; dup {
			return nil, fmt.Errorf("line %d: %q already has a rule on line %d", n, fields[0], prev)
		}
		seen[match] = n
		rules = append(rules, Rule{Match: match, Action: act, Comment: strings.Join(fields[2:], " "), Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	return rules, nil
}

// For returns the action for a check: the rule naming its ID wins over the
// rule naming its family, and Default when neither exists.
func (rs Rules) For(checkID string) Action {
	id := strings.ToLower(checkID)
	act := Default
	for _, r := range rs {
		switch r.Match {
		case id:
			return r.Action
		case family(id):
			act = r.Action
		}
	}
	return act
}

// family is the part of a check ID before its first dot.
func family(id string) string {
	f, _, _ := strings.Cut(id, ".")
	return f
}

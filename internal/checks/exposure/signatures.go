package exposure

import (
	"regexp"
	"strings"
)

// signature is text that only a stack trace or a framework's debug page
// contains. Each one needs structure (a file and line number, a frame
// format, a debug page's fixed wording); the words "error" or "exception"
// alone never match, since every API says them in ordinary error bodies.
type signature struct {
	name string
	re   *regexp.Regexp
}

// signatures are ordered from the most specific (a named debug page) to
// the most generic (a bare stack frame), and a response is attributed to
// the first that matches, so that one debug page makes one finding.
var signatures = []signature{
	{"Werkzeug interactive debugger", regexp.MustCompile(`The debugger caught an exception in your WSGI application|<title>[^<]*// Werkzeug Debugger</title>`)},
	{"Django debug page", regexp.MustCompile(`You(?:'|’|&#x27;|&#39;|&rsquo;)re seeing this error because you have (?:<code>)?DEBUG = True`)},
	{"Rails exception page", regexp.MustCompile(`Action Controller: Exception caught`)},
	{"ASP.NET error page", regexp.MustCompile(`Server Error in '[^'\n]*' Application|An unhandled exception occurred while processing the request`)},
	{"Python traceback", regexp.MustCompile(`Traceback (?:<em>)?\(most recent call last\)(?:</em>)?:?|File "[^"\n]+\.py", line \d+, in [\w<>]+`)},
	{"Java stack trace", regexp.MustCompile(`at (?:[\w.$@-]*/+)?(?:[\w$]+\.)+[\w$<>]+\((?:[\w$]+\.(?:java|kt|scala|groovy):\d+|Native Method|Unknown Source)\)`)},
	{".NET stack trace", regexp.MustCompile(`at [\w.` + "`" + `<>\[\],]+\([^)\n]*\) in [^\n]+?\.cs:line \d+`)},
	{"Node.js stack trace", regexp.MustCompile(`at (?:[^\s()]+(?: \[as [^\]\s]+\])? )?\(?(?:file://)?(?:/|[A-Za-z]:\\{1,2})[^\s()"':]+\.(?:js|mjs|cjs|ts):\d+:\d+\)?`)},
	{"PHP error", regexp.MustCompile(`(?:Fatal error|Parse error|Warning|Notice|Deprecated)(?:</b>)?:\s+[^\n]{0,400}? in (?:<b>)?(?:/|[A-Za-z]:\\)[^\s<]+\.php(?:</b>)? on line (?:<b>)?\d+|#\d+ (?:/|[A-Za-z]:\\)[^\s(]+\.php\(\d+\)`)},
	{"Go panic", regexp.MustCompile(`goroutine \d+ \[running\]:|\.go:\d+ \+0x[0-9a-f]+`)},
	{"Ruby backtrace", regexp.MustCompile("[\\w./-]+\\.rb:\\d+:in [`'‘]")},
}

// maxMatched bounds the excerpt put into evidence: enough to show the
// trace, not a whole debug page.
const maxMatched = 400

// Disclosure returns the name of the first signature body matches and an
// excerpt around the match, or "" when body shows no stack trace or debug
// page.
func Disclosure(body string) (name, matched string) {
	for _, s := range signatures {
		loc := s.re.FindStringIndex(body)
		if loc == nil {
			continue
		}
		return s.name, excerpt(body, loc[0], loc[1])
	}
	return "", ""
}

// excerpt returns the text from the start of the line holding the match to
// at most maxMatched bytes later (at least to the match's end), so that the
// evidence shows the matched frame and a few that follow.
func excerpt(body string, start, end int) string {
	from := strings.LastIndexByte(body[:start], '\n') + 1
	if start-from > 120 {
		from = start
	}
	to := max(end, min(len(body), from+maxMatched))
	return strings.ToValidUTF8(strings.TrimSpace(body[from:to]), "")
}

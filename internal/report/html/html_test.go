package html_test

import (
	"bytes"
	"errors"
	"flag"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/merlonsec/merlon/internal/report/html"
	"github.com/merlonsec/merlon/internal/report/reporttest"
	"github.com/merlonsec/merlon/internal/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func render(t testing.TB, rep *scan.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := (html.Renderer{}).Render(&buf, rep); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		report func() *scan.Report
	}{
		{"fixture", reporttest.Fixture},
		{"unreached", reporttest.Unreached},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, tt.report())
			reporttest.Golden(t, filepath.Join("testdata", tt.name+".golden.html"), []byte(got), *update)
		})
	}
}

func TestContent(t *testing.T) {
	out := render(t, reporttest.Fixture())
	for _, want := range []string{
		`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
		`<title>Merlon API security report: https://api.shop.test/v1</title>`,
		`<div class="grade poor" title="grade">F</div>`,
		`Grade F · score 50/100`,
		`<li class="sev-critical">1 critical</li>`,
		`<li class="sev-low">2 low</li>`,
		`<tr><td>API8:2023</td><td>Security Misconfiguration</td><td class="num">90</td><td><div class="bar"><span class="good" style="width: 90%"></span></div></td><td class="num">3</td></tr>`,
		`<tr><th>Operations reached</th><td class="num">12</td></tr>`,
		`<tr><th>Transport errors</th><td class="num">2</td></tr>`,
		`critical, possible · CWE-915 · API3:2023 Broken Object Property Level Authorization`,
		"<pre>PATCH https://api.shop.test/v1/users/41\nAuthorization: Bearer [REDACTED]\nContent-Type: application/json</pre>",
		"<pre>500 Internal Server Error (42ms)\nContent-Type: text/html",
		`<pre>curl -X GET &#39;https://api.shop.test/v1/products&#39; -H &#39;Origin: https://evil.test&#39;</pre>`,
		`<p>Check that the caller owns the object on every request that names one by ID.</p>`,
		`<li><code>input.sqli</code>: parse response of GET /v1/search`,
		`<li><code>ssrf.url-param</code> (skipped: no operation takes a URL)</li>`,
		`<li>2 requests failed: read tcp: connection reset by peer</li>`,
		`took 1m27.5s`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "proves nothing") {
		t.Errorf("a scan that reached 12 operations carries the unreached warning")
	}
	// Findings come most severe first, whatever the report's order.
	last := -1
	for _, title := range []string{"Mass assignment of isAdmin", "Another user&#39;s order is readable",
		"Stack trace in error response", "Security headers missing", "CORS reflects any origin",
		"Deprecated operation still served"} {
		i := strings.Index(out, "</span> "+title+"</summary>")
		if i < 0 {
			t.Fatalf("output lacks the finding %q", title)
		}
		if i < last {
			t.Errorf("finding %q is out of severity order", title)
		}
		last = i
	}
}

func TestUnreached(t *testing.T) {
	out := render(t, reporttest.Unreached())
	for _, want := range []string{
		"WARNING: this scan proves nothing — it is NOT a clean result: none of the 14 operations got an HTTP answer",
		"Grade N/A · not graded",
		"None: an ungraded scan has no scores.",
		"No findings, but nothing was tested.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, bad := range []string{"score 0/100", "No findings.</p>", `class="bar"`} {
		if strings.Contains(out, bad) {
			t.Errorf("an ungraded scan shows %q, as if it were scored", bad)
		}
	}
}

// ownTags are the only elements the page may contain. Target text is
// escaped, so any other tag in the output came from the target.
var ownTags = []string{"!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header",
	"h1", "h2", "h3", "dl", "dt", "dd", "span", "section", "div", "ul", "ol", "li", "p", "table",
	"thead", "tbody", "tr", "th", "td", "details", "summary", "pre", "code", "strong", "footer"}

var (
	tagRe     = regexp.MustCompile(`</?([!A-Za-z][A-Za-z0-9]*)[^>]*>`)
	handlerRe = regexp.MustCompile(`(?i)\s(on[a-z]+|src|href|action|formaction|srcdoc)\s*=`)
)

func TestHostileEscaped(t *testing.T) {
	rep := reporttest.Fixture()
	hostile := `<script>alert(1)</script>"><img src=x onerror=alert(2)>` + reporttest.HostileHTML
	f := &rep.Findings[0]
	f.Title = hostile
	f.Remediation = "Do this:\n\n```\n" + hostile + "\n```\n\n- `" + hostile + "` **" + hostile + "**"
	f.Evidence[0].Response.Header.Set("X-Evil", hostile)
	f.Evidence[0].Request.URL = "https://api.shop.test/" + hostile
	f.Evidence[0].Response.Body = hostile
	rep.Target = hostile
	rep.Stack.Signals = []string{hostile}
	rep.Score.Grade = `"><script>alert(3)</script>`
	out := render(t, rep)

	tags := tagRe.FindAllStringSubmatch(out, -1)
	if len(tags) < 100 {
		t.Fatalf("found %d tags in the output, want the whole page", len(tags))
	}
	for _, m := range tags {
		if !slices.Contains(ownTags, m[1]) {
			t.Errorf("output contains a <%s> element that Merlon does not write", m[1])
		}
		// Inside a tag, only Merlon's own attributes: no handler, no URL.
		if a := handlerRe.FindString(m[0]); a != "" {
			t.Errorf("tag %q has the attribute %q", m[0], a)
		}
	}
	for _, bad := range []string{"<script", "<img", "url(", "@import"} {
		if strings.Contains(out, bad) {
			t.Errorf("output contains %q", bad)
		}
	}
	if want := "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;"; !strings.Contains(out, want) {
		t.Errorf("output lacks the escaped hostile text %q", want)
	}
	// A forged grade is neither trusted as markup nor as a class.
	if !strings.Contains(out, `<div class="grade poor" title="grade">&#34;&gt;&lt;script&gt;`) {
		t.Errorf("a forged grade is not escaped in the grade badge")
	}
}

func TestVisibleControls(t *testing.T) {
	out := render(t, reporttest.Fixture())
	// The terminal escapes and bidi override of the fixture are shown, not
	// passed through for the browser to act on or hide.
	for _, want := range []string{
		`X-Debug: \x1b[2J\x1b[31mOWNED\x1b[0m\x1b]0;pwned\x07`,
		`\xff\xfe\u009b2J\x0dfake\u202eesrever`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, raw := range []string{"\x1b", "\u202e", "\u009b", "\xff", "\r"} {
		if strings.Contains(out, raw) {
			t.Errorf("output contains the raw character %q", raw)
		}
	}
	if !utf8.ValidString(out) {
		t.Errorf("output is not valid UTF-8")
	}
}

func TestRemediationMarkdown(t *testing.T) {
	rep := reporttest.Fixture()
	rep.Findings = rep.Findings[:1]
	rep.Findings[0].Remediation = "Send the header on **every** response:\n\n" +
		"```python\n@app.after_request\ndef hsts(resp):\n    resp.headers[\"X\"] = \"<1>\"\n```\n\n" +
		"- set `max-age` to a year;\n- add `includeSubDomains`\n  once every subdomain serves HTTPS.\n\n" +
		"1. first\n2. second"
	out := render(t, rep)
	for _, want := range []string{
		"<p>Send the header on <strong>every</strong> response:</p>",
		"<pre>@app.after_request\ndef hsts(resp):\n    resp.headers[&#34;X&#34;] = &#34;&lt;1&gt;&#34;</pre>",
		"<ul><li>set <code>max-age</code> to a year;</li><li>add <code>includeSubDomains</code> once every subdomain serves HTTPS.</li></ul>",
		"<ol><li>first</li><li>second</li></ol>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "```") {
		t.Errorf("output keeps a code fence marker")
	}
}

func TestNilReport(t *testing.T) {
	var buf bytes.Buffer
	if err := (html.Renderer{}).Render(&buf, nil); err == nil {
		t.Errorf("Render(nil) = nil error, want one")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	err := (html.Renderer{}).Render(failWriter{}, reporttest.Fixture())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Render to a failing writer = %v, want the write error", err)
	}
}

// TestEvidenceIdentity: each request in the evidence names the identity
// that sent it, right above the request it sent, and a request sent with
// only the global headers names none.
func TestEvidenceIdentity(t *testing.T) {
	out := render(t, reporttest.Fixture())
	for _, want := range []string{
		"Request <span class=\"identity\">sent as alice</span></div>\n<pre>GET https://api.shop.test/v1/orders/7\nAuthorization: Bearer [REDACTED:alice]</pre>",
		"Request <span class=\"identity\">sent as bob</span></div>\n<pre>GET https://api.shop.test/v1/orders/7\nAuthorization: Bearer [REDACTED:bob]</pre>",
		"Request <span class=\"identity\">sent as anonymous (no credentials)</span></div>\n<pre>GET https://api.shop.test/v1/products/%27</pre>",
		"<div class=\"label\">Request</div>\n<pre>PATCH https://api.shop.test/v1/users/41\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

package pdf_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/report/pdf"
	"github.com/merlonsec/merlon/internal/report/reporttest"
	"github.com/merlonsec/merlon/internal/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func render(t *testing.T, rep *scan.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (pdf.Renderer{}).Render(&buf, rep); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return buf.Bytes()
}

// toolRequired reports whether a missing tool must fail the test rather
// than skip it: in CI and on machines set up as a testbed.
func toolRequired() bool {
	return os.Getenv("CI") == "true" || os.Getenv("MERLON_REQUIRE_TESTBED") == "1"
}

// pdftotext extracts the text of a PDF with poppler's pdftotext, keeping
// the layout so that a table row reads as one line.
func pdftotext(t *testing.T, doc []byte) string {
	t.Helper()
	path, err := exec.LookPath("pdftotext")
	if err != nil {
		if toolRequired() {
			t.Fatal("pdftotext is not installed (run scripts/deps.sh: poppler-utils); the PDF report cannot be checked")
		}
		t.Skip("pdftotext is not installed (run scripts/deps.sh: poppler-utils); skipping")
	}
	file := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "-layout", "-enc", "UTF-8", file, "-")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, stderr.String())
	}
	// poppler reports damage it recovered from on stderr; a sound PDF has none.
	if s := strings.TrimSpace(stderr.String()); s != "" {
		t.Errorf("pdftotext complained about the PDF: %s", s)
	}
	return string(out)
}

func TestText(t *testing.T) {
	text := pdftotext(t, render(t, reporttest.Fixture()))
	for _, want := range []string{
		"Merlon API security report",
		"https://api.shop.test/v1",
		"2025-03-14 09:28 UTC",
		"Grade F, score 50/100",
		"6 findings: 1 critical, 1 high, 1 medium, 2 low, 1 info",
		"Coverage: 14 operations parsed, 12 reached, 9 answered 2xx",
		"1 check errored, so what it looks for was not tested: input.sqli.",
		// Every finding's title, in severity order.
		"[1] Mass assignment of isAdmin",
		"[2] Another user's order is readable",
		"[3] Stack trace in error response",
		"[4] Security headers missing",
		"[5] CORS reflects any origin",
		"[6] Deprecated operation still served",
		// Classification.
		"Confidence: possible | CWE-915 | API3:2023 Broken Object Property Level Authorization",
		"API8:2023           Security Misconfiguration",
		// Evidence excerpts.
		"> PATCH https://api.shop.test/v1/users/41",
		"< 500 Internal Server Error",
		`<   psycopg2.errors.SyntaxError: <script>alert("xss")</script><img src=x onerror=alert(1)>`,
		"<   ... 6 more lines",
		// Remediation.
		"Check that the caller owns the object on every request that names one by ID.",
		"Bind request bodies to an explicit allow-list of writable properties.",
		// Compliance mapping.
		"Compliance mapping",
		"PCI DSS 4.0: 6.2.4; 7.2.1, 7.2.2 (access by need to know) | SOC 2: CC6.1, CC6.3",
		"OWASP category",
		"CWE-1059",
		"CC9.2 (vendor risk)",
		// Hostile text is shown as escapes.
		`matched: Traceback (most recent call last):\x1b[2J\x1b[31mOWNED\x1b[0m\x1b]0;pwned\x07`,
		`GET /legacy/\xff\xfe\u009b2J\x0dfake\u202eesrever`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if strings.Contains(text, "proves nothing") {
		t.Errorf("a scan that reached 12 operations carries the unreached warning")
	}
	for _, raw := range []string{"\x1b", "\u202e", "\u009b"} {
		if strings.Contains(text, raw) {
			t.Errorf("PDF text contains the raw character %q", raw)
		}
	}
}

func TestUnreached(t *testing.T) {
	text := pdftotext(t, render(t, reporttest.Unreached()))
	for _, want := range []string{
		"Grade N/A: not graded, the scan proves nothing about this API",
		"WARNING: this scan proves nothing - it is NOT a clean result: none of the 14",
		"None: an ungraded scan has no scores.",
		"No findings, but nothing was tested.",
		"Compliance mapping",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
	if strings.Contains(text, "score 0/100") {
		t.Errorf("an ungraded scan shows a score")
	}
}

// TestHostileText feeds text that fpdf's core fonts cannot hold or that
// could break a PDF string: invalid UTF-8, NUL, emoji, CJK, PDF string
// delimiters, and a line far wider than the page.
func TestHostileText(t *testing.T) {
	rep := reporttest.Fixture()
	f := &rep.Findings[0]
	// Findings[0] is the low "Security headers missing", fourth by severity.
	f.Title = "Bad \xff\xfe bytes ) ( \\ \x00 nul, emoji \U0001F525, CJK 漢字, café €5"
	f.Description = strings.Repeat("A", 5000)
	f.Evidence[0].Response.Body = "line (one) \\\n\x00\x01\x02\n" + strings.Repeat("漢", 300)
	f.Remediation = "Use `escape()`:\n\n```\n) Tj ET BT (injected\n```"
	rep.Target = "https://api.shop.test/v1?x=) Tj (\xc0"
	text := pdftotext(t, render(t, rep))
	for _, want := range []string{
		`[4] Bad \xff\xfe bytes ) ( \ \x00 nul, emoji ?, CJK ??, café €5`,
		`<   line (one) \`,
		`<   \x00\x01\x02`,
		"<   ??????????",
		") Tj ET BT (injected",
		"Use escape():",
		`https://api.shop.test/v1?x=) Tj (\xc0`,
		"[2] Another user's order is readable",
		"Compliance mapping",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}

// TestDeterministic shows the same report gives the same bytes, dated by
// the scan and not by the clock, so a golden hash can pin the output.
func TestDeterministic(t *testing.T) {
	a := render(t, reporttest.Fixture())
	time.Sleep(1100 * time.Millisecond) // a clock-based date would now differ
	b := render(t, reporttest.Fixture())
	if !bytes.Equal(a, b) {
		t.Fatalf("two renders of the same report differ (%d and %d bytes)", len(a), len(b))
	}
	for _, want := range []string{
		"%PDF-1.",
		"/Producer (Merlon)",
		"/CreationDate (D:20250314092820",
		"/ModDate (D:20250314092820",
		"/Creator (Merlon 0.0.0-test)",
	} {
		if !bytes.Contains(a, []byte(want)) {
			t.Errorf("PDF lacks %q", want)
		}
	}
	sum := sha256.Sum256(a)
	// The hash changes with any change to the layout or to fpdf; review
	// the pdftotext output of TestText before refreshing it with -update.
	reporttest.Golden(t, filepath.Join("testdata", "fixture.pdf.sha256"), []byte(hex.EncodeToString(sum[:])+"\n"), *update)
}

func TestNilReport(t *testing.T) {
	var buf bytes.Buffer
	if err := (pdf.Renderer{}).Render(&buf, nil); err == nil {
		t.Errorf("Render(nil) = nil error, want one")
	}
	if buf.Len() != 0 {
		t.Errorf("Render(nil) wrote %d bytes, want none", buf.Len())
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	err := (pdf.Renderer{}).Render(failWriter{}, reporttest.Fixture())
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Render to a failing writer = %v, want the write error", err)
	}
}

// TestEvidenceIdentity: the title of each exchange names the identity that
// sent the request, read back from the PDF's text; an exchange sent with
// only the global headers names none.
func TestEvidenceIdentity(t *testing.T) {
	text := pdftotext(t, render(t, reporttest.Fixture()))
	for _, want := range []string{
		"Evidence 1/2, sent as alice: baseline: the owner reads her order",
		"Evidence 2/2, sent as bob: another identity reads the same order",
		"Evidence 1/1, sent as anonymous (no credentials)",
		"Evidence 1/1: write accepted",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q", want)
		}
	}
}

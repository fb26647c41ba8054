package html_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/merlonsec/merlon/internal/report/reporttest"
	"github.com/merlonsec/merlon/internal/scan"
)

// Payloads planted in the report. Each sets window.__pwned if it ever runs.
const (
	plantScript = `<script>window.__pwned=1</script>`
	plantImg    = `<img src=x onerror="window.__pwned=2">`
	plantSVG    = `<svg onload="window.__pwned=3"></svg>`
	plantFrame  = `<iframe srcdoc="<script>parent.__pwned=4</script>"></iframe>`
	plantClose  = `</pre></details><script>window.__pwned=5</script>`
	plantAttr   = `" onmouseover="window.__pwned=6" x="`
)

// plantedReport is the canonical fixture with script planted in every kind
// of field a target or a forged JSON report controls.
func plantedReport() *scan.Report {
	rep := reporttest.Fixture()
	rep.Target = "https://api.shop.test/v1" + plantAttr
	rep.Stack.Server = plantSVG
	f := &rep.Findings[0]
	f.Title = "Planted " + plantImg
	f.Description = plantSVG + "\n" + plantClose
	f.Location = plantAttr
	f.Remediation = "Escape output.\n\n```\n" + plantClose + "\n```\n\n- `" + plantScript + "` **" + plantImg + "**"
	ev := &f.Evidence[0]
	ev.Request.URL = "https://api.shop.test/v1/users/41?q=" + plantScript
	ev.Request.Body = plantFrame
	ev.Response.Header = http.Header{"X-Evil": {plantImg}, plantSVG: {"name"}}
	ev.Response.Body = "before\n" + plantScript + "\n" + plantImg + "\n" + plantFrame + "\n" + plantClose + "\nafter"
	ev.Matched = plantScript
	ev.Note = plantSVG
	ev.Curl = "curl '" + plantScript + "'"
	rep.Warnings = append(rep.Warnings, plantClose)
	return rep
}

// browserRequired reports whether a missing browser must fail the test
// rather than skip it: in CI and on machines set up as a testbed.
func browserRequired() bool {
	return os.Getenv("CI") == "true" || os.Getenv("MERLON_REQUIRE_TESTBED") == "1"
}

func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if browserRequired() {
		t.Fatal("chromium is not installed (run scripts/deps.sh); the HTML report's browser test cannot run")
	}
	t.Skip("chromium is not installed (run scripts/deps.sh); skipping the HTML report's browser test")
	return ""
}

// browser starts a headless Chromium with a fresh profile and no
// background traffic, bounded by a 60-second deadline.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	return bctx
}

// page is what the test reads back from a loaded page.
type page struct {
	pwned    string // typeof window.__pwned
	text     string // document.body.innerText
	elements int    // script, img, svg and iframe elements in the DOM
}

func load(t *testing.T, ctx context.Context, url string, shot string) page {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate to %s: %v", url, err)
	}
	// Give an onerror or onload handler time to fire had it been parsed.
	if err := chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatalf("wait: %v", err)
	}
	var p page
	var err error
	if p.pwned, err = chromedp.Run(ctx, chromedp.Evaluate[string](`typeof window.__pwned`)); err != nil {
		t.Fatalf("evaluate window.__pwned: %v", err)
	}
	if p.text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`)); err != nil {
		t.Fatalf("evaluate innerText: %v", err)
	}
	if p.elements, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("script, img, svg, iframe").length`)); err != nil {
		t.Fatalf("count elements: %v", err)
	}
	if shot != "" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if len(png) < 1000 {
			t.Errorf("screenshot is %d bytes, want an image of the page", len(png))
		}
		if err := os.WriteFile(shot, png, 0o644); err != nil {
			t.Fatalf("write screenshot: %v", err)
		}
	}
	return p
}

// TestBrowserRunsNoPlantedScript opens the report in headless Chromium and
// shows that script planted in a target's responses stays text. It loads
// the page as rendered, and again with the Content-Security-Policy removed
// so that escaping alone is what is tested; a control page with one raw
// script proves the harness would notice script that runs.
func TestBrowserRunsNoPlantedScript(t *testing.T) {
	ctx := browser(t)
	report := render(t, plantedReport())
	const csp = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`
	if !strings.Contains(report, csp) {
		t.Fatalf("report lacks its Content-Security-Policy %q", csp)
	}
	pages := map[string]string{
		"/report.html":  report,
		"/no-csp.html":  strings.Replace(report, csp, "", 1),
		"/control.html": "<!DOCTYPE html><html><body><p>control</p>" + plantScript + "</body></html>",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)

	control := load(t, ctx, srv.URL+"/control.html", "")
	if control.pwned != "number" {
		t.Fatalf("control page: typeof window.__pwned = %q, want %q: the harness cannot see script run", control.pwned, "number")
	}

	dir := t.TempDir()
	for _, path := range []string{"/report.html", "/no-csp.html"} {
		t.Run(strings.TrimSuffix(path[1:], ".html"), func(t *testing.T) {
			shot := filepath.Join(dir, strings.TrimPrefix(path, "/")+".png")
			p := load(t, ctx, srv.URL+path, shot)
			if p.pwned != "undefined" {
				t.Errorf("typeof window.__pwned = %q, want %q: planted script ran", p.pwned, "undefined")
			}
			if p.elements != 0 {
				t.Errorf("page has %d script, img, svg or iframe elements, want 0", p.elements)
			}
			for _, want := range []string{
				plantScript, plantImg, plantSVG, plantFrame, plantClose,
				"Planted " + plantImg,
				"Grade F · score 50/100",
				"API3:2023 Broken Object Property Level Authorization",
				"https://api.shop.test/v1" + plantAttr,
			} {
				if !strings.Contains(p.text, want) {
					t.Errorf("page text lacks %q", want)
				}
			}
			t.Logf("screenshot: %s", shot)
		})
	}
}

// TestBrowserShowsGrade checks the canonical report as a reader sees it:
// the grade badge, the severity counts and a finding's evidence.
func TestBrowserShowsGrade(t *testing.T) {
	ctx := browser(t)
	file := filepath.Join(t.TempDir(), "report.html")
	var buf bytes.Buffer
	buf.WriteString(render(t, reporttest.Fixture()))
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	p := load(t, ctx, "file://"+file, filepath.Join(t.TempDir(), "fixture.png"))
	grade, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector(".grade").innerText`))
	if err != nil {
		t.Fatalf("read the grade: %v", err)
	}
	if grade != "F" {
		t.Errorf("grade badge shows %q, want %q", grade, "F")
	}
	for _, want := range []string{
		"Grade F · score 50/100",
		"1 critical", "1 high", "1 medium", "2 low", "1 info",
		"Security Misconfiguration",
		"GET https://api.shop.test/v1/orders/7",
		`psycopg2.errors.SyntaxError: <script>alert("xss")</script><img src=x onerror=alert(1)>`,
		"Check that the caller owns the object on every request that names one by ID.",
	} {
		if !strings.Contains(p.text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
}
